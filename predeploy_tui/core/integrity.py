"""Provides the canonical hash of a session's content, independent of TOML formatting.

A sign-off and the decision store the hash of what they approved and the hash of each part
(header, variables, each item), so a later change marks them stale and can be named.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import ItemState, Session


def _canon(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _canon(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canon(v) for v in value]
    return value


def _digest(value: Any) -> str:
    text = json.dumps(_canon(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _result(r: CheckResult) -> dict[str, Any]:
    return {"status": str(r.status), "summary": r.summary, "output": r.output,
            "exit_code": r.exit_code, "started": r.started, "finished": r.finished,
            "host": r.host, "data": r.data, "by": r.by, "role": r.role,
            "hosts": [_result(h) for h in r.hosts]}


def item_content(state: ItemState) -> dict[str, Any]:
    """What a sign-off covers of an item: status, who/when, note, evidence, waiver, history.

    Reviewer runs and review notes are left out: a reviewer's re-run must not make the
    deployer's sign-offs stale.
    """
    waiver = state.waiver
    return {
        "title": state.title, "kind": state.kind, "critical": state.critical,
        "check": state.check, "status": str(state.status), "by": state.by, "at": state.at,
        "note": state.note,
        "waiver": None if waiver is None else {"reason": waiver.reason, "approver": waiver.approver,
                                               "by": waiver.by, "at": waiver.at,
                                               "expires": waiver.expires},
        "runs": [_result(r) for r in state.runs if r.role != "reviewer"],
        "history": [{"status": str(h.status), "by": h.by, "at": h.at, "note": h.note}
                    for h in state.history],
    }


def content_parts(session: Session) -> dict[str, str]:
    """The hash of each covered part: ``header``, ``variables``, ``flags``, ``item:<key>``."""
    parts = {
        "checklist": _digest({"id": session.checklist_id, "sha256": session.checklist_sha256}),
        "header": _digest(session.header),
        "variables": _digest(session.variables),
        "flags": _digest(session.flags),
    }
    for key, state in session.items.items():
        parts[f"item:{key}"] = _digest(item_content(state))
    return parts


def content_hash(session: Session) -> str:
    """One hash over every covered part: what a sign-off approves."""
    return _digest(content_parts(session))


def changed_parts(before: dict[str, str], session: Session) -> list[str]:
    """Parts whose hash differs from ``before`` (added and removed parts included)."""
    now = content_parts(session)
    return sorted(k for k in set(before) | set(now) if before.get(k) != now.get(k))


def stale_signoffs(session: Session) -> list[str]:
    """Roles whose latest sign-off approved content that has changed since."""
    current = content_hash(session)
    stale = []
    for role in {s.role for s in session.signoffs}:
        signed = session.signoff(role)
        if signed is not None and signed.content_sha256 and signed.content_sha256 != current:
            stale.append(role)
    return sorted(stale)
