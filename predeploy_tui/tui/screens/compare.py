"""Provides the compare view: ask for an earlier session file, then show what changed since it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Static


def newest_other_session(current: Path | None) -> Path | None:
    """The most recently changed other ``*.toml`` beside ``current`` (the likely last release)."""
    if current is None:
        return None
    try:
        candidates = [p for p in current.parent.glob("*.toml")
                      if p.is_file() and p.resolve() != current.resolve()]
        return max(candidates, key=lambda p: p.stat().st_mtime, default=None)
    except OSError:
        return None  # an unreadable folder only means no suggestion


class CompareAsk(ModalScreen[Path | None]):
    """Ask which session file to compare the open one with. Dismisses with the path."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="compare.cancel",
                tooltip="Back to the checklist without comparing"),
    ]

    def __init__(self, suggestion: Path | None, base: Path | None) -> None:
        super().__init__(classes="dialog")
        self.suggestion = suggestion
        self.base = base

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Compare with which session file?", classes="dialog-title")
            yield Static("The earlier release's record: its statuses, thresholds and baselines are "
                         "compared with this session's.")
            yield Input(self._shown(self.suggestion), placeholder="path/to/earlier-session.toml",
                        id="compare-path")
            yield Static(id="compare-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Compare", id="ok", variant="primary")
                yield Button("Cancel (esc)", id="cancel", action="screen.dismiss(None)")

    @staticmethod
    def _shown(path: Path | None) -> str:
        """The suggestion, absolute: a relative one would be read from the session's folder."""
        return "" if path is None else str(path.resolve())

    def on_mount(self) -> None:
        self.query_one("#compare-path", Input).focus()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#compare-path")
    def _submit(self) -> None:
        text = self.query_one("#compare-path", Input).value.strip()
        if not text:
            self.query_one("#compare-error", Static).update("Give the path of a session file.")
            return
        path = Path(text).expanduser()
        if not path.is_absolute() and self.base is not None:
            path = self.base / path
        if not path.is_file():
            self.query_one("#compare-error", Static).update(Text(f"No such file: {path}"))
            return
        self.dismiss(path)


class CompareScreen(Screen[None]):
    """What changed between an earlier session and this one, one line each."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Back", id="compare.back", tooltip="Back to the checklist"),
    ]

    def __init__(self, old: Path, lines: Sequence[str]) -> None:
        super().__init__()
        self.old = old
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare"):
            yield Label(Text(f"Changes since {self.old.name}", style="bold"), id="compare-title")
            yield Static(Text("\n".join(self.lines) if self.lines else "Nothing changed."),
                         id="compare-lines")
        yield Footer(compact=True)
