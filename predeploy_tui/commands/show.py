"""Provides ``predeploy show``: a plain-text summary of a session."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from predeploy_tui.commands import existing_file

HELP = "print a session's header, counts by status and the suggested verdict"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")


def summary(session: object, now: datetime) -> str:
    """The summary text for a session."""
    from predeploy_tui.core.session import Session
    from predeploy_tui.core.verdict import suggest

    assert isinstance(session, Session)
    lines = [f"{session.checklist_title} ({session.checklist_id})"]
    for name in ("date", "version", "deployer", "reviewer"):
        lines.append(f"  {name.capitalize():<9} {session.header.get(name) or '-'}")
    env = session.variables.get("env")
    if env:
        lines.append(f"  {'Env':<9} {env}")
    counts = session.counts(now)
    total = sum(counts.values())
    lines.append(f"Items: {total}  " + "  ".join(f"{status.value} {n}" for status, n in
                                                 sorted(counts.items(), key=lambda kv: -kv[1])))
    verdict = suggest(session, now)
    lines.append(f"Suggested: {verdict.line()}")
    for reason in verdict.reasons:
        lines.append(f"  - [{reason.ref}] {reason.text}")
    if session.decision.status:
        d = session.decision
        lines.append(f"Decision: {d.status} by {d.completed_by or '?'} (risk: {d.risk or '-'})")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Print the summary."""
    from predeploy_tui.core import store
    from predeploy_tui.core.terminal import printable

    path = existing_file(args.session, "session")
    print(printable(summary(store.load(path), datetime.now(UTC))))
    return 0
