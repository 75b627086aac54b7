"""Provides the debounced session saver: every change reaches the file within a second, atomically."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from predeploy_tui.core import store
from predeploy_tui.core.session import Session

BUSY_GAP = 0.75
"""Seconds between the starts of two saves while checks run.

Rendering a session that holds 200 outputs takes a third of a second of the interpreter, which the
UI then shares; results arriving every few milliseconds would otherwise re-render it on every
tick. With the app's quarter-second tick a change still reaches the file within about a second.
"""


class SessionSaver:
    """Remembers that the session changed and writes it on the next tick (or at exit).

    The text is rendered on the caller's thread, so the session is never read while it changes;
    only the write (temp file, fsync, rename) may run elsewhere.
    """

    def __init__(self, session: Session, path: Path | None, *, clock: Callable[[], datetime],
                 enabled: bool = True) -> None:
        self.session = session
        self.path = path
        self.clock = clock
        self.enabled = enabled and path is not None
        self.dirty = False
        self.last_saved: datetime | None = None
        self.error = ""
        self.last_started = float("-inf")
        """When the last save began (monotonic seconds)."""
        self.renders = 0
        """How many times the session was rendered: what a heavy run costs."""

    def due(self, busy: bool, now: float | None = None) -> bool:
        """Whether a save should start now: something changed, and while checks run (``busy``)
        the previous save began at least ``BUSY_GAP`` seconds ago."""
        if not self.dirty or not self.enabled:
            return False
        now = time.monotonic() if now is None else now
        return not busy or now - self.last_started >= BUSY_GAP

    def changed(self) -> None:
        """Note a change; it is written by the next ``render``/``write`` or ``flush``."""
        if self.enabled:
            self.dirty = True

    def render(self) -> str | None:
        """The text to write now, or None when nothing changed; clears the dirty mark."""
        if not self.dirty or not self.enabled:
            return None
        self.dirty = False
        self.last_started = time.monotonic()
        self.renders += 1
        return store.dumps(self.session)

    def write(self, text: str) -> None:
        """Write rendered text atomically (safe on a worker thread)."""
        assert self.path is not None
        try:
            store.write_atomic(self.path, text)
        except OSError as exc:
            self.error = f"cannot save {self.path}: {exc.strerror}"
            self.dirty = True
            return
        self.error = ""

    def saved(self, at: datetime) -> None:
        """Record the time of the last successful write."""
        if not self.error:
            self.last_saved = at

    def flush(self) -> bool:
        """Write now if anything is pending; True when a write happened."""
        text = self.render()
        if text is None:
            return False
        self.write(text)
        self.saved(self.clock())
        return not self.error
