"""Provides the headless run: checks without the UI, one printed line per result, saved as it goes.

Used by ``predeploy run``; it never imports Textual. Every result is saved into the session file
before its line is printed (a kill loses nothing the run reported), and the suggested verdict decides the exit
code: 0 GO, 4 CONDITIONAL GO, 3 NO GO.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session
from predeploy_tui.core.terminal import printable
from predeploy_tui.core.verdict import Verdict, suggest
from predeploy_tui.engine.base import ItemFinished, RunEvent
from predeploy_tui.engine.recorder import SessionRecorder
from predeploy_tui.engine.runner import ActionRequest, Runner


def _utcnow() -> datetime:
    return datetime.now(UTC)


def result_line(key: str, result: CheckResult) -> str:
    """One line for a finished item: glyph, status, key, summary, duration (controls made visible)."""
    duration = f"  ({result.duration:.1f} s)" if result.duration is not None else ""
    line = f"{result.status.glyph} {result.status.value:<7} {key:<40} {result.summary}{duration}"
    return printable(line.replace("\n", " "))


class ResultPrinter:
    """A listener that prints each finished item (and each host of a group) once it is saved.

    Lines wait in ``pending`` until :meth:`release` (called after each save), so whatever the
    run has printed is already in the session file when the run is killed.
    """

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.pending: list[str] = []
        """Lines of finished items not yet saved."""
        self.count = 0
        """Items printed."""

    def __call__(self, event: RunEvent) -> None:
        if not isinstance(event, ItemFinished):
            return
        self.pending.append(result_line(event.key, event.result))
        for host in event.result.hosts:
            self.pending.append(printable(f"    {host.status.glyph} {host.host or 'local':<20} "
                                          f"{host.summary}".replace("\n", " ")))
        self.count += 1

    def release(self) -> None:
        """Print the lines whose results are now saved."""
        if self.pending:
            self._out.write("\n".join(self.pending) + "\n")
            self._out.flush()
            self.pending.clear()


def verdict_lines(verdict: Verdict) -> list[str]:
    """The suggested verdict and its reasons, as printed at the end of a run."""
    lines = [f"Suggested: {verdict.status} (risk {verdict.risk})"]
    lines += [f"  - [{r.ref}] {r.text}" for r in verdict.reasons]
    return lines


async def run_headless(checklist: Checklist, session: Session, session_path: Path | None,
                       variables: Mapping[str, str], keys: Sequence[str] | None, *, by: str,
                       yes_actions: bool = False, out: TextIO | None = None,
                       environ: Mapping[str, str] | None = None,
                       clock: Callable[[], datetime] = _utcnow, max_concurrency: int = 16,
                       handshake_cap: int = 10, channels_per_host: int = 4,
                       save_delay: float = 0.25) -> Verdict:
    """Run ``keys`` (None: every check and action), record into ``session``, return the verdict.

    ``max_concurrency``, ``handshake_cap`` and ``channels_per_host`` are the runner's caps.
    """
    out = out or sys.stdout
    # Saves are throttled (a result after a quiet spell is saved at once; a burst of a hundred SSH
    # checks finishing together costs a few saves, not one per event) and a result is printed only
    # once it is saved, so a killed run has lost nothing it reported.
    printer = ResultPrinter(out)
    recorder = SessionRecorder(session, session_path, clock=clock, by=by, save_delay=save_delay,
                               on_saved=printer.release)

    async def confirm(request: ActionRequest) -> bool:
        where = f" on {request.host}" if request.host else ""
        out.write(printable(f"» action {request.key}{where}: {request.command}") + "\n")
        out.flush()
        return True

    def status_of(key: str) -> Status:
        state = session.items.get(key)
        return state.effective_status(clock()) if state is not None else Status.PENDING

    runner = Runner(checklist, variables, by=by, listeners=[printer, recorder],
                    confirm=confirm if yes_actions else None, status_of=status_of,
                    environ=environ, clock=clock, max_concurrency=max_concurrency,
                    handshake_cap=handshake_cap, channels_per_host=channels_per_host)
    try:
        await runner.run(keys)
    finally:
        await runner.aclose()
        recorder.flush()
    verdict = suggest(session, clock(), require_signoffs=False)
    out.write(printable("\n".join(verdict_lines(verdict))) + "\n")
    out.flush()
    return verdict
