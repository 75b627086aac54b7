"""Provides the runner: checks run concurrently under caps and timeouts, cancellable, in order of need.

Plain asyncio. A global cap bounds the local checks in flight (processes, threads, clients on this
machine); a check that runs over SSH (it has a host) takes no global slot but one of its host's slots,
as many as the SSH pool's channels per host, so 20 hosts x 4 channels run together while local work
stays capped, and a check's clock starts when it can really start. Each check's ``timeout`` bounds everything
it does; an item whose prerequisite did not pass is ``blocked``; an action runs only when
``confirm`` says yes. Listeners get events (started, output, finished), redacted, on the loop's
thread, so the UI and the headless printer share one engine. Results are data, never exceptions.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from predeploy_tui.core.checklist import Checklist, Host, Item
from predeploy_tui.core.provenance import CodeFile
from predeploy_tui.core.results import CANCELLED, CheckResult, Status
from predeploy_tui.core.vocab import ItemKind, Role
from predeploy_tui.engine.base import (
    CheckContext,
    CheckError,
    ItemFinished,
    ItemStarted,
    Listener,
    Observation,
    OutputChunk,
    ResolvedCheck,
    RunEvent,
)
from predeploy_tui.engine.capture import cap
from predeploy_tui.engine.checks import CheckType
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.expect import judge
from predeploy_tui.engine.plan import PlannedCheck, Target, Targets, aggregate
from predeploy_tui.engine.plugins import CheckTypes
from predeploy_tui.engine.redact import LineRedactor, Redactor
from predeploy_tui.engine.sitecode import code_of, names_files
from predeploy_tui.engine.template import Template, TemplateError

log = logging.getLogger(__name__)
T = TypeVar("T")

NOT_CONFIRMED = "not confirmed"
"""The summary of an action that was not confirmed."""


@dataclass(frozen=True)
class ActionRequest:
    """An action waiting for confirmation: what the dialog shows."""

    key: str
    """The item key."""
    title: str
    """The item title."""
    type: str
    """The check type (shell, ssh, http, ...)."""
    host: str | None
    """The host or host group it targets; None for this machine."""
    command: str
    """The exact command, URL or query, secrets masked."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Runner:
    """Runs a checklist's checks and actions; one instance per session (re-runs included).

    ``max_concurrency`` caps the checks that run on this machine; checks over SSH are capped by
    ``channels_per_host`` (checks at once per host) and ``handshake_cap`` (connections being set up).
    """

    def __init__(self, checklist: Checklist, variables: Mapping[str, str], *, by: str,
                 role: Role = Role.DEPLOYER, listeners: Sequence[Listener] = (),
                 confirm: Callable[[ActionRequest], Awaitable[bool]] | None = None,
                 status_of: Callable[[str], Status] | None = None,
                 max_concurrency: int = 16, handshake_cap: int = 10, channels_per_host: int = 4,
                 output_cap: int = 256_000, environ: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = _utcnow,
                 connections: RunConnections | None = None) -> None:
        self.checklist = checklist
        self.by = by
        self.role = Role(role)
        # A variable the caller leaves out takes the checklist's default, as a new session would.
        self._variables = {v.name: v.default for v in checklist.variables if v.default is not None}
        self._variables.update(variables)
        self._environ = dict(os.environ if environ is None else environ)
        self._secret_names = {v.name for v in checklist.variables if v.secret}
        self._template = Template(self._variables, environ=self._environ,
                                  secret_names=self._secret_names)
        self._redactor = Redactor(self._template.secrets)
        self._listeners: list[Listener] = list(listeners)
        self._confirm = confirm
        self._status_of = status_of
        self._max_concurrency = max(1, max_concurrency)
        self._handshake_cap = handshake_cap
        self._channels_per_host = channels_per_host
        self._output_cap = output_cap
        self._clock = clock
        self._items: dict[str, Item] = {item.key: item for item in checklist.items()}
        self._types = CheckTypes(checklist.plugins, checklist.folder)
        self._targets = Targets(checklist, self._template.host)
        self._slots = asyncio.Semaphore(self._max_concurrency)
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._tasks: dict[str, asyncio.Task[CheckResult]] = {}
        self._connections: RunConnections | None = connections
        self._loop_thread: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._evidence_pool: ThreadPoolExecutor | None = None

    # -- set-up ----------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Also send events to ``listener``."""
        self._listeners.append(listener)

    def resolve(self, key: str) -> ResolvedCheck:
        """The item's check with variables filled in (TemplateError names an unknown one)."""
        item = self._item(key)
        if item.check is None:
            raise KeyError(f"{key} is a manual item: it has no check")
        check = self._template.check(item.check)
        self._redactor.add(self._template.secrets)
        return check

    def _item(self, key: str) -> Item:
        try:
            return self._items[key]
        except KeyError:
            raise KeyError(f"no item {key!r} in checklist {self.checklist.id}") from None

    def runnable(self, keys: Sequence[str] | None = None) -> list[Item]:
        """The check and action items among ``keys`` (None: all), in checklist order."""
        if keys is not None:
            wanted = set(keys)
            for key in wanted:
                self._item(key)
            return [i for i in self._items.values()
                    if i.key in wanted and i.check is not None and i.kind != ItemKind.MANUAL]
        return [i for i in self._items.values()
                if i.check is not None and i.kind != ItemKind.MANUAL]

    def plan(self, keys: Sequence[str] | None = None) -> list[PlannedCheck]:
        """What a run of ``keys`` would do, where; nothing runs (unset ${env:...} is fine here)."""
        lenient = Template(self._variables, environ=self._environ, secret_names=self._secret_names,
                           strict_env=False)
        planned: list[PlannedCheck] = []
        for item in self.runnable(keys):
            assert item.check is not None
            check = lenient.check(item.check)
            unresolved: str | None = None
            try:
                target = self._targets.resolve(check.params)
            except CheckError as exc:
                target, unresolved = Target((str(check.params.get("host")),)), str(exc)
            describe = self._types.describer(check.type)
            # A password written into the checklist (a DSN, a URL) is never shown either: the
            # one redaction rule set masks it, as it masks output.
            redactor = Redactor(lenient.secrets)
            shown = redactor.redact_data(check.shown)
            check = replace(check, shown=shown)
            redact = redactor.redact
            for host in target.hosts:
                planned.append(PlannedCheck(
                    key=item.key, title=item.title, section=item.section, type=check.type,
                    kind=item.kind, host=host, target=redact(describe(check, host)),
                    depends_on=item.depends_on, timeout=check.timeout, shown=shown,
                    unresolved=unresolved))
        return planned

    def hosts(self) -> dict[str, Host]:
        """Every SSH host the checklist names (its own and its inventory's), variables filled in."""
        return self._targets.hosts()

    def _ensure_connections(self) -> RunConnections:
        if self._connections is None:
            try:
                hosts = self._targets.hosts()
            except TemplateError as exc:
                raise CheckError(str(exc)) from None
            self._connections = RunConnections(
                hosts=hosts, handshake_cap=self._handshake_cap,
                channels_per_host=self._channels_per_host, threads=min(16, self._max_concurrency),
                environ=self._environ)
        return self._connections

    # -- events ----------------------------------------------------------------------------

    def _emit(self, event: RunEvent) -> None:
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._emit, event)
            return
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("a run listener failed on %s", type(event).__name__)

    # -- running ---------------------------------------------------------------------------

    async def run(self, keys: Sequence[str] | None = None) -> dict[str, CheckResult]:
        """Run the check and action items among ``keys`` (None: all); manual items are ignored."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        items = self.runnable(keys)
        for item in items:
            try:
                self.resolve(item.key)
            except TemplateError:
                pass  # reported as that item's error when it runs
        tasks: dict[str, asyncio.Task[CheckResult]] = {}
        for item in items:
            existing = self._tasks.get(item.key)
            if existing is not None and not existing.done():
                tasks[item.key] = existing
                continue
            task = asyncio.create_task(self._run_item(item), name=f"check:{item.key}")
            self._tasks[item.key] = task
            tasks[item.key] = task
        if not tasks:
            return {}
        try:
            await asyncio.wait(tasks.values())
        except asyncio.CancelledError:
            for task in tasks.values():
                task.cancel()
            await asyncio.shield(_settle(list(tasks.values())))
            raise
        return {key: self._outcome(key, task) for key, task in tasks.items()}

    def _outcome(self, key: str, task: asyncio.Task[CheckResult]) -> CheckResult:
        if task.cancelled():
            return CheckResult(Status.ERROR, CANCELLED, by=self.by, role=self.role)
        return task.result()

    def cancel(self, keys: Iterable[str] | None = None) -> None:
        """Cancel running items (None: the whole run); each ends as ``error`` "cancelled"."""
        wanted = None if keys is None else set(keys)
        for key, task in list(self._tasks.items()):
            if not task.done() and (wanted is None or key in wanted):
                task.cancel()

    async def aclose(self) -> None:
        """Cancel what still runs and close SSH connections, HTTP clients and the thread pool."""
        running = [t for t in self._tasks.values() if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await _settle(running)
        connections, self._connections = self._connections, None
        if connections is not None:
            await connections.aclose()
        pool, self._evidence_pool = self._evidence_pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    # -- one item --------------------------------------------------------------------------

    async def _blocked_by(self, item: Item) -> str | None:
        for dep in item.depends_on:
            task = self._tasks.get(dep)
            status: Status | None
            if task is not None:
                status = (await asyncio.shield(task)).status if not task.cancelled() \
                    else Status.ERROR
            elif self._status_of is not None:
                status = self._status_of(dep)
            else:
                status = None  # outside this run and nobody to ask: do not hold the item back
            if status is not None and not (status.passed or status in (Status.WAIVED, Status.STALE)):
                title = self._items[dep].title if dep in self._items else dep
                return f"blocked: prerequisite {dep} ({title}) is {status}"
        return None

    def _finish(self, key: str, result: CheckResult) -> CheckResult:
        now = self._clock()
        result = replace(result, started=result.started or now, finished=result.finished or now,
                         by=self.by, role=self.role,
                         hosts=tuple(h.with_by(self.by, self.role) for h in result.hosts))
        # Outputs reach here redacted (by _run_on) or empty; summaries and data may not be.
        result = self._redactor.result(result, output=False)
        self._emit(ItemFinished(key, result))
        return result

    async def _ask(self, item: Item, check: ResolvedCheck, target: Target,
                   describe: Callable[[ResolvedCheck, str | None], str]) -> bool:
        if self._confirm is None:
            return False
        host = target.group or target.hosts[0]
        request = ActionRequest(key=item.key, title=item.title, type=check.type, host=host,
                                command=self._redactor.redact(describe(check, host)))
        return bool(await self._confirm(request))

    async def _run_item(self, item: Item) -> CheckResult:
        host_tasks: list[asyncio.Task[CheckResult]] = []
        target = Target((None,))
        try:
            blocked = await self._blocked_by(item)
            if blocked:
                return self._finish(item.key, CheckResult(Status.BLOCKED, blocked))
            try:
                check = self.resolve(item.key)
                target = self._targets.resolve(check.params)
            except (TemplateError, CheckError) as exc:
                return self._finish(item.key, CheckResult(Status.ERROR, str(exc)))
            # An action is confirmed before any of its code (a plugin file) is loaded.
            if item.kind == ItemKind.ACTION and not await self._ask(
                    item, check, target, self._types.describer(check.type)):
                return self._finish(item.key, CheckResult(Status.SKIPPED, NOT_CONFIRMED))
            try:
                check_type = self._types.get(check.type)
            except CheckError as exc:
                return self._finish(item.key, CheckResult(Status.ERROR, str(exc)))
            host_tasks = [asyncio.create_task(self._run_on(item, check, check_type, host))
                          for host in target.hosts]
            await asyncio.wait(host_tasks)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            for task in host_tasks:
                task.cancel()
            await _settle(host_tasks)
            if not host_tasks:
                return self._finish(item.key, CheckResult(Status.ERROR, CANCELLED))
        results = [t.result() if not t.cancelled() else
                   CheckResult(Status.ERROR, CANCELLED, host=host)
                   for t, host in zip(host_tasks, target.hosts, strict=True)]
        if target.group is None:
            return self._finish(item.key, results[0])
        status, summary = aggregate(results, target.rule)
        if all(r.summary == CANCELLED for r in results if not r.status.passed) \
                and any(r.summary == CANCELLED for r in results):
            status, summary = Status.ERROR, CANCELLED
        started = min((r.started for r in results if r.started), default=None)
        finished = max((r.finished for r in results if r.finished), default=None)
        code = tuple(dict.fromkeys(c for r in results for c in r.code))
        return self._finish(item.key, CheckResult(status, summary, started=started,
                                                  finished=finished, hosts=tuple(results),
                                                  code=code))

    def _slot(self, host: str | None) -> asyncio.Semaphore:
        if host is None:
            return self._slots
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = asyncio.Semaphore(max(1, self._channels_per_host))
        return slot

    async def _run_on(self, item: Item, check: ResolvedCheck, check_type: CheckType,
                      host: str | None) -> CheckResult:
        """One check on one host, under the check's timeout and a slot: global (local) or its host's.

        A remote check waits for one of its host's slots, not for a global one: a slot meant to bound
        this machine's work would otherwise leave the SSH pool's channels idle.
        """
        started: datetime | None = None
        stream = LineRedactor(self._redactor)
        streamed: list[str] = []  # evidence of a check that timed out or failed to finish

        def output(text: str) -> None:
            streamed.append(text)
            shown = stream.feed(text)
            if shown:
                self._emit(OutputChunk(item.key, host, shown))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + check.timeout
        obs: Observation | None = None
        code: tuple[CodeFile, ...] = ()
        try:
            # Resolving and hashing the site files is file work: two hundred checks started
            # together did it back to back in one turn of the loop. A cancel meanwhile still
            # leaves the hashes, as evidence of what the check would have run.
            # Most checks name no file at all (a remote command, an API check, a command of
            # bare words): they are not handed to the pool, a round trip per check for nothing.
            plugin_file = self._types.plugin_file(check.type)
            if names_files(check.params, local=host is None, plugin_file=plugin_file):
                code, cancelled = await self._in_pool(functools.partial(
                    code_of, check.params, folder=self.checklist.folder, local=host is None,
                    plugin_file=plugin_file))
                if cancelled is not None:
                    raise cancelled
            async with self._slot(host):
                started = self._clock()
                self._emit(ItemStarted(item.key, host, started))
                deadline = loop.time() + check.timeout
                try:
                    async with asyncio.timeout_at(deadline):
                        ctx = CheckContext(
                            item_key=item.key, check=check, host=host,
                            connections=self._ensure_connections(), output=output,
                            folder=self.checklist.folder, variables=self._variables,
                            is_action=item.kind == ItemKind.ACTION, deadline=deadline)
                        obs = ctx.observed(await check_type.run(ctx))
                    status, summary = judge(obs, check.expect, now=self._clock())
                except TimeoutError:
                    status, summary = Status.ERROR, f"timed out after {check.timeout:g} s"
                except CheckError as exc:
                    timed_out = loop.time() >= deadline - 0.05
                    status = Status.ERROR
                    summary = f"timed out after {check.timeout:g} s" if timed_out else str(exc)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            status, summary = Status.ERROR, CANCELLED
        except Exception as exc:
            log.exception("check %s failed unexpectedly", item.key)
            status = Status.ERROR
            summary = f"the {check.type} check failed: {type(exc).__name__}: {exc}"
        rest = stream.flush()
        if rest:
            self._emit(OutputChunk(item.key, host, rest))
        streamed_text = "".join(streamed)
        raw = obs.output if obs is not None else streamed_text
        if stream.whole_unchanged and raw == streamed_text:
            # Every line was redacted as it came and held no trace of a secret: the whole
            # text's redaction would give it back as it is (see LineRedactor.whole_unchanged),
            # so it is skipped; hashing and capping are quick enough for the loop.
            kept, cut, digest = _saved_output(None, raw, self._output_cap)
        else:
            kept, cut, digest = await self._evidence(raw)
        return CheckResult(
            status=status, summary=summary, output=kept,
            exit_code=obs.exit_code if obs is not None else None,
            started=started or self._clock(), finished=self._clock(), host=host,
            data=obs.data if obs is not None else None, by=self.by, role=self.role,
            output_truncated=cut > 0, output_sha256=digest, code=code)

    def _pool(self) -> ThreadPoolExecutor:
        if self._evidence_pool is None:
            self._evidence_pool = ThreadPoolExecutor(max_workers=1,
                                                     thread_name_prefix="predeploy-evidence")
        return self._evidence_pool

    async def _in_pool(self, work: Callable[[], T]) -> tuple[T, asyncio.CancelledError | None]:
        """``work()`` on the runner's pool, and the cancel that landed meanwhile, if one did: it
        waits for the work to end, so the caller keeps what it made, then raises it itself."""
        future = asyncio.get_running_loop().run_in_executor(self._pool(), work)
        cancelled: asyncio.CancelledError | None = None
        while True:
            try:
                return await asyncio.shield(future), cancelled
            except asyncio.CancelledError as exc:
                if future.cancelled():
                    raise
                cancelled = exc

    async def _evidence(self, output: str) -> tuple[str, int, str]:
        """The output as saved: redacted whole, capped, and the hash of all of it.

        Whole-text redaction catches what the per-line stream cannot (a key block split over
        chunks), but over a few hundred kilobytes it takes milliseconds, and two hundred checks
        ending together stalled the loop for most of a second: it runs on the runner's own
        one-thread pool, so the loop takes its turns between the pool's (the GIL's switch
        interval bounds each wait). A cancel that lands meanwhile does not drop the evidence:
        the check already has its status, and waits for its output as saved.
        """
        if not output:
            return "", 0, ""
        saved, cancelled = await self._in_pool(functools.partial(
            _saved_output, self._redactor, output, self._output_cap))
        current = asyncio.current_task()
        while cancelled is not None and current is not None and current.cancelling():
            current.uncancel()  # every cancel that landed meanwhile: the check ends as it is
        return saved


def _saved_output(redactor: Redactor | None, output: str, limit: int) -> tuple[str, int, str]:
    """Redact ``output`` whole (unless ``redactor`` is None: nothing to redact), hash it and cap
    it: (kept text, characters cut, sha256)."""
    text = redactor.redact(output) if redactor is not None else output
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text else ""
    kept, cut = cap(text, limit)
    return kept, cut, digest


async def _settle(tasks: Sequence[asyncio.Task[CheckResult]]) -> None:
    """Wait until every task is done, even if this waiter is cancelled meanwhile."""
    pending = [t for t in tasks if not t.done()]
    while pending:
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        pending = [t for t in pending if not t.done()]
