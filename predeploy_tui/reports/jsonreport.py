"""Provides the JSON report of a session: everything recorded, plus the verdict and integrity.

Documented by the JSON Schema in ``predeploy_tui/data/report.schema.json`` (``schema_path()``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from predeploy_tui.core import integrity
from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.verdict import suggest

REPORT_FORMAT = "predeploy-report/1"
"""The value of the report's ``format`` field; bumped when the shape changes incompatibly."""


def schema_path() -> Path:
    """The JSON Schema file of the report."""
    return Path(str(resources.files("predeploy_tui") / "data" / "report.schema.json"))


def _time(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at else None


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _result(r: CheckResult) -> dict[str, Any]:
    return {"status": r.status.value, "summary": r.summary, "output": r.output,
            "output_truncated": r.output_truncated, "output_sha256": r.output_sha256 or None,
            "exit_code": r.exit_code, "started": _time(r.started), "finished": _time(r.finished),
            "duration": r.duration, "host": r.host, "by": r.by, "role": r.role,
            "data": _jsonable(r.data), "hosts": [_result(h) for h in r.hosts],
            "code": [{"path": c.path, "sha256": c.sha256} for c in r.code]}


def _item(state: ItemState, now: datetime) -> dict[str, Any]:
    w = state.waiver
    result = state.result
    return {
        "key": state.key, "title": state.title, "kind": state.kind, "critical": state.critical,
        "section": state.section, "group": state.group, "depends_on": list(state.depends_on),
        "fresh_for": state.fresh_for, "status": state.effective_status(now).value,
        "recorded_status": state.status.value, "by": state.by, "at": _time(state.at),
        "note": state.note, "review_note": state.review_note, "removed": state.removed,
        "check": _jsonable(state.check),
        "waiver": None if w is None else {"reason": w.reason, "approver": w.approver, "by": w.by,
                                          "at": _time(w.at), "expires": _time(w.expires)},
        "result": _result(result) if result is not None else None,
        "runs": [_result(r) for r in state.runs],
        "history": [{"status": h.status.value, "by": h.by, "at": _time(h.at), "note": h.note}
                    for h in state.history],
    }


def to_json(session: Session, now: datetime) -> dict[str, Any]:
    """The whole session as JSON-able data (see the report schema)."""
    stale = integrity.stale_signoffs(session)
    verdict = suggest(session, now, stale_signoffs=stale)
    findings = integrity.check(session)
    d = session.decision
    return {
        "format": REPORT_FORMAT,
        "generated": _time(now),
        "checklist": {"id": session.checklist_id, "title": session.checklist_title,
                      "path": session.checklist_path, "sha256": session.checklist_sha256},
        "created": _time(session.created), "updated": _time(session.updated),
        "header": dict(session.header), "variables": dict(session.variables),
        "flags": dict(session.flags),
        "counts": {s.value: n for s, n in session.counts(now).items()},
        "verdict": {"status": verdict.status, "risk": verdict.risk, "scope": verdict.scope,
                    "line": verdict.line(),
                    "exit_code": verdict.exit_code,
                    "reasons": [{"verdict": r.verdict, "ref": r.ref, "text": r.text}
                                for r in verdict.reasons]},
        "items": [_item(state, now) for state in session.items.values()],
        "signoff_roles": [{"role": r.role, "title": r.title,
                           "required": r.is_required(session.flags)}
                          for r in session.signoff_roles],
        "signoffs": [{"role": s.role, "title": s.title, "name": s.name, "at": _time(s.at),
                      "comment": s.comment, "content_sha256": s.content_sha256 or None,
                      "signature": s.signature or None, "signer_key": s.signer_key or None,
                      "stale": s.role in stale and s is session.signoff(s.role)}
                     for s in session.signoffs],
        "decision": {"status": d.status or None, "suggested": d.suggested or None,
                     "justification": d.justification, "notes": d.notes, "risk": d.risk or None,
                     "suggested_risk": d.suggested_risk or None,
                     "completed_by": d.completed_by, "completed_at": _time(d.completed_at),
                     "reviewed_by": d.reviewed_by, "reviewed_at": _time(d.reviewed_at),
                     "review_notes": d.review_notes,
                     "content_sha256": d.content_sha256 or None},
        "integrity": {"content_sha256": integrity.content_hash(session),
                      "intact": not findings, "stale_signoffs": stale,
                      "findings": [{"what": f.what, "label": f.label, "changed": list(f.changed),
                                    "record_changed": f.record_changed,
                                    "tampered": list(f.tampered)} for f in findings]},
    }
