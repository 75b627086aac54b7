"""Provides the session as TOML text: stable order, one table per item, runs written fast.

The writer side of :mod:`predeploy_tui.core.store`, which re-exports :func:`dumps`.
"""

from __future__ import annotations

from predeploy_tui.core import tomlfmt
from predeploy_tui.core.results import CheckResult
from predeploy_tui.core.session import HEADER_FIELDS, Session
from predeploy_tui.core.session_fields import ITEM, RUN


def _write_result(w: tomlfmt.Writer, header: str, r: CheckResult) -> None:
    """One ``[[...runs]]`` table and its hosts' tables, ``header`` already written as TOML.

    Runs are the bulk of a large file, so their lines are written with no mapping built first:
    the same lines, in the same order, as ``Writer.pairs`` of the fields would.
    """
    value = tomlfmt.value
    w.blank()
    w.lines.append(f"[[{header}]]")
    w.lines += [name + " = " + value(v) for name, v in RUN.pairs(r)]
    for host in r.hosts:
        _write_result(w, header + ".hosts", host)


def dumps(session: Session) -> str:
    """The session as TOML text: stable order, one table per item."""
    w = tomlfmt.Writer()
    w.comment(f"predeploy session: {session.checklist_title}. This file is the release record:")
    w.comment("commit it with the release; `predeploy verify` checks it has not changed since sign-off.")
    w.pairs({"schema": session.schema})
    w.table(["session"])
    w.pairs({"checklist": session.checklist_path, "checklist_id": session.checklist_id,
             "checklist_title": session.checklist_title,
             "checklist_sha256": session.checklist_sha256, "created": session.created,
             "updated": session.updated, "secret_variables": list(session.secret_variables),
             "approvals_sha256": session.approvals_sha256 or None})
    w.table(["session", "variables"])
    w.pairs(session.variables)
    w.table(["session", "flags"])
    w.pairs(session.flags)
    if session.section_titles:
        w.table(["session", "sections"])
        w.pairs(session.section_titles)
    w.table(["header"])
    w.pairs({f: session.header.get(f, "") for f in HEADER_FIELDS})
    for role in session.signoff_roles:
        w.table(["roles"], array=True)
        w.pairs(role.as_dict())
    for state in session.items.values():
        base = ["items", state.key]
        header = "items." + tomlfmt.key(state.key)
        w.table(base)
        w.pairs(dict(ITEM.pairs(state)))
        if state.check is not None:
            w.table([*base, "check"])
            w.pairs(state.check)
        if state.waiver is not None:
            wv = state.waiver
            w.table([*base, "waiver"])
            w.pairs({"reason": wv.reason, "approver": wv.approver, "by": wv.by, "at": wv.at,
                     "expires": wv.expires})
        for entry in state.history:
            w.table([*base, "history"], array=True)
            w.pairs({"status": str(entry.status), "by": entry.by, "at": entry.at,
                     "note": entry.note or None})
        for run in state.runs:
            _write_result(w, header + ".runs", run)
    for s in session.signoffs:
        w.table(["signoffs"], array=True)
        w.pairs({"role": s.role, "title": s.title, "name": s.name, "at": s.at,
                 "comment": s.comment or None, "content_sha256": s.content_sha256 or None,
                 "signature": s.signature or None, "signer_key": s.signer_key or None})
        if s.covered:
            w.table(["signoffs", "covered"])
            w.pairs(s.covered)
    d = session.decision
    w.table(["decision"])
    w.pairs({"status": d.status, "suggested": d.suggested, "justification": d.justification,
             "notes": d.notes, "risk": d.risk, "suggested_risk": d.suggested_risk,
             "completed_by": d.completed_by, "completed_at": d.completed_at,
             "reviewed_by": d.reviewed_by, "reviewed_at": d.reviewed_at,
             "review_notes": d.review_notes, "content_sha256": d.content_sha256 or None})
    if d.covered:
        w.table(["decision", "covered"])
        w.pairs(d.covered)
    return w.text()
