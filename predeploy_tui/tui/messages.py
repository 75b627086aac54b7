"""Provides the app-wide messages: engine events turned into small dataclasses the UI handles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from textual.message import Message

from predeploy_tui.core.results import CheckResult


@dataclass
class CheckStarted(Message):
    """A check began running (once per host for a host group)."""

    key: str
    """The item key."""
    host: str | None
    """The host it runs on, None for this machine."""


@dataclass
class OutputArrived(Message):
    """New output is waiting in the run buffers; coalesced, since the buffers hold the text."""

    def can_replace(self, message: Message) -> bool:
        """One pending notice stands for any number of chunks."""
        return isinstance(message, OutputArrived)


@dataclass
class CheckFinished(Message):
    """An item has its result (the aggregate for a host group)."""

    key: str
    """The item key."""
    result: CheckResult
    """What the run produced, redacted and capped by the engine."""


@dataclass
class RunFinished(Message):
    """A run (one item, a section or everything) ended, completed or cancelled."""

    name: str
    """The run's worker name."""
    keys: tuple[str, ...]
    """The items it covered."""


@dataclass
class SessionSaved(Message):
    """The session file was written."""

    at: datetime
    """When (UTC)."""


@dataclass
class SessionChanged(Message):
    """Something in the session changed: the header, tree and detail redraw on the next tick."""

    def can_replace(self, message: Message) -> bool:
        """Many changes need one redraw."""
        return isinstance(message, SessionChanged)


@dataclass
class JumpToItem(Message):
    """Select an item in the tree (from a verdict reason or a search hit)."""

    key: str
    """The item key."""


@dataclass
class Compared(Message):
    """The open session was compared with an earlier one and the result shown."""

    old: Path
    """The earlier session file."""
    lines: tuple[str, ...]
    """What ``core.compare`` said, line by line."""


@dataclass
class SessionCommitted(Message):
    """The session file was committed to git."""

    path: Path
    """The session file."""
    commit: str
    """The new commit id."""
