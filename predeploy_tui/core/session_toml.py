"""Provides the session as TOML text: stable order, one table per item, runs written fast.

The writer side of :mod:`predeploy_tui.core.store`, which re-exports :func:`dumps`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from operator import attrgetter, is_
from typing import Any

from predeploy_tui.core import collector, tomlfmt
from predeploy_tui.core.quantity import Seconds
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import (
    HEADER_FIELDS,
    RENDERED,
    RENDERED_CHECKS,
    ItemState,
    Session,
)
from predeploy_tui.core.session_fields import ITEM, _code_lines, _json_text, _seconds
from predeploy_tui.core.vocab import ItemKind, Role

RUN_WRITTEN = ("status", "summary", "exit_code", "host", "by", "role", "started", "finished",
               "duration", "output_truncated", "output_sha256", "code", "data", "output")
"""The keys :func:`_run_lines` writes, in order: :data:`RUN`'s fields (a test holds them equal)."""

_QUOTED = {str(s): tomlfmt.string(str(s)) for s in (*Status, *Role)}
"""A status's or role's value as a TOML string: the same few words end every run."""


def _run_lines(r: CheckResult, output: bool = True) -> list[str]:
    """The ``key = value`` lines of one run: ``RUN.pairs`` rendered, with no loop over fields.

    Runs are the bulk of a large file (three per item), so each field is written here with its
    ``write`` and ``omit_empty`` rules inlined, the same lines in the same order as
    ``[k + " = " + tomlfmt.value(v) for k, v in RUN.pairs(r)]`` (a test compares the two on
    generated runs); a value of an unexpected type goes through :func:`tomlfmt.value` as there.
    """
    value, string, when = tomlfmt.value, tomlfmt.string, tomlfmt.datetime_
    lines: list[str] = []
    v: Any
    if (v := r.status) is not None:
        v = str(v)
        lines.append("status = " + (_QUOTED.get(v) or value(v)))
    if (v := r.summary) is not None:
        lines.append("summary = " + (string(v) if type(v) is str else value(v)))
    if (v := r.exit_code) is not None:
        lines.append("exit_code = " + (str(v) if type(v) is int else value(v)))
    if (v := r.host) is not None:
        lines.append("host = " + (string(v) if type(v) is str else value(v)))
    if v := r.by:
        lines.append("by = " + value(v))
    if (v := r.role) is not None:
        known = _QUOTED.get(v) if type(v) is Role or type(v) is str else None
        lines.append("role = " + (known or value(v)))
    started, finished = r.started, r.finished
    if started is not None:
        lines.append("started = " + (when(started) if type(started) is datetime else value(started)))
    if finished is not None:
        lines.append("finished = " + (when(finished) if type(finished) is datetime
                                      else value(finished)))
    if started is not None and finished is not None:
        lines.append("duration = " + value(_seconds(r.duration)))  # type: ignore[arg-type]
    if v := r.output_truncated:
        lines.append("output_truncated = " + value(v))
    if v := r.output_sha256:
        lines.append("output_sha256 = " + value(v))
    if v := r.code:
        lines.append("code = " + value(_code_lines(v)))
    if (v := r.data) is not None:
        lines.append("data = " + value(_json_text(v)))
    if output and (v := r.output) is not None:
        lines.append("output = " + (string(v) if type(v) is str else value(v)))
    return lines


_CACHE = "_toml_lines"
"""The attribute a run's rendered lines are kept in (see :func:`_rendered`)."""


def _rendered(r: CheckResult) -> str:
    """A run's lines (:func:`_run_lines`) joined; what does not hold the output is kept on the run.

    A run is a frozen dataclass of immutable values (text, numbers, datetimes, enums, a tuple of
    frozen ``CodeFile``), so its lines cannot change once written, and the next save (autosave,
    after every change) renders only the runs added since. A run with ``data`` (a JSON value of
    lists and tables that could be changed in place) is rendered afresh every time. Output written
    as a literal string is not kept twice: the run keeps the text before and after it, a few
    hundred bytes a run, not the output's size. The hosts are runs of their own.
    """
    known: tuple[str, str] | None = r.__dict__.get(_CACHE)
    if known is None:
        if type(r.output) is str and tomlfmt.is_literal(r.output):
            # What string() writes for it, known without writing it: the output is copied once,
            # into the text of the save, not into a line that is then compared and cut.
            lines = _run_lines(r, output=False)
            lines.append(_LITERAL_OUTPUT)
            known = ("\n".join(lines), "'''")
        else:
            known = ("\n".join(_run_lines(r)), "")
        if r.data is None:
            object.__setattr__(r, _CACHE, known)  # frozen: not a field, never compared or shown
    before, after = known
    return before + r.output + after if after else before


_LITERAL_OUTPUT = "output = '''\n"
"""How the output line starts when the output is written as a literal string."""


def _write_result(w: tomlfmt.Writer, header: str, r: CheckResult) -> None:
    """One ``[[...runs]]`` table and its hosts' tables, ``header`` already written as TOML."""
    w.blank()
    w.lines.append(f"[[{header}]]")
    if text := _rendered(r):
        w.lines.append(text)
    for host in r.hosts:
        _write_result(w, header + ".hosts", host)


_ITEM_VALUES = attrgetter("key", *(f.name for f in ITEM.fields))
"""An item's key and every value its ``[items.<key>]`` table is written from, in one call."""
_IMMUTABLE = frozenset({str, bool, int, float, type(None), datetime, Status, ItemKind, Seconds})
"""Types whose values cannot change in place: the same object always writes the same text."""
_IMMUTABLE_OR_TUPLE = _IMMUTABLE | {tuple}
"""And a tuple, kept when it holds text only (``depends_on``)."""


def _item_table(state: ItemState, kept: dict[str, tuple[Any, ...]]) -> str:
    """The ``[items.<key>]`` header and its ``key = value`` lines, rendered again only on change.

    Autosave writes the whole session after every change, and most items have not changed: the
    text is kept in ``kept`` (by item key) after the very objects it was written from (the key
    and each field of :data:`ITEM`, with a duration's written form), and reused only while every
    one of them is still the same object (``is``, never ``==``: ``1 == 1.0 == True`` but each
    is written differently). Only values of immutable types are kept (text, numbers,
    datetimes, enums, a tuple of text), so no change can hide inside a kept object; an item
    holding anything else is rendered every time. The check, waiver and history (mutable
    tables) are not covered here.

    ``kept`` is the session's (``Session.__post_init__`` makes it), shared by ``copy.copy`` of
    the session, so the text a snapshot renders on the autosave thread serves the session it
    was copied from; each entry is one tuple, replaced whole, so a reader on another thread
    sees the values and the text written from them together.
    """
    values: tuple[Any, ...] = _ITEM_VALUES(state)
    fresh = state.fresh_for
    if type(fresh) is Seconds:
        values += (fresh.text,)  # a Seconds keeps its written form in an attribute of its own
    known = kept.get(state.key)
    if known is not None and len(known) == len(values) + 1 and all(map(is_, known, values)):
        return known[-1]  # type: ignore[no-any-return]  # the text, after the values
    # Writer.table and Writer.pairs, inlined: the keys of ITEM are bare, its pairs hold no None.
    value = tomlfmt.value
    text = "\n".join(["[items." + tomlfmt.key(state.key) + "]",
                      *[k + " = " + value(v) for k, v in ITEM.pairs(state)]])
    kinds = set(map(type, values))
    if kinds <= _IMMUTABLE or (kinds <= _IMMUTABLE_OR_TUPLE and all(
            type(x) is str for v in values if type(v) is tuple for x in v)):
        kept[state.key] = (*values, text)
    elif known is not None:
        kept.pop(state.key, None)  # another thread may have dropped it too
    return text


def _check_table(state: ItemState, kept: dict[str, tuple[str, str]]) -> str:
    """The ``[items.<key>.check]`` header and its lines, rendered again only on change.

    A check is a table of plain values (text, numbers, true/false, dates, lists and tables of
    them), so its ``repr`` says everything its text does and tells apart every value the text
    tells apart (``1``, ``1.0`` and ``True``; a list and a tuple; any change of text), in a
    quarter of the time of writing the table. The text is kept in ``kept`` (by item key) with
    that ``repr``, and reused while the item's check has the same one: changed in place,
    replaced, or copied into the autosave's snapshot, the check is judged by what it holds. A
    check holding any other kind of value (whose ``repr`` might not say all) is never kept.
    Each entry is one tuple, replaced whole (the snapshot rendered on the autosave thread shares
    ``kept``, see :func:`_item_table`).
    """
    fingerprint = repr(state.check)
    known = kept.get(state.key)
    if known is not None and known[0] == fingerprint:
        return known[1]
    text = _render_check(state.key, state.check)
    if _plain(state.check):
        kept[state.key] = (fingerprint, text)
    else:
        kept.pop(state.key, None)
    return text


_PLAIN_LEAVES = frozenset({str, int, float, bool, type(None), datetime, date})


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is made of plain values only (exact types, no subclass), not too deep."""
    kind = type(value)
    if kind is datetime:
        return value.tzinfo is None or type(value.tzinfo) is timezone
    if kind in _PLAIN_LEAVES:
        return True
    if depth > 64:
        return False
    if kind is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v, depth + 1) for v in value)
    return False


def _render_check(key: str, check: dict[str, Any] | None) -> str:
    """The check table as :meth:`tomlfmt.Writer.table` and :meth:`~tomlfmt.Writer.pairs` write it."""
    w = tomlfmt.Writer()
    w.table(["items", key, "check"])
    w.pairs(check or {})
    return "\n".join(w.lines)


def dumps(session: Session) -> str:
    """The session as TOML text: stable order, one table per item.

    The collector is held off meanwhile (:func:`collector.held`): the lines made here are the
    text, and each run's are kept for the next save.
    """
    with collector.held():
        return _dumps(session)


def _dumps(session: Session) -> str:
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
    # setdefault: a session made without its __init__ has none (a copy keeps the original's).
    kept = session.__dict__.setdefault(RENDERED, {})
    kept_checks = session.__dict__.setdefault(RENDERED_CHECKS, {})
    for state in session.items.values():
        base = ["items", state.key]
        header = "items." + tomlfmt.key(state.key)
        w.blank()
        w.lines.append(_item_table(state, kept))
        if state.check is not None:
            w.blank()
            w.lines.append(_check_table(state, kept_checks))
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
