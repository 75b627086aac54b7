"""Provides the markdown export of a session: the seed checklist's own layout, filled in.

Header lines filled, ``- [x]`` for passed and done items, each item's status and evidence summary
beneath it, notes, nested items, sign-offs with names and dates, the decision with its box
ticked, notes/issues, risk, completed and reviewed by: it reads as a pull-request description.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from predeploy_tui.core import integrity
from predeploy_tui.core.checklist import DEFAULT_DECISIONS, DEFAULT_RISKS, SignoffRole
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.verdict import suggest
from predeploy_tui.core.vocab import VerdictStatus

_DECISION_MARKS: dict[str, str] = {VerdictStatus.GO: "✅", VerdictStatus.CONDITIONAL_GO: "⚠️",
                                   VerdictStatus.NO_GO: "❌"}
_TICKED = (Status.PASS, Status.WARN, Status.DONE, Status.NA)
OUTPUT_LINES = 30
"""Lines of a check's output shown in its collapsed evidence block."""


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "________________"


def _blank(value: str) -> str:
    return value if value.strip() else "________________"


_HTML_START = re.compile(r"(\\*)<(?=[A-Za-z/!?])")
"""A ``<`` that would open raw HTML or an autolink; ``1 < 3`` opens nothing."""
_ENTITY = re.compile(r"(\\*)&(?=#?[A-Za-z0-9]+;)")
"""A ``&`` that would start a character reference (``&lt;``); ``4 & 5`` starts none."""


def _inline(text: str) -> str:
    """One line of text that cannot break the list it sits in nor open HTML; nothing else escaped.

    A backslash escape, not an entity: the file reads as written (``1 < 3 & 4 > 2``), and only a
    ``<`` or ``&`` that markdown would take for a tag or a character reference is escaped.
    """
    text = " ".join(text.split())
    # Backslashes already before it are doubled, so they cannot cancel the escape.
    text = _HTML_START.sub(lambda m: m.group(1) * 2 + "\\<", text)
    return _ENTITY.sub(lambda m: m.group(1) * 2 + "\\&", text)


def _fence(text: str) -> str:
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    ticks = "`" * max(3, longest + 1)
    while ticks in text:
        ticks += "`"
    return ticks


def _section_title(key: str, titles: dict[str, str]) -> str:
    return titles.get(key) or key.replace("-", " ").replace("_", " ").title()


def _item_lines(state: ItemState, status: Status, depth: int) -> list[str]:
    pad = "  " * depth
    box = "x" if status in _TICKED else " "
    line = f"{pad}- [{box}] {_inline(state.title)} — {status.glyph} **{status.value.upper()}**"
    if state.critical:
        line += " (critical)"
    out = [line]
    sub = pad + "  "
    result = state.result
    who = f"{state.by}, " if state.by else ""
    if result is not None and result.summary:
        host = f" on {result.host}" if result.host else ""
        out.append(f"{sub}- Evidence: {_inline(result.summary)}{host} _({who}{_when(state.at)})_")
        for h in result.hosts:
            out.append(f"{sub}  - {h.host}: {h.status.glyph} {h.status.value} — {_inline(h.summary)}")
    elif state.status is not Status.PENDING and state.at is not None:
        out.append(f"{sub}- Recorded: {state.status.value} _({who}{_when(state.at)})_")
    if state.waiver is not None and status is Status.WAIVED:
        w = state.waiver
        expiry = f", expires {_when(w.expires)}" if w.expires else ""
        out.append(f"{sub}- Waived: {_inline(w.reason)} (approved by {w.approver}{expiry})")
    if state.note:
        out.append(f"{sub}- Note: {_inline(state.note)}")
    if state.review_note:
        out.append(f"{sub}- Review note: {_inline(state.review_note)}")
    if state.removed:
        out.append(f"{sub}- No longer in the checklist (kept from an earlier version)")
    if result is not None and result.output.strip():
        lines = result.output.replace("\r\n", "\n").rstrip("\n").split("\n")
        shown = "\n".join(lines[-OUTPUT_LINES:])
        cut = f" (last {OUTPUT_LINES} of {len(lines)} lines)" if len(lines) > OUTPUT_LINES else ""
        fence = _fence(shown)
        out += [f"{sub}<details><summary>Output{cut}</summary>", "",
                f"{sub}{fence}text", *(f"{sub}{x}" for x in shown.split("\n")), f"{sub}{fence}",
                "", f"{sub}</details>"]
    return out


def to_markdown(session: Session, now: datetime, section_titles: dict[str, str] | None = None) \
        -> str:
    """The session as the seed's markdown, filled in. ``section_titles`` maps section ids to
    headings (from the checklist); without it the id is turned into words."""
    titles = section_titles or {}
    stale = integrity.stale_signoffs(session)
    verdict = suggest(session, now, stale_signoffs=stale)
    h = session.header
    out = [f"# {session.checklist_title}", "",
           f"**Date**: {_blank(h.get('date', ''))}  ",
           f"**Deployment Version**: {_blank(h.get('version', ''))}  ",
           f"**Deployer**: {_blank(h.get('deployer', ''))}  ",
           f"**Reviewer**: {_blank(h.get('reviewer', ''))}", ""]
    env = session.variables.get("env")
    counts = session.counts(now)
    summary = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    out.append(f"> {len(session.items)} items: {summary}. Suggested verdict: **{verdict.label}** "
               f"(risk: {verdict.risk})" + (f". Environment: {env}." if env else "."))
    if stale:
        out.append(f"> ⚠️ Content changed after sign-off by: {', '.join(stale)}.")
    out.append("")
    section, group = None, None
    number = 0
    for state, status in session.effective(now):
        if state.section != section:
            section, group = state.section, None
            number += 1
            title = _section_title(section, titles)
            heading = title if title[:1].isdigit() else f"{number}. {title}"
            out += [f"## {heading}", ""]
        if state.group != group:
            group = state.group
            if group:
                out += [f"### {group}"]
        depth = max(0, state.key.count(".") - 1)
        out += _item_lines(state, status, depth)
        out.append("")
    out += _signoff_lines(session, stale)
    out += _decision_lines(session, verdict.status, verdict.risk)
    return "\n".join(out).rstrip("\n") + "\n"


def _signoff_lines(session: Session, stale: list[str]) -> list[str]:
    out = ["### Sign-offs"]
    roles = session.signoff_roles or [SignoffRole(s.role, s.title) for s in session.signoffs]
    required = {r.role for r in session.required_roles()}
    for role in roles:
        signed = session.signoff(role.role)
        title = role.title or role.role
        if role.role not in required:
            title += " (optional)"
        out.append(f"- [{'x' if signed else ' '}] {title}")
        out.append(f"  - Name: {_blank(signed.name if signed else '')}")
        out.append(f"  - Date: {_when(signed.at) if signed else '________________'}")
        if signed is not None:
            if signed.comment:
                out.append(f"  - Comment: {_inline(signed.comment)}")
            if signed.signature:
                out.append(f"  - SSH signature: {signed.signer_key or 'present'}")
            if role.role in stale:
                out.append("  - ⚠️ Stale: the session changed after this sign-off")
        out.append("")
    return out


def _decision_lines(session: Session, suggested: str, suggested_risk: str) -> list[str]:
    d = session.decision
    out = ["## Pre-Deployment Status", "", "**Overall Status**: "]
    for choice in DEFAULT_DECISIONS:
        box = "x" if d.status == choice.id else " "
        out.append(f"- [{box}] {_DECISION_MARKS[choice.id]} **{choice.id}** - {choice.description}")
    out.append("")
    if d.status:
        out.append(f"Suggested by predeploy when decided: {d.suggested or suggested}.  ")
        if d.justification:
            out.append(f"Justification: {_inline(d.justification)}  ")
    else:
        out.append(f"No decision recorded yet; predeploy's suggestion: **{suggested}**.  ")
    notes = d.notes.strip() or "[Document any issues, exceptions, or special considerations here]"
    fence = _fence(notes)
    out += ["", "**Notes/Issues**:", fence, notes, fence, "", "**Risk Assessment**:"]
    risk = d.risk or ""
    for choice in DEFAULT_RISKS:
        box = "x" if risk == choice.id else " "
        out.append(f"- [{box}] **{choice.id.capitalize()} Risk**: {choice.description}")
    if not risk:
        out.append(f"\n_Suggested risk: {suggested_risk}._")
    out += ["", "---", "",
            f"**Checklist Completed By**: {_blank(d.completed_by)}  ",
            f"**Date/Time**: {_when(d.completed_at)}  ",
            f"**Reviewed By**: {_blank(d.reviewed_by)}  ",
            f"**Review Date/Time**: {_when(d.reviewed_at)}"]
    if d.review_notes:
        out += ["", f"**Review Notes**: {_inline(d.review_notes)}"]
    return out
