"""Provides the app's side of running checks: one worker per run, engine events -> messages.

The engine is plain asyncio; each run is hosted by one named Textual worker in the ``runs``
group. The engine calls its listeners on the event loop's thread: the engine's
:class:`~predeploy_tui.engine.recorder.SessionRecorder` (the same one ``predeploy run`` uses)
updates the session right there and tells the saver; this module only keeps output in bounded
buffers and posts messages, one coalesced message telling the UI to look at new output, so 200
checks printing thousands of lines never queue thousands of messages.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.worker import Worker

from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.base import ItemFinished, ItemStarted, OutputChunk, RunEvent
from predeploy_tui.engine.recorder import SessionRecorder, SessionSaver
from predeploy_tui.tui import messages
from predeploy_tui.tui.pauses import FullCollections
from predeploy_tui.tui.state import Clock, OpenSession

if TYPE_CHECKING:
    from predeploy_tui.engine.plan import PlannedCheck
    from predeploy_tui.engine.runner import ActionRequest, Runner

BUFFER_CHARS = 200_000
"""Characters of output kept per running item for the screen; the session keeps the real output."""


class OutputBuffer:
    """The recent output of one item (bounded in characters), and how many chunks ever arrived."""

    def __init__(self, limit: int = BUFFER_CHARS) -> None:
        self.chunks: deque[str] = deque()
        self.count = 0
        self.size = 0
        self.limit = limit

    def add(self, text: str) -> None:
        """Keep a chunk, dropping the oldest ones beyond the limit (the newest always stays)."""
        self.chunks.append(text)
        self.count += 1
        self.size += len(text)
        while self.size > self.limit and len(self.chunks) > 1:
            self.size -= len(self.chunks.popleft())

    def since(self, seen: int) -> tuple[str, bool]:
        """The text after the first ``seen`` chunks, and whether older text had to be dropped."""
        new = self.count - seen
        if new <= 0:
            return "", False
        if new > len(self.chunks):
            return "".join(self.chunks), True
        return "".join(itertools.islice(self.chunks, len(self.chunks) - new, None)), False


@dataclass
class Run:
    """One run in progress."""

    name: str
    """The worker's name: ``run local.python``, ``run section local``, ``run all``."""
    keys: tuple[str, ...]
    """The items it covers."""
    finished: set[str] = field(default_factory=set)
    """Items that have their result."""


Confirm = Callable[["ActionRequest"], "asyncio.Future[bool]"]


class RunControl:
    """Starts, tracks and cancels runs for the app."""

    def __init__(self, app: App[Any], opened: OpenSession, saver: SessionSaver, clock: Clock,
                 confirm: Confirm, runner_options: dict[str, object] | None = None) -> None:
        self.app = app
        self.opened = opened
        self.saver = saver
        self.clock = clock
        self.confirm = confirm
        self.runner_options = dict(runner_options or {})
        self.runs: dict[str, Run] = {}
        self.running: set[str] = set()
        """Item keys with a check running now."""
        self.output: dict[str, OutputBuffer] = {}
        self._signalled = False
        self._runner: Runner | None = None
        self._ids = itertools.count(1)
        self._collections = FullCollections()
        self.recorder = SessionRecorder(opened.session, clock=clock, by=opened.person,
                                        role=opened.role, changed=saver.changed)
        """Records results into the session; the saver writes them."""

    # -- planning ----------------------------------------------------------------------------

    @property
    def engine_made(self) -> bool:
        """Whether the engine exists already (planning is then cheap)."""
        return self._runner is not None

    @property
    def runner(self) -> Runner:
        """The session's engine, made on first use: one for every plan and run of this app."""
        if self._runner is None:
            from predeploy_tui.engine.runner import Runner

            assert self.opened.checklist is not None
            self._runner = Runner(
                self.opened.checklist, self.opened.variables, by=self.opened.person,
                role=self.opened.role, listeners=[self.recorder, self._listen],
                confirm=self._ask, status_of=self.recorder.status_of,
                clock=self.clock, **self.runner_options)  # type: ignore[arg-type]
        return self._runner

    def use_variables(self, values: dict[str, str]) -> bool:
        """Add variable values (secrets given after opening); False while a run is in progress.

        The engine copies the variables when it is made, so an idle one is dropped and the next
        plan or run makes a new one with these values.
        """
        if self.runs:
            return False
        self.opened.variables.update(values)
        old, self._runner = self._runner, None
        if old is not None:
            self.app.run_worker(old.aclose(), name="close the previous engine", group="close",
                                exit_on_error=False)
        return True

    def plan(self, keys: Sequence[str] | None = None) -> list[PlannedCheck]:
        """What a run of ``keys`` (None: everything) would do, and where; nothing runs."""
        if self.opened.checklist is None:
            return []
        return self.runner.plan(keys)

    def target(self, key: str) -> str:
        """The check as it will run, one line (secrets masked), or "" for a manual item."""
        try:
            planned = self.plan([key])
        except Exception as exc:  # a template error is shown, not raised: the UI stays up
            return f"cannot resolve the check: {exc}"
        lines = []
        for p in planned:
            where = p.host or "local"
            lines.append(f"{p.type} on {where}: {p.target}")
        return "\n".join(lines)

    # -- running -----------------------------------------------------------------------------

    @property
    def progress(self) -> tuple[int, int]:
        """Finished and total items of the runs in progress (0, 0 when none)."""
        total = sum(len(r.keys) for r in self.runs.values())
        return sum(len(r.finished) for r in self.runs.values()), total

    def start(self, keys: Sequence[str], label: str) -> Worker[None] | None:
        """Run ``keys`` (those not already running) in a new worker; None when nothing to do."""
        wanted = tuple(k for k in keys if k not in self.running)
        if not wanted or not self.opened.can_run:
            return None
        name = f"run {label} #{next(self._ids)}"
        run = Run(name, wanted)
        self.runs[name] = run
        self._collections.hold()
        return self.app.run_worker(self._host(run), name=name, group="runs",
                                   description=f"{len(wanted)} item(s): {label}",
                                   exit_on_error=False)

    async def _host(self, run: Run) -> None:
        try:
            await self.runner.run(list(run.keys))
        finally:
            self.runs.pop(run.name, None)
            if not self.runs:
                self._collections.release()
            self.app.post_message(messages.RunFinished(run.name, run.keys))

    def failed(self, name: str, error: BaseException) -> None:
        """A run's worker died: its unfinished items get an error result, never stay running."""
        run = self.runs.pop(name, None)
        if not self.runs:
            self._collections.release()
        keys = run.keys if run else ()
        now = self.clock()
        for key in keys:
            if key in self.running and run is not None and key not in run.finished:
                self.running.discard(key)
                result = CheckResult(Status.ERROR, f"the run failed: {type(error).__name__}: "
                                     f"{error}", started=now, finished=now,
                                     by=self.opened.person, role=self.opened.role)
                self.recorder.record(key, result)

    def cancel(self, keys: Sequence[str] | None = None) -> int:
        """Cancel running items (None: every run); returns how many were running."""
        mine = list(self.running) if keys is None else [k for k in keys if k in self.running]
        queued = [k for r in self.runs.values() for k in r.keys if k not in r.finished]
        if self._runner is not None and (mine or queued):
            self._runner.cancel(None if keys is None else [k for k in keys if k in queued])
        return len(mine)

    async def close(self, wait: float = 3.0) -> None:
        """Cancel everything, give the runs a moment to record it, and close connections."""
        self.cancel()
        workers = [w for w in self.app.workers if w.group == "runs" and not w.is_finished]
        if workers:
            done = asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
            try:
                await asyncio.wait_for(done, timeout=wait)
            except TimeoutError:
                pass
        if self._runner is not None:
            try:
                await asyncio.wait_for(self._runner.aclose(), timeout=wait)
            except TimeoutError:
                pass
            self._runner = None

    # -- engine events -----------------------------------------------------------------------

    def _listen(self, event: RunEvent) -> None:
        """The UI's side of an event (the recorder has put it in the session already)."""
        if isinstance(event, OutputChunk):
            buffer = self.output.get(event.key)
            if buffer is None:
                buffer = self.output[event.key] = OutputBuffer()
            buffer.add(f"[{event.host}] {event.text}" if event.host else event.text)
            if not self._signalled:
                self._signalled = True
                self.app.post_message(messages.OutputArrived())
        elif isinstance(event, ItemStarted):
            if event.key not in self.running:
                self.running.add(event.key)
                self.output[event.key] = OutputBuffer()
            self.app.post_message(messages.CheckStarted(event.key, event.host))
        elif isinstance(event, ItemFinished):
            self.running.discard(event.key)
            for run in self.runs.values():
                if event.key in run.keys:
                    run.finished.add(event.key)
            self.app.post_message(messages.CheckFinished(event.key, event.result))

    def output_seen(self) -> None:
        """The UI took the pending output: the next chunk signals again."""
        self._signalled = False

    async def _ask(self, request: ActionRequest) -> bool:
        return await self.confirm(request)
