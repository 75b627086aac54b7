"""Provides the headless run: checks without the UI, one printed line per result, saved as it goes.

Used by ``predeploy run``; it never imports Textual. Every result is saved into the session file
before its line is printed (a kill loses nothing the run reported), and the suggested verdict decides the exit
code: 0 GO, 4 CONDITIONAL GO, 3 NO GO (or nothing observed). The verdict is the release's, as
``show`` and the app give it, unless the run was asked for some items only (then it judges those
and says it is partial) or for the checks alone (``--checks-only``, named as such beside the
release's).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import Session
from predeploy_tui.core.terminal import printable
from predeploy_tui.core.verdict import CHECKS, Verdict, suggest
from predeploy_tui.engine.base import ItemFinished, RunEvent
from predeploy_tui.engine.recorder import SessionRecorder, SessionSaver
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

    def __call__(self, event: RunEvent) -> None:
        if not isinstance(event, ItemFinished):
            return
        self.pending.append(result_line(event.key, event.result))
        for host in event.result.hosts:
            self.pending.append(printable(f"    {host.status.glyph} {host.host or 'local':<20} "
                                          f"{host.summary}".replace("\n", " ")))

    def release(self) -> None:
        """Print the lines whose results are now saved."""
        if self.pending:
            self._out.write("\n".join(self.pending) + "\n")
            self._out.flush()
            self.pending.clear()


def verdict_lines(verdict: Verdict, release: Verdict | None = None) -> list[str]:
    """The suggested verdict and its reasons, as printed at the end of a run.

    ``release`` is the release's verdict, printed beside a partial or checks-only one so that
    the same words never mean two things.
    """
    head = f"Suggested: {verdict.line()}"
    if release is not None and release.scope != verdict.scope:
        head += f"; release: {release.line()}"
    lines = [head]
    lines += [f"  - [{r.ref}] {r.text}" for r in verdict.reasons]
    if release is not None and verdict.scope == CHECKS:
        # The checks alone leave out only the sign-offs: say which ones the release still needs.
        lines += [f"  - release: [{r.ref}] {r.text}" for r in release.reasons
                  if r.ref.startswith("signoff:")]
    return lines


def outcome(session: Session, now: datetime, keys: Sequence[str] | None,
            checks_only: bool = False) -> tuple[Verdict, list[str]]:
    """The verdict that decides a run's exit code, and the lines it prints at the end.

    A whole run answers with the release's verdict (what ``show`` says); ``keys`` judge those
    items only; ``checks_only`` the checks without the sign-offs. Both name themselves.
    """
    release = suggest(session, now)
    if keys is not None:
        verdict = suggest(session, now, keys=keys)
    elif checks_only:
        verdict = suggest(session, now, require_signoffs=False)
    else:
        return release, verdict_lines(release)
    return verdict, verdict_lines(verdict, release)


async def run_headless(checklist: Checklist, session: Session, session_path: Path | None,
                       variables: Mapping[str, str], keys: Sequence[str] | None, *, by: str,
                       yes_actions: bool = False, out: TextIO | None = None,
                       environ: Mapping[str, str] | None = None,
                       clock: Callable[[], datetime] = _utcnow, max_concurrency: int = 16,
                       handshake_cap: int = 10, channels_per_host: int = 4,
                       save_delay: float = 0.25, checks_only: bool = False) -> Verdict:
    """Run ``keys`` (None: every check and action), record into ``session``, return the verdict.

    ``max_concurrency``, ``handshake_cap`` and ``channels_per_host`` are the runner's caps;
    ``checks_only`` returns the checks' verdict without the sign-offs (see :func:`outcome`).
    """
    out = out or sys.stdout
    # Saves are throttled (a result after a quiet spell is saved at once; a burst of a hundred SSH
    # checks finishing together costs a few saves, not one per event) and a result is printed only
    # once it is saved, so a killed run has lost nothing it reported.
    printer = ResultPrinter(out)
    saver = SessionSaver(session, session_path, clock=clock, delay=save_delay,
                         on_saved=printer.release)
    recorder = SessionRecorder(session, clock=clock, by=by, changed=saver.soon)

    async def confirm(request: ActionRequest) -> bool:
        where = f" on {request.host}" if request.host else ""
        out.write(printable(f"» action {request.key}{where}: {request.command}") + "\n")
        out.flush()
        return True

    runner = Runner(checklist, variables, by=by, listeners=[printer, recorder],
                    confirm=confirm if yes_actions else None, status_of=recorder.status_of,
                    environ=environ, clock=clock, max_concurrency=max_concurrency,
                    handshake_cap=handshake_cap, channels_per_host=channels_per_host)
    try:
        await runner.run(keys)
    finally:
        await runner.aclose()
        saver.flush()
    if saver.error:
        raise OSError(saver.error)
    verdict, lines = outcome(session, clock(), keys, checks_only)
    out.write(printable("\n".join(lines)) + "\n")
    out.flush()
    return verdict
