"""Provides the canonical hash of a session's content, independent of TOML formatting.

A sign-off and the decision store the hash of what they approved (``content_sha256``) and the
hash of each part (``covered``: the checklist, each header field, variable and flag, the sign-off
roles, each item), so a later change marks them stale and can be named. ``covered`` also holds a
seal over the sign-off's or decision's own record (who, when, what), so editing the record after
the fact is caught too.

The content is canonical data (sorted JSON of plain values, datetimes in UTC, absent == None,
whole floats == ints), so a load/save round trip or a reformatted file hashes the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import HEADER_FIELDS, Decision, ItemState, Session, SignOff
from predeploy_tui.core.vocab import Role

SEAL_SIGNOFF = "seal:signoff"
"""The ``covered`` entry that seals a sign-off's own record."""
SEAL_DECISION = "seal:decision"
"""The ``covered`` entry that seals the decision's own record."""
_SEALS = (SEAL_SIGNOFF, SEAL_DECISION)


def _canon(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        # The session file drops None values, so absent and None must hash the same.
        return {str(k): _canon(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def _digest(value: Any) -> str:
    text = json.dumps(_canon(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _data(data: Any) -> Any:
    # The store writes structured evidence as JSON with default=str; hash it the way it reads back.
    if data is None:
        return None
    return json.loads(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str))


def _result(r: CheckResult) -> dict[str, Any]:
    return {"status": str(r.status), "summary": r.summary, "output": r.output,
            "exit_code": r.exit_code, "started": r.started, "finished": r.finished,
            "host": r.host, "data": _data(r.data), "by": r.by, "role": r.role,
            "output_truncated": r.output_truncated, "output_sha256": r.output_sha256,
            "hosts": [_result(h) for h in r.hosts],
            # Only when recorded, so results sealed before provenance existed keep their hash.
            **({"code": [[c.path, c.sha256] for c in r.code]} if r.code else {})}


def item_content(state: ItemState) -> dict[str, Any]:
    """What a sign-off covers of an item: definition, status, who/when, note, evidence, waiver.

    Reviewer runs and review notes are left out: a reviewer's re-run must not make the
    deployer's sign-offs stale.
    """
    waiver = state.waiver
    return {
        "title": state.title, "kind": state.kind, "critical": state.critical,
        "section": state.section, "group": state.group, "depends_on": list(state.depends_on),
        "fresh_for": state.fresh_for,
        "check": state.check, "status": str(state.status), "by": state.by, "at": state.at,
        "note": state.note, "removed": state.removed,
        "waiver": None if waiver is None else {"reason": waiver.reason, "approver": waiver.approver,
                                               "by": waiver.by, "at": waiver.at,
                                               "expires": waiver.expires},
        "runs": [_result(r) for r in state.runs if r.role != Role.REVIEWER],
        "history": [{"status": str(h.status), "by": h.by, "at": h.at, "note": h.note}
                    for h in state.history],
    }


def content_parts(session: Session) -> dict[str, str]:
    """The hash of each covered part.

    ``checklist`` (id, title, sha256, created, which variables are secret), ``header.<field>``,
    ``variables.<name>``, ``flags.<name>``, ``roles`` (the sign-off roles and whether each is
    required) and ``item:<key>`` for every item.
    """
    parts = {
        "checklist": _digest({"id": session.checklist_id, "title": session.checklist_title,
                              "sha256": session.checklist_sha256, "created": session.created,
                              "secret_variables": list(session.secret_variables)}),
        "roles": _digest([role.as_dict() for role in session.signoff_roles]),
    }
    for name in HEADER_FIELDS:
        parts[f"header.{name}"] = _digest(session.header.get(name, ""))
    for name, value in session.variables.items():
        parts[f"variables.{name}"] = _digest(value)
    for name, flag in session.flags.items():
        parts[f"flags.{name}"] = _digest(flag)
    for key, state in session.items.items():
        parts[f"item:{key}"] = _digest(item_content(state))
    return parts


def content_hash(session: Session) -> str:
    """One hash over every covered part: what a sign-off approves."""
    return _digest(content_parts(session))


def changed_parts(before: dict[str, str], session: Session) -> list[str]:
    """Parts whose hash differs from ``before`` (added and removed parts included; seals aside)."""
    now = content_parts(session)
    keys = (set(before) | set(now)) - set(_SEALS)
    return sorted(k for k in keys if before.get(k) != now.get(k))


def signoff_seal(signoff: SignOff) -> str:
    """The hash of a sign-off's own record: role, title, who, when, comment, what was approved.

    The signature and its key are left out: they are added after sealing and verified on their own.
    """
    return _digest({"role": signoff.role, "title": signoff.title, "name": signoff.name,
                    "at": signoff.at, "comment": signoff.comment,
                    "content_sha256": signoff.content_sha256})


def decision_seal(decision: Decision) -> str:
    """The hash of the decision's own record (the reviewer's later fields are left out)."""
    return _digest({"status": decision.status, "suggested": decision.suggested,
                    "justification": decision.justification, "notes": decision.notes,
                    "risk": decision.risk, "suggested_risk": decision.suggested_risk,
                    "completed_by": decision.completed_by, "completed_at": decision.completed_at,
                    "content_sha256": decision.content_sha256})


def seal_signoff(session: Session, signoff: SignOff) -> SignOff:
    """``signoff`` holding the hash of the content it approves, each part's hash and its seal.

    Call before ``Session.sign``; an SSH signature (engine.signing) signs ``content_sha256``.
    """
    parts = content_parts(session)
    sealed = replace(signoff, content_sha256=_digest(parts), covered=parts)
    sealed.covered = {**parts, SEAL_SIGNOFF: signoff_seal(sealed)}
    return sealed


def seal_decision(session: Session, decision: Decision) -> Decision:
    """``decision`` holding the hash of the content it was made on, each part's hash and a seal."""
    parts = content_parts(session)
    sealed = replace(decision, content_sha256=_digest(parts), covered=parts)
    sealed.covered = {**parts, SEAL_DECISION: decision_seal(sealed)}
    return sealed


def _record_changed(signoff: SignOff) -> bool:
    seal = signoff.covered.get(SEAL_SIGNOFF)
    return seal is not None and seal != signoff_seal(signoff)


def stale_signoffs(session: Session) -> list[str]:
    """Roles whose latest sign-off approved content that has changed since (or was edited)."""
    current = content_hash(session)
    stale = []
    for role in {s.role for s in session.signoffs}:
        signed = session.signoff(role)
        if signed is not None and signed.content_sha256 \
                and (signed.content_sha256 != current or _record_changed(signed)):
            stale.append(role)
    return sorted(stale)


def decision_stale(session: Session) -> bool:
    """Whether the decision approved content that has changed since it was made."""
    decided = session.decision
    return bool(decided.status and decided.content_sha256
                and decided.content_sha256 != content_hash(session))


@dataclass(frozen=True)
class Finding:
    """One approval (a sign-off or the decision) whose approved content or record changed."""

    what: str
    """``signoff:<role>`` or ``decision``."""
    label: str
    """In words: "Engineering lead approval by Ana (2024-05-01 10:00 UTC)"."""
    changed: tuple[str, ...]
    """Covered parts that differ now (see :func:`content_parts`), empty when only the record did."""
    record_changed: bool
    """The sign-off's or decision's own record was edited after it was made."""
    unknown: bool = False
    """The content hash differs but no per-part hashes were stored to say where."""


def check(session: Session) -> list[Finding]:
    """Every approval whose content or record changed since it was made; empty when intact."""
    current = content_hash(session)
    out: list[Finding] = []
    for role in dict.fromkeys(s.role for s in session.signoffs):
        s = session.signoff(role)
        if s is None or not s.content_sha256:
            continue
        label = f"{s.title or role} by {s.name} ({_when(s.at)})"
        finding = _finding(f"signoff:{role}", label, s.content_sha256, s.covered, session, current,
                           _record_changed(s))
        if finding is not None:
            out.append(finding)
    d = session.decision
    if d.status and d.content_sha256:
        seal = d.covered.get(SEAL_DECISION)
        label = f"decision {d.status} by {d.completed_by or '?'} ({_when(d.completed_at)})"
        finding = _finding("decision", label, d.content_sha256, d.covered, session, current,
                           seal is not None and seal != decision_seal(d))
        if finding is not None:
            out.append(finding)
    return out


def _finding(what: str, label: str, approved: str, covered: dict[str, str], session: Session,
             current: str, record_changed: bool) -> Finding | None:
    content_changed = approved != current
    parts = changed_parts(covered, session) if covered and content_changed else []
    if covered and _digest({k: v for k, v in covered.items() if k not in _SEALS}) != approved:
        # The stored per-part hashes were edited too: they no longer add up to what was approved.
        record_changed = True
    if not content_changed and not record_changed:
        return None
    return Finding(what, label, tuple(parts), record_changed,
                   unknown=content_changed and not parts)


def describe_part(part: str, session: Session) -> str:
    """A covered part in words: ``item:db.backup`` -> ``item db.backup (Recent backup exists)``."""
    if part.startswith("item:"):
        key = part[5:]
        state = session.items.get(key)
        if state is None:
            return f"item {key} (removed from the session)"
        return f"item {key} ({state.title})"
    if part == "roles":
        return "sign-off roles"
    if part == "checklist":
        return "checklist identity (id, title, sha256, created)"
    return part


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "no date"
