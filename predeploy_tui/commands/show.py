"""Provides ``predeploy show``: a plain-text summary of a session."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from predeploy_tui.commands import existing_file

if TYPE_CHECKING:
    from predeploy_tui.core.session import Session

HELP = ("print a session's header, counts by status, the suggested verdict, sign-offs, the "
        "decision, the review and reviewer runs that disagree")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the subcommand."""
    p.add_argument("session", metavar="SESSION", help="session TOML file")


def summary(session: Session, now: datetime) -> str:
    """The summary text for a session."""
    from predeploy_tui.core.verdict import suggest

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
    lines += signoff_lines(session)
    lines += decision_lines(session)
    lines += disagreements(session)
    return "\n".join(lines)


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "no date"


def signoff_lines(session: Session) -> list[str]:
    """Each role's latest sign-off (who, role, when, stale or current) and required ones missing."""
    from predeploy_tui.core.integrity import stale_signoffs

    stale = set(stale_signoffs(session))
    lines = ["Sign-offs:"]
    for role in session.signoff_roles:
        signed = session.signoff(role.role)
        if signed is None:
            need = "required" if role.is_required(session.flags) else "optional"
            lines.append(f"  {role.role}: {role.title}: not signed ({need})")
            continue
        state = "STALE (changed since signing)" if role.role in stale else (
            "current" if signed.content_sha256 else "no content hash: cannot tell")
        comment = f": {signed.comment}" if signed.comment else ""
        lines.append(f"  {role.role}: {signed.title or role.title} by {signed.name} "
                     f"({_when(signed.at)}) {state}{comment}")
    known = {r.role for r in session.signoff_roles}
    for other in dict.fromkeys(s.role for s in session.signoffs if s.role not in known):
        signed = session.signoff(other)
        if signed is not None:
            lines.append(f"  {other}: {signed.title} by {signed.name} ({_when(signed.at)}) "
                         + ("STALE" if other in stale else "current") + " (not a checklist role)")
    return lines


def decision_lines(session: Session) -> list[str]:
    """The decision with its justification, notes and risk, and the review."""
    d = session.decision
    if not d.status:
        lines = ["Decision: not made yet"]
    else:
        lines = [f"Decision: {d.status} by {d.completed_by or '?'} ({_when(d.completed_at)}), "
                 f"risk {d.risk or '-'}; suggested {d.suggested or '-'}"]
        if d.justification:
            lines.append(f"  Justification: {d.justification}")
        if d.notes:
            lines.append(f"  Notes: {d.notes}")
    if d.reviewed_by or d.review_notes:
        lines.append(f"Review: by {d.reviewed_by or '?'} ({_when(d.reviewed_at)})")
        if d.review_notes:
            lines.append(f"  Notes: {d.review_notes}")
    else:
        lines.append("Review: not reviewed yet")
    notes = [(k, st.review_note) for k, st in session.items.items() if st.review_note]
    lines += [f"  [{key}] reviewer note: {note}" for key, note in notes]
    return lines


def disagreements(session: Session) -> list[str]:
    """Items whose latest reviewer run came out other than the deployer's result."""
    lines = []
    for key, state in session.items.items():
        runs = state.reviewer_runs
        if not runs:
            continue
        theirs, ours = runs[-1], state.result
        if ours is not None and theirs.status == ours.status:
            continue
        deployer = str(ours.status) if ours is not None else "not run"
        lines.append(f"  [{key}] deployer {deployer}, reviewer {theirs.status} by "
                     f"{theirs.by or '?'} ({_when(theirs.finished or theirs.started)}): "
                     f"{theirs.summary}")
    if lines:
        return [f"Reviewer runs that disagree ({len(lines)}):", *lines]
    return []


def main(args: argparse.Namespace) -> int:
    """Print the summary."""
    from predeploy_tui.core import store
    from predeploy_tui.core.terminal import printable

    path = existing_file(args.session, "session")
    print(printable(summary(store.load(path), datetime.now(UTC))))
    return 0
