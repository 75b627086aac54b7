"""Provides the footer of every screen: Textual's, recomposed only when what it shows changed."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual's footer, recomposed once per refresh at most, and only when it would differ.

    Textual's footer queues a recompose (every key widget removed and mounted anew, then a layout
    of the screen) for each announcement that bindings may have changed: focus moving, a screen
    pushed, ``refresh_bindings``. Opening the app makes five of them, and moving the cursor over
    items of one kind makes more, all drawing the same keys. Here the announcements of one refresh
    share one recompose, which is skipped when the keys, their state and their tooltips are as
    they were drawn.
    """

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._drawn: tuple[object, ...] | None = None
        """What the key widgets show (see ``_shown``); None before the first keys are drawn."""
        self._queued = False
        """A recompose check waits for the next refresh."""

    def _shown(self) -> tuple[object, ...]:
        """Everything ``compose`` draws from: each shown binding (and the command palette's)
        with its state, tooltip and key as displayed, and the footer's own switches."""
        app = self.app
        palette = app.COMMAND_PALETTE_BINDING
        return (self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE,
                self.combine_groups,
                tuple((key, active.binding, active.enabled, active.tooltip,
                       app.get_key_display(active.binding))
                      for key, active in self.screen.active_bindings.items()
                      if active.binding.show or key == palette))

    def compose(self) -> ComposeResult:
        """Textual's keys, remembering what they show."""
        self._drawn = self._shown() if self._bindings_ready else None
        yield from super().compose()

    async def draw_now(self) -> None:
        """Draw the keys now, as they apply (the screen has focused its widget): Textual's footer
        draws nothing until the first announcement, then draws the keys after the first paint,
        which lays out the whole screen a second time."""
        self._bindings_ready = True
        with self._context():  # the keys bind to this footer (``data_bind``) as they compose
            await self.recompose()

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Check once after this refresh whether the keys changed (as Footer does, minus repeats)."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._queued:
            self._queued = True
            self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._queued = False
        if self.is_attached and self._shown() != self._drawn:
            await self.recompose()
