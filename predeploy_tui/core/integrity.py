"""Provides the canonical hash of a session's content and the approval chain over it.

A sign-off and the decision store the hash of what they approved (``content_sha256``) and the
hash of each part (``covered``: the checklist, its path, each header field, variable and flag,
the sign-off roles, the items' order and each item), so a later change marks them stale and can
be named. ``covered`` also holds a seal over the approval's own record (who, when, what, its
signature) and ``chain:before``, the hash of the approvals made before it; the session keeps
``approvals_sha256`` over every approval that exists. So an edited, removed, added, duplicated
or reordered approval, or one whose hashes were deleted, is *tampered*; a legitimate change of
content after an approval (a re-run) makes it *stale*. Both are "changed after sign-off".

The content is canonical data (sorted JSON of plain values, datetimes in UTC, absent == None,
whole floats == ints), so a load/save round trip or a reformatted file hashes the same.

Left outside the seal, by design (:data:`UNSEALED`): when the file was last saved, the
reviewer's work (review notes, reviewer re-runs, "reviewed by/at"), the ``duration`` of a run
(derived from its start and end when read) and TOML comments and formatting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import (
    CHAIN_BEFORE,
    HEADER_FIELDS,
    SEAL_DECISION,
    SEAL_SIGNOFF,
    Decision,
    ItemState,
    Session,
    SignOff,
    approvals_digest,
)
from predeploy_tui.core.vocab import Role

__all__ = ["CHAIN_BEFORE", "SEAL_DECISION", "SEAL_SIGNOFF"]

_NOT_PARTS = (SEAL_SIGNOFF, SEAL_DECISION, CHAIN_BEFORE)
_CHAINED_PARTS = ("order", "checklist.path")
"""Parts added with the approval chain: an approval sealed before it (no ``chain:before``)
covers the others only, so sessions sealed then still verify."""

UNSEALED = ("[session] updated (when the file was last saved)",
            "the reviewer's work: review_note of an item, runs with role = \"reviewer\", "
            "[decision] reviewed_by, reviewed_at, review_notes",
            "duration of a run (derived from started and finished when read)",
            "partial_output of an item while its check runs (the run's record, when it ends, is "
            "sealed)",
            "TOML comments and formatting")
"""What ``verify`` does not cover, in words (also in the README's session-file section)."""


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
        # Only when recorded, so items sealed before descriptions were saved keep their hash.
        **({"description": state.description} if state.description else {}),
    }


def content_parts(session: Session, chained: bool = True) -> dict[str, str]:
    """The hash of each covered part.

    ``checklist`` (id, title, sha256, created, which variables are secret, section titles when
    recorded), ``checklist.path``, ``header.<field>``, ``variables.<name>``, ``flags.<name>``,
    ``roles`` (the sign-off roles and whether each is required), ``order`` (the item keys in
    order) and ``item:<key>`` for every item. ``chained=False``: the parts of an approval sealed
    before the chain existed.
    """
    parts = {
        "checklist": _digest({"id": session.checklist_id, "title": session.checklist_title,
                              "sha256": session.checklist_sha256, "created": session.created,
                              "secret_variables": list(session.secret_variables),
                              **({"sections": session.section_titles}
                                 if session.section_titles else {})}),
        "roles": _digest([role.as_dict() for role in session.signoff_roles]),
    }
    if chained:
        parts["checklist.path"] = _digest(session.checklist_path)
        parts["order"] = _digest(list(session.items))
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
    now = content_parts(session, chained=CHAIN_BEFORE in before or not before)
    keys = (set(before) | set(now)) - set(_NOT_PARTS)
    return sorted(k for k in keys if before.get(k) != now.get(k))


def signoff_seal(signoff: SignOff) -> str:
    """The hash of a sign-off's own record: role, title, who, when, comment, what was approved.

    A chained sign-off's seal also covers its link and its signature (sign.py seals again
    after signing); one sealed before the chain left the signature to be verified on its own.
    """
    record: dict[str, Any] = {"role": signoff.role, "title": signoff.title, "name": signoff.name,
                              "at": signoff.at, "comment": signoff.comment,
                              "content_sha256": signoff.content_sha256}
    if CHAIN_BEFORE in signoff.covered:
        record.update(chain=signoff.covered[CHAIN_BEFORE], signature=signoff.signature or None,
                      signer_key=signoff.signer_key or None)
    return _digest(record)


def decision_seal(decision: Decision) -> str:
    """The hash of the decision's own record (the reviewer's later fields are left out)."""
    record: dict[str, Any] = {
        "status": decision.status, "suggested": decision.suggested,
        "justification": decision.justification, "notes": decision.notes,
        "risk": decision.risk, "suggested_risk": decision.suggested_risk,
        "completed_by": decision.completed_by, "completed_at": decision.completed_at,
        "content_sha256": decision.content_sha256}
    if CHAIN_BEFORE in decision.covered:
        record["chain"] = decision.covered[CHAIN_BEFORE]
    return _digest(record)


def seal_signoff(session: Session, signoff: SignOff) -> SignOff:
    """``signoff`` holding the hash of the content it approves, each part's hash, its link to
    the sign-offs before it and its seal.

    Call before ``Session.sign``; an SSH signature (engine.signing) signs ``content_sha256``,
    and :func:`reseal` seals the record again with it.
    """
    parts = content_parts(session)
    sealed = replace(signoff, content_sha256=_digest(parts),
                     covered={**parts, CHAIN_BEFORE: approvals_digest(session.signoffs)})
    return reseal(sealed)


def reseal(signoff: SignOff) -> SignOff:
    """``signoff`` with its seal made again (after its signature was added); returns it."""
    signoff.covered[SEAL_SIGNOFF] = signoff_seal(signoff)
    return signoff


def seal_decision(session: Session, decision: Decision) -> Decision:
    """``decision`` holding the hash of the content it was made on, each part's hash, its link
    to the sign-offs made before it and a seal."""
    parts = content_parts(session)
    sealed = replace(decision, content_sha256=_digest(parts),
                     covered={**parts, CHAIN_BEFORE: approvals_digest(session.signoffs)})
    sealed.covered[SEAL_DECISION] = decision_seal(sealed)
    return sealed


def chained(session: Session) -> bool:
    """Whether the session's approvals were made with the chain (False: sealed before it)."""
    return bool(session.approvals_sha256) or CHAIN_BEFORE in session.decision.covered \
        or any(CHAIN_BEFORE in s.covered for s in session.signoffs)


def decision_stale(session: Session) -> bool:
    """Whether the decision approved content that has changed since it was made."""
    decided = session.decision
    return bool(decided.status and decided.content_sha256
                and decided.content_sha256 != content_hash(session))


@dataclass(frozen=True)
class Finding:
    """One approval (a sign-off or the decision), or the set of them, that changed."""

    what: str
    """``signoff:<role>`` (the latest of a role), ``signoff:<role>#<n>`` (an earlier one, n
    counting sign-offs from 0), ``decision`` or ``approvals`` (the set of approvals)."""
    label: str
    """In words: "Engineering lead approval by Ana (2024-05-01 10:00 UTC)"."""
    changed: tuple[str, ...]
    """Covered parts that differ now (see :func:`content_parts`): the approval is stale."""
    record_changed: bool
    """The record was tampered with: see ``tampered`` for how."""
    unknown: bool = False
    """The content hash differs but no per-part hashes were stored to say where."""
    tampered: tuple[str, ...] = ()
    """How the record was tampered with, in words; empty when it is only stale."""


def signoff_key(session: Session, index: int) -> str:
    """The :attr:`Finding.what` of the sign-off at ``index``."""
    s = session.signoffs[index]
    latest = session.signoff(s.role)
    return f"signoff:{s.role}" if latest is s else f"signoff:{s.role}#{index}"


def _record(covered: dict[str, str], content_sha256: str, seal_key: str, seal: str) -> list[str]:
    """What is wrong with an approval's own record: missing or edited hashes, edited fields."""
    why = []
    if not content_sha256:
        why.append("it records no content hash")
    if not covered:
        why.append("its per-part hashes and seal are missing")
        return why
    stored = covered.get(seal_key)
    if stored is None:
        why.append("its seal is missing")
    elif stored != seal:
        why.append("its own record (who, when, what was approved) was edited")
    if content_sha256 and _digest({k: v for k, v in covered.items() if k not in _NOT_PARTS}) \
            != content_sha256:
        why.append("its per-part hashes were edited")
    return why


def check(session: Session) -> list[Finding]:
    """Every approval whose content changed (stale) or record was tampered with; empty: intact."""
    is_chained = chained(session)
    d = session.decision
    now: dict[bool, dict[str, str]] = {True: {}, False: {}}
    digests: dict[bool, str] = {}
    if session.signoffs or d.status or d.content_sha256 or d.covered:
        # Hashing every item is most of the work, and only an approval compares with it.
        parts = content_parts(session)
        now = {True: parts, False: {k: v for k, v in parts.items() if k not in _CHAINED_PARTS}}
        digests = {k: _digest(v) for k, v in now.items()}
    out: list[Finding] = []
    seen_chained = False
    for i, s in enumerate(session.signoffs):
        latest = session.signoff(s.role) is s
        why = _record(s.covered, s.content_sha256, SEAL_SIGNOFF, signoff_seal(s))
        link = s.covered.get(CHAIN_BEFORE)
        if link is not None:
            seen_chained = True
            if link != approvals_digest(session.signoffs[:i]):
                why.append("the sign-offs before it were removed, added, reordered or edited")
        elif seen_chained:
            why.append("its link to the sign-offs before it is missing")
        what = signoff_key(session, i)
        label = f"{s.title or s.role} by {s.name} ({_when(s.at)})" + ("" if latest else
                                                                        ", superseded")
        finding = _finding(what, label, s.content_sha256, s.covered, now, digests, why,
                           judge_content=latest)
        if finding is not None:
            out.append(finding)
    if d.status or d.content_sha256 or d.covered:
        why = _record(d.covered, d.content_sha256, SEAL_DECISION, decision_seal(d))
        if not d.status:
            why.append("its status was removed")
        link = d.covered.get(CHAIN_BEFORE)
        if link is not None and link not in {approvals_digest(session.signoffs[:k])
                                             for k in range(len(session.signoffs) + 1)}:
            why.append("the sign-offs made before it were removed, added, reordered or edited")
        label = f"decision {d.status or '(none)'} by {d.completed_by or '?'} " \
                f"({_when(d.completed_at)})"
        finding = _finding("decision", label, d.content_sha256, d.covered, now, digests, why,
                           judge_content=True)
        if finding is not None:
            out.append(finding)
    if is_chained:
        expected = approvals_digest(session.signoffs, d)
        if session.approvals_sha256 != expected:
            why = ["[session] approvals_sha256, the record of which approvals exist, is missing"
                   if not session.approvals_sha256 else
                   "an approval was removed, added, duplicated or reordered: the approvals no "
                   "longer add up to [session] approvals_sha256"]
            out.append(Finding("approvals", "the set of approvals", (), True,
                               tampered=tuple(why)))
    return out


def _finding(what: str, label: str, approved: str, covered: dict[str, str],
             now: dict[bool, dict[str, str]], digests: dict[bool, str], why: list[str],
             judge_content: bool) -> Finding | None:
    is_chained = CHAIN_BEFORE in covered or not covered
    content_changed = judge_content and bool(approved) and approved != digests[is_chained]
    parts: list[str] = []
    if covered and content_changed:
        current = now[is_chained]
        keys = (set(covered) | set(current)) - set(_NOT_PARTS)
        parts = sorted(k for k in keys if covered.get(k) != current.get(k))
    if not content_changed and not why:
        return None
    return Finding(what, label, tuple(parts), bool(why), unknown=content_changed and not parts,
                   tampered=tuple(why))


def stale_signoffs(session: Session) -> list[str]:
    """Roles whose latest sign-off approved content that has changed since, or was tampered with."""
    return sorted({f.what.split(":", 1)[1] for f in check(session)
                   if f.what.startswith("signoff:") and "#" not in f.what})


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
    if part == "checklist.path":
        return "checklist path"
    if part == "order":
        return "order of the items"
    return part


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at else "no date"
