"""Provides the session recorder: a run listener that writes results into a session and saves it.

A started check marks the item ``running`` (so a crash leaves it visibly interrupted), a finished
one records its result; each change is saved atomically. With ``save_delay`` the saves are
throttled: a change after a quiet spell is saved at once, and a burst of changes (a hundred
checks finishing together) is saved at most once per ``save_delay`` seconds, so a kill loses at
most that long and a big run does not rewrite the file for every event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from predeploy_tui.core import store
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session, SessionRuleError
from predeploy_tui.engine.base import ItemFinished, ItemStarted, RunEvent

log = logging.getLogger(__name__)


class SessionRecorder:
    """Writes run events into a session and saves the file."""

    def __init__(self, session: Session, path: Path | None, *, clock: Callable[[], datetime],
                 save_delay: float = 0.0, by: str = "", role: str = "deployer",
                 on_saved: Callable[[], None] | None = None) -> None:
        self.session = session
        self.path = path
        self._clock = clock
        self._save_delay = save_delay
        self._by = by or session.header.get("deployer", "")
        self._role = role
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self._last_save = float("-inf")
        self._on_saved = on_saved
        self.saves = 0
        """How many times the file was written (for tests and the status bar)."""

    def __call__(self, event: RunEvent) -> None:
        """Record one event and save (now, or after ``save_delay``)."""
        now = self._clock()
        try:
            if isinstance(event, ItemStarted):
                if self._role == "reviewer":
                    return  # a reviewer's re-run never touches the deployer's status
                state = self.session.item(event.key)
                if state.status is not Status.RUNNING:
                    self.session.mark_running(event.key, self._by, now)
            elif isinstance(event, ItemFinished):
                self.session.record_result(event.key, event.result, now)
            else:
                return
        except SessionRuleError:
            log.warning("the session has no item %s; event not recorded", event.key)
            return
        self._dirty = True
        self._schedule()

    def _schedule(self) -> None:
        if self._save_delay <= 0:
            self.flush()
            return
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        wait = self._last_save + self._save_delay - loop.time()
        if wait <= 0:
            self.flush()
            return
        self._timer = loop.call_later(wait, self._timed_flush)

    def _timed_flush(self) -> None:
        self._timer = None
        self.flush()

    def flush(self) -> None:
        """Save now if anything is pending."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._dirty and self.path is not None:
            self._dirty = False
            store.save(self.session, self.path)
            self.saves += 1
            try:
                self._last_save = asyncio.get_running_loop().time()
            except RuntimeError:
                pass
        self._dirty = False
        if self._on_saved is not None:
            self._on_saved()

    def close(self) -> None:
        """Save what is pending and stop the timer."""
        self.flush()
