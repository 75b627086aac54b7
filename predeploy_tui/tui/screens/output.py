"""Provides the output screen: one run's output full screen, scrollable, searchable, wrapped."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, TextArea
from textual.widgets.text_area import Selection

from predeploy_tui.core.terminal import printable


def find_next(text: str, needle: str, after: int) -> int:
    """Where ``needle`` next occurs after offset ``after``, wrapping to the start (-1: nowhere)."""
    if not needle:
        return -1
    lowered, wanted = text.lower(), needle.lower()
    at = lowered.find(wanted, after)
    return at if at >= 0 else lowered.find(wanted)


def location(text: str, index: int) -> tuple[int, int]:
    """The (row, column) of an offset into ``text``."""
    return text.count("\n", 0, index), index - (text.rfind("\n", 0, index) + 1)


def offset(text: str, where: tuple[int, int]) -> int:
    """The offset into ``text`` of a (row, column)."""
    row, column = where
    return sum(len(line) + 1 for line in text.split("\n")[:row]) + column


class OutputScreen(Screen[None]):
    """The output of the run named in the item's result line, the whole screen for it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,o", "close", "Back", id="output.close", tooltip="Back to the checklist"),
        Binding("w", "wrap", "Wrap", id="output.wrap", tooltip="Wrap long lines or scroll sideways"),
        Binding("slash", "search", "Search", id="output.search", tooltip="Find text in the output"),
        Binding("n", "again", "Next match", id="output.next", tooltip="Go to the next match"),
    ]

    def __init__(self, heading: str, text: str) -> None:
        super().__init__()
        self.heading = heading
        self.text = printable(text)
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Static(self.heading, id="output-heading")
        yield Input(placeholder="Find in the output (enter: next)", id="output-search")
        yield TextArea(self.text or "(no output)", id="output-text", read_only=True, soft_wrap=True,
                       show_line_numbers=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#output-search", Input).display = False
        self.query_one("#output-text", TextArea).focus()

    def action_close(self) -> None:
        """Back to the checklist (Esc in the search box only leaves the search)."""
        search = self.query_one("#output-search", Input)
        if search.display:
            search.display = False
            self.query_one("#output-text", TextArea).focus()
            return
        self.dismiss(None)

    def action_wrap(self) -> None:
        """Toggle wrapping of long lines."""
        area = self.query_one("#output-text", TextArea)
        area.soft_wrap = not area.soft_wrap
        self.notify("wrapping long lines" if area.soft_wrap else "long lines scroll sideways",
                    timeout=2)

    def action_search(self) -> None:
        """Open the search box."""
        search = self.query_one("#output-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#output-search")
    def _searched(self, event: Input.Submitted) -> None:
        self.needle = event.value
        event.input.display = False  # the needle is kept: n finds the next match
        self.query_one("#output-text", TextArea).focus()
        self.action_again()

    def action_again(self) -> None:
        """Select the next match of the search text."""
        area = self.query_one("#output-text", TextArea)
        text = area.text
        at = find_next(text, self.needle, offset(text, area.selection.end))
        if at < 0:
            if self.needle:
                self.notify(f"not found: {self.needle}", severity="warning", timeout=2)
            return
        area.selection = Selection(location(text, at), location(text, at + len(self.needle)))
        area.scroll_cursor_visible(center=True)
