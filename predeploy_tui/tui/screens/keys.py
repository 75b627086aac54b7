"""Provides the keys screen: this screen's own keys first, then those of the focused widget."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


def keys_text(app: App[Any], screen: Screen[Any]) -> Text:
    """The keys that work now: predeploy's (with their ids) first, then the focused widget's."""
    ours: list[tuple[str, str, str]] = []
    widget: list[tuple[str, str]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or binding.action in seen:
            continue
        seen.add(binding.action)
        key = app.get_key_display(binding)
        if binding.id and (active.node is screen or active.node is app):
            ours.append((key, binding.tooltip or binding.description, binding.id))
        elif binding.description:
            widget.append((key, binding.description))
    text = Text()
    text.append("Keys of this screen\n", style="bold underline")
    for key, what, bid in ours:
        text.append(f"  {key:>6}  ", style="bold")
        text.append(what)
        text.append(f"  ({bid})\n", style="dim")
    if widget:
        focused = type(screen.focused).__name__ if screen.focused is not None else "screen"
        text.append(f"\nKeys of the focused {focused}\n", style="bold underline")
        for key, what in widget:
            text.append(f"  {key:>6}  ", style="bold")
            text.append(f"{what}\n")
    return text


def palette_commands(app: App[Any], screen: Screen[Any]) -> Iterator[SystemCommand]:
    """A palette command for every key that applies here: "Run (r)", with its tooltip and id."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not active.enabled or binding.action in seen or not binding.description:
            continue
        seen.add(binding.action)
        yield SystemCommand(f"{binding.description} ({app.get_key_display(binding)})",
                            f"{binding.tooltip or binding.description} · id {binding.id}",
                            partial(app.call_later, app.run_action, binding.action, active.node))


class KeysScreen(ModalScreen[None]):
    """What each key does here; ids are what the keymap file remaps."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,f1", "dismiss", "Close", id="keys.close",
                tooltip="Close the list of keys"),
    ]

    def __init__(self, text: Text) -> None:
        super().__init__(classes="dialog")
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box", id="keys-box"):
            yield Label("Keys (the id in brackets is what keymap.toml remaps)",
                        classes="dialog-title")
            with VerticalScroll(id="keys-list"):
                yield Static(self.text)
