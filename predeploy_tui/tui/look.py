"""Provides how statuses look on screen: glyph, colour and words, in one place."""

from __future__ import annotations

import weakref
from datetime import datetime

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

from predeploy_tui.core.results import Status
from predeploy_tui.core.vocab import VerdictStatus

STATUS_STYLE: dict[Status, str] = {
    Status.PENDING: "dim", Status.RUNNING: "bold cyan", Status.PASS: "green",
    Status.WARN: "yellow", Status.FAIL: "bold red", Status.ERROR: "magenta",
    Status.SKIPPED: "dim", Status.BLOCKED: "yellow", Status.STALE: "yellow",
    Status.DONE: "green", Status.NA: "dim", Status.WAIVED: "blue",
}
"""Rich style of each status; NO_COLOR turns these monochrome, the glyphs still differ."""

VERDICT_STYLE: dict[str, str] = {VerdictStatus.GO: "bold green",
                                 VerdictStatus.CONDITIONAL_GO: "bold yellow",
                                 VerdictStatus.NO_GO: "bold red"}
"""Rich style of each verdict."""


def status_text(status: Status, words: bool = True) -> Text:
    """The glyph (and name) of a status, coloured."""
    return Text(f"{status.glyph} {status.value}" if words else status.glyph,
                style=STATUS_STYLE[status])


def local_time(at: datetime | None, with_date: bool = False) -> str:
    """A UTC time as the deployer's local wall clock."""
    if at is None:
        return "-"
    local = at.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def duration_text(seconds: float | None) -> str:
    """Seconds as a person reads them: 0.42 s, 12.3 s, 2m05s."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


_SHOWN: weakref.WeakKeyDictionary[Static, object] = weakref.WeakKeyDictionary()
_NOTHING = object()


def update_static(widget: Static, content: VisualType, *, layout: bool = True) -> None:
    """Update a Static only when its content differs: each update costs a layout of the screen
    (which repaints every scrollbar), and the detail and header are redrawn many times a second
    while checks run. ``layout=False`` for a widget whose size never follows its content."""
    if _SHOWN.get(widget, _NOTHING) == content:
        return
    _SHOWN[widget] = content
    widget.update(content, layout=layout)


def update_sized(widget: Static, content: VisualType) -> None:
    """Update a Static whose height follows its content, laying out the screen only when that
    height changes: the detail pane shows another item at every key press, and a layout of the
    whole screen for a title of the same one line was most of what the key waited for."""
    if _SHOWN.get(widget, _NOTHING) == content:
        return
    _SHOWN[widget] = content
    size = widget.size
    widget.update(content, layout=False)
    if not widget.display or not size.height or not size.width or widget.styles.height is None \
            or widget.styles.height.is_auto is False:
        widget.refresh(layout=True)
        return
    # The height the layout would give it, measured by the same code (cached on the widget).
    if widget.get_content_height(size, size, size.width) != size.height:
        widget.refresh(layout=True)
