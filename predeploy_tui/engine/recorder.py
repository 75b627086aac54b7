"""Provides the one recorder of check results and the one throttled saver, for the app and ``run``.

:class:`SessionRecorder` is the run listener: a started check marks the item ``running`` (so a
crash leaves it visibly interrupted; a reviewer's re-run never touches the deployer's status), a
finished one records its result, and each change calls the ``changed`` callback it was given.

:class:`SessionSaver` decides when that change reaches the file and writes it atomically. The rule
lives here once: a change after a quiet spell is saved at once; in a burst (a hundred checks
finishing together) a save starts at most every ``delay`` seconds, so a kill loses at most that
long and a big run does not rewrite the file for every event. ``run`` lets the saver schedule
itself on the event loop (:meth:`SessionSaver.soon`); the app asks :meth:`SessionSaver.due` on its
tick and writes on a worker thread (:meth:`render` on the loop, :meth:`write` on the thread).
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session, SessionRuleError
from predeploy_tui.core.vocab import Role
from predeploy_tui.engine.base import ItemFinished, ItemStarted, OutputChunk, RunEvent

log = logging.getLogger(__name__)

_T = TypeVar("_T")

Clock = Callable[[], datetime]
"""Where the time of each change is read (tests inject a frozen one)."""

BUSY_GAP = 0.75
"""The app's seconds between the starts of two saves while checks run.

Rendering a session that holds 200 outputs takes a third of a second of the interpreter, which the
UI then shares; results arriving every few milliseconds would otherwise re-render it on every
tick. With the app's quarter-second tick a change still reaches the file within about a second.
"""


def snapshot(session: Session) -> Session:
    """The session as it is now, to render on another thread while this one changes it.

    The session and every mutable record in it (items, the decision, sign-offs, history
    entries) are copied with their lists and dicts; frozen records (results) and strings are
    shared, as nothing changes them. Taken on the loop it costs a few milliseconds where
    rendering costs tens, and the text rendered from it is one moment of the session.
    """
    return _copied(session)


def _copied(value: _T) -> _T:
    if isinstance(value, list):
        return [_copied(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type) \
            and not value.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        out: Any = copy.copy(value)
        for f in dataclasses.fields(value):
            inner = getattr(value, f.name)
            if isinstance(inner, list | dict) or dataclasses.is_dataclass(inner):
                setattr(out, f.name, _copied(inner))
        return out  # type: ignore[no-any-return]
    return value


class SessionRecorder:
    """Writes run events into a session and says when it changed."""

    def __init__(self, session: Session, *, clock: Clock, by: str = "", role: Role = Role.DEPLOYER,
                 changed: Callable[[], None] = lambda: None) -> None:
        self.session = session
        self._clock = clock
        self._by = by or session.header.get("deployer", "")
        self._role = role
        self._changed = changed

    def __call__(self, event: RunEvent) -> None:
        """Record a started or finished item; other events are not the session's business."""
        if isinstance(event, ItemStarted):
            self.started(event.key)
        elif isinstance(event, OutputChunk):
            self.output(event.key, event.text)
        elif isinstance(event, ItemFinished):
            self.record(event.key, event.result)

    def started(self, key: str) -> bool:
        """Mark ``key`` running (once, however many hosts start); False when nothing changed."""
        if self._role == Role.REVIEWER:
            return False  # a reviewer's re-run never touches the deployer's status
        state = self.session.items.get(key)
        if state is None:
            log.warning("the session has no item %s; its start is not recorded", key)
            return False
        if state.status is Status.RUNNING:
            return False
        self.session.mark_running(key, self._by, self._clock())
        self._changed()
        return True

    def output(self, key: str, text: str) -> bool:
        """Keep the tail of a running item's output (already redacted) so a kill leaves evidence of
        how far it got; a reviewer's re-run keeps nothing here."""
        if self._role == Role.REVIEWER or key not in self.session.items:
            return False
        if not self.session.note_output(key, text, self._clock()):
            return False
        self._changed()
        return True

    def record(self, key: str, result: CheckResult) -> bool:
        """Record a finished run of ``key``; False when the session has no such item."""
        try:
            self.session.record_result(key, result, self._clock())
        except SessionRuleError:
            # An item the checklist gained after the session began: the run must go on.
            log.warning("the session has no item %s; its result is not recorded", key)
            return False
        self._changed()
        return True

    def status_of(self, key: str) -> Status:
        """The item's status now, for dependencies (``pending`` when the session lacks it)."""
        state = self.session.items.get(key)
        return state.effective_status(self._clock()) if state is not None else Status.PENDING


class SessionSaver:
    """Remembers that the session changed and writes it atomically, throttled.

    The text is rendered on the caller's thread, so the session is never read while it changes;
    only the write (temp file, fsync, rename) may run elsewhere.
    """

    def __init__(self, session: Session, path: Path | None, *, clock: Clock, delay: float = BUSY_GAP,
                 enabled: bool = True, on_saved: Callable[[], None] | None = None) -> None:
        self.session = session
        self.path = path
        self.clock = clock
        self.delay = delay
        """Seconds between the starts of two saves in a burst."""
        self.enabled = enabled and path is not None
        self.dirty = False
        self.last_saved: datetime | None = None
        self.error = ""
        """Why the last write failed ("" when it did not)."""
        self.last_started = float("-inf")
        """When the last save began (monotonic seconds)."""
        self.renders = 0
        """How many times the session was rendered: what a heavy run costs."""
        self.saves = 0
        """How many times the file was written."""
        self._on_saved = on_saved
        self._timer: asyncio.TimerHandle | None = None

    def changed(self) -> None:
        """Note a change; it is written by the next ``render``/``write`` or ``flush``."""
        if self.enabled:
            self.dirty = True

    def wait(self, busy: bool = True, now: float | None = None) -> float:
        """Seconds until a save of the pending change may start (0: now).

        After a quiet spell of ``delay`` seconds it is at once; while checks run (``busy``) a save
        starts at most every ``delay`` seconds. With nothing running, every change is due at once.
        """
        if not busy:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, self.last_started + self.delay - now)

    def due(self, busy: bool = True, now: float | None = None) -> bool:
        """Whether a save should start now: something changed and :meth:`wait` is over."""
        return self.dirty and self.enabled and self.wait(busy, now) <= 0

    def soon(self) -> None:
        """Note a change and save it when due, by a timer on the running loop (``run``'s way)."""
        self.changed()
        if not self.enabled:
            self._announce()  # nothing is ever written: what waits on a save may go on
            return
        if self._timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        wait = self.wait()
        if wait <= 0:
            self.flush()
        else:
            self._timer = loop.call_later(wait, self._timed_flush)

    def _timed_flush(self) -> None:
        self._timer = None
        self.flush()

    def render(self) -> str | None:
        """The text to write now, or None when nothing changed; clears the dirty mark (a render
        that fails keeps it: the change is still to be saved)."""
        if not self.dirty or not self.enabled:
            return None
        self.dirty = False
        self.last_started = time.monotonic()
        self.renders += 1
        try:
            return store.dumps(self.session)
        except BaseException:
            self.dirty = True
            raise

    def take(self) -> Session | None:
        """A :func:`snapshot` of the session to render on a thread (:meth:`render_copy`), or None
        when nothing changed; clears the dirty mark (:meth:`failed` puts it back)."""
        if not self.dirty or not self.enabled:
            return None
        self.dirty = False
        self.last_started = time.monotonic()
        self.renders += 1
        return snapshot(self.session)

    @staticmethod
    def render_copy(copied: Session) -> str:
        """The text of a snapshot (safe on a worker thread: nothing else holds the copy)."""
        return store.dumps(copied)

    def failed(self, why: str) -> None:
        """A save did not happen (its render failed): the change is still to be saved."""
        self.error = why
        self.dirty = True

    def write(self, text: str) -> None:
        """Write rendered text atomically (safe on a worker thread); a failure is kept in ``error``."""
        assert self.path is not None
        try:
            store.write_atomic(self.path, text)
        except OSError as exc:
            self.error = f"cannot save {self.path}: {exc.strerror}"
            self.dirty = True
            return
        self.error = ""
        self.saves += 1

    def saved(self, at: datetime) -> None:
        """Record the time of the last successful write, and tell ``on_saved`` (never after a
        failed one: what it announces must be on disk)."""
        if self.error:
            return
        self.last_saved = at
        self._announce()

    def _announce(self) -> None:
        if self._on_saved is not None:
            self._on_saved()

    def flush(self) -> bool:
        """Write now if anything is pending; True when a write happened."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        text = self.render()
        if text is None:
            if not self.dirty:
                self._announce()  # nothing pending: everything recorded is on disk
            return False
        self.write(text)
        self.saved(self.clock())
        return not self.error
