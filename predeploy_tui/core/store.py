"""Provides session file reading and writing: TOML, atomic, schema-versioned, locked."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from predeploy_tui.core import tomlfmt
from predeploy_tui.core.lock import SessionLock as SessionLock
from predeploy_tui.core.lock import SessionLocked as SessionLocked
from predeploy_tui.core.lock import holder_of as holder_of
from predeploy_tui.core.lock import locked as locked
from predeploy_tui.core.results import CheckResult, HistoryEntry, Status, Waiver
from predeploy_tui.core.session import (
    HEADER_FIELDS,
    SCHEMA_VERSION,
    Decision,
    ItemState,
    Session,
    SignOff,
)
from predeploy_tui.core.spec import Problem, suggest


class SessionFileError(Exception):
    """A session file could not be read; carries every problem with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---------------------------------------------------------------------------------------------
# Writing.

def _result_fields(r: CheckResult) -> dict[str, Any]:
    return {
        "status": str(r.status), "summary": r.summary, "exit_code": r.exit_code,
        "host": r.host, "by": r.by or None, "role": r.role,
        "started": r.started, "finished": r.finished,
        "duration": round(r.duration, 6) if r.duration is not None else None,
        "output_truncated": r.output_truncated or None,
        "output_sha256": r.output_sha256 or None,
        "data": json.dumps(r.data, ensure_ascii=False, sort_keys=True, indent=1, default=str)
        if r.data is not None else None,
        "output": r.output,
    }


def _write_result(w: tomlfmt.Writer, path: list[str], r: CheckResult) -> None:
    w.table(path, array=True)
    w.pairs(_result_fields(r))
    for host in r.hosts:
        _write_result(w, [*path, "hosts"], host)


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
             "updated": session.updated, "secret_variables": list(session.secret_variables)})
    w.table(["session", "variables"])
    w.pairs(session.variables)
    w.table(["session", "flags"])
    w.pairs(session.flags)
    w.table(["header"])
    w.pairs({f: session.header.get(f, "") for f in HEADER_FIELDS})
    for role in session.signoff_roles:
        w.table(["roles"], array=True)
        w.pairs(role)
    for state in session.items.values():
        base = ["items", state.key]
        w.table(base)
        w.pairs({
            "title": state.title, "kind": state.kind, "critical": state.critical,
            "section": state.section, "group": state.group,
            "depends_on": list(state.depends_on) or None, "fresh_for": state.fresh_for,
            "status": str(state.status), "by": state.by or None, "at": state.at,
            "note": state.note or None, "review_note": state.review_note or None,
            "removed": state.removed or None,
        })
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
            _write_result(w, [*base, "runs"], run)
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


# ---------------------------------------------------------------------------------------------
# Reading.

class _Locator:
    """Finds the line of a table or key in TOML text, for error messages."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def find(self, table: str | None, key: str | None = None) -> int:
        """The line of ``key`` in ``table``; ``table#n`` is the n-th (0-based) of an array."""
        start = 0
        if table is not None:
            table, _, nth = table.partition("#")
            wanted = int(nth or 0)
            pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
            for i, line in enumerate(self.lines):
                if pattern.match(line):
                    start = i
                    if wanted == 0:
                        break
                    wanted -= 1
        if key is None:
            return start + 1
        key_re = re.compile(r"^\s*(" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
        for i in range(start, len(self.lines)):
            if i > start and self.lines[i].lstrip().startswith("["):
                break
            if key_re.match(self.lines[i]):
                return i + 1
        return start + 1


class _Reader:
    """Reads parsed TOML into the session model, collecting located problems."""

    def __init__(self, text: str, path: str) -> None:
        self.loc = _Locator(text)
        self.path = path
        self.problems: list[Problem] = []
        self.seen: dict[str, int] = {}
        self.asked: dict[int, tuple[dict[str, Any], str, set[str]]] = {}
        """Per table read: the table, its name and the keys the reader asked for."""

    def unknown_keys(self) -> None:
        """Report keys no reader asked for: a hand-edit typo would otherwise be dropped on save."""
        for d, table, asked in self.asked.values():
            for k in d:
                if k not in asked:
                    options = sorted(asked)
                    self.bad(table, k, f"unknown key {k!r}{suggest(k, options)} in "
                                       f"[{table.partition('#')[0]}]; expected one of "
                                       + ", ".join(options))

    def _nth(self, table: str) -> str:
        """``table#n`` for the next of an array of tables read in file order (nested arrays)."""
        n = self.seen.get(table, 0)
        self.seen[table] = n + 1
        return f"{table}#{n}"

    def bad(self, table: str | None, key: str | None, message: str) -> None:
        self.problems.append(Problem(self.path, self.loc.find(table, key), 1, message))

    def get(self, d: dict[str, Any], k: str, types: type | tuple[type, ...], table: str | None,
            default: Any = None, required: bool = False) -> Any:
        if table is not None:
            self.asked.setdefault(id(d), (d, table, set()))[2].add(k)
        if k not in d:
            if required:
                self.bad(table, None, f"missing key {k!r}" + (f" in [{table}]" if table else ""))
            return default
        v = d[k]
        if not isinstance(v, types) or (isinstance(v, bool) and types in (int, float, (int, float))):
            names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            self.bad(table, k, f"{k!r} should be {_WORDS.get(names, names)}, "
                               f"got {type(v).__name__} {v!r:.40}")
            return default
        if isinstance(v, datetime) and v.tzinfo is None:
            self.bad(table, k, f"{k!r} must be a datetime with a time zone (UTC, ending in Z)")
            return default
        return v

    def status(self, d: dict[str, Any], table: str, allowed: tuple[Status, ...] | None = None) \
            -> Status:
        raw = self.get(d, "status", str, table, "pending")
        try:
            status = Status(raw)
            if status is Status.STALE:
                raise ValueError("stale is derived from the time, never stored")
        except ValueError:
            self.bad(table, "status", f"unknown status {raw!r}; expected one of "
                                      + ", ".join(s.value for s in Status if s is not Status.STALE))
            return Status.PENDING
        if allowed is not None and status not in allowed:
            self.bad(table, "status", f"status {raw!r} is not allowed here")
        return status

    def result(self, d: dict[str, Any], table: str) -> CheckResult:
        data_text = self.get(d, "data", str, table)
        data = None
        if data_text is not None:
            try:
                data = json.loads(data_text)
            except json.JSONDecodeError as exc:
                self.bad(table, "data", f"'data' is not valid JSON: {exc.msg}")
        hosts = self.get(d, "hosts", list, table, [])
        self.get(d, "duration", (int, float), table)  # derived from started/finished on load
        return CheckResult(
            status=self.status(d, table), summary=self.get(d, "summary", str, table, ""),
            output=self.get(d, "output", str, table, ""),
            exit_code=self.get(d, "exit_code", int, table),
            started=self.get(d, "started", datetime, table),
            finished=self.get(d, "finished", datetime, table),
            host=self.get(d, "host", str, table), data=data,
            hosts=tuple(self.result(h, self._nth(f"{table.partition('#')[0]}.hosts"))
                        for h in hosts if isinstance(h, dict)),
            by=self.get(d, "by", str, table, ""), role=self.get(d, "role", str, table, "deployer"),
            output_truncated=self.get(d, "output_truncated", bool, table, False),
            output_sha256=self.get(d, "output_sha256", str, table, ""),
        )

    def session(self, doc: dict[str, Any]) -> Session:
        meta = self.get(doc, "session", dict, None, {}, required=True)
        t = "session"
        header = self.get(doc, "header", dict, None, {}, required=True)
        s = Session(
            checklist_id=self.get(meta, "checklist_id", str, t, "", required=True),
            checklist_title=self.get(meta, "checklist_title", str, t, ""),
            checklist_path=self.get(meta, "checklist", str, t, ""),
            checklist_sha256=self.get(meta, "checklist_sha256", str, t, ""),
            created=self.get(meta, "created", datetime, t, None, required=True),
            updated=self.get(meta, "updated", datetime, t, None, required=True),
            header={f: str(self.get(header, f, str, "header", "")) for f in HEADER_FIELDS},
            flags={k: v for k, v in self.get(meta, "flags", dict, t, {}).items()
                   if isinstance(v, bool)},
            variables={k: str(v) for k, v in self.get(meta, "variables", dict, t, {}).items()},
            secret_variables=tuple(self.get(meta, "secret_variables", list, t, [])),
            schema=doc.get("schema", SCHEMA_VERSION),
        )
        for i, role in enumerate(self.get(doc, "roles", list, None, [])):
            if isinstance(role, dict) and isinstance(role.get("role"), str):
                s.signoff_roles.append(role)
            else:
                self.bad(f"roles#{i}", None, "each [[roles]] needs a 'role' name")
        for key, item in self.get(doc, "items", dict, None, {}).items():
            if not isinstance(item, dict):
                self.bad(None, None, f"item {key!r} should be a table")
                continue
            s.items[key] = self.item(key, item)
        for i, so in enumerate(self.get(doc, "signoffs", list, None, [])):
            table = f"signoffs#{i}"
            if not isinstance(so, dict):
                self.bad(table, None, f"sign-off {i + 1} should be a table")
                continue
            s.signoffs.append(SignOff(
                role=self.get(so, "role", str, table, "", required=True),
                title=self.get(so, "title", str, table, ""),
                name=self.get(so, "name", str, table, "", required=True),
                at=self.get(so, "at", datetime, table, None, required=True),
                comment=self.get(so, "comment", str, table, ""),
                content_sha256=self.get(so, "content_sha256", str, table, ""),
                covered=dict(self.get(so, "covered", dict, table, {})),
                signature=self.get(so, "signature", str, table, ""),
                signer_key=self.get(so, "signer_key", str, table, "")))
        d = self.get(doc, "decision", dict, None, {})
        t = "decision"
        s.decision = Decision(**{
            name: self.get(d, name, str, t, "") for name in (
                "status", "suggested", "justification", "notes", "risk", "suggested_risk",
                "completed_by", "reviewed_by", "review_notes", "content_sha256")},
            completed_at=self.get(d, "completed_at", datetime, t),
            reviewed_at=self.get(d, "reviewed_at", datetime, t),
            covered=dict(self.get(d, "covered", dict, t, {})))
        if s.decision.status and s.decision.status not in ("GO", "CONDITIONAL GO", "NO GO"):
            self.bad(t, "status", f"unknown decision {s.decision.status!r}; expected GO, "
                                  "CONDITIONAL GO or NO GO")
        known = {"schema", "session", "header", "roles", "items", "signoffs", "decision"}
        for k in doc:
            if k not in known:
                self.bad(None, k, f"unknown top-level key {k!r}")
        return s

    def item(self, key: str, d: dict[str, Any]) -> ItemState:
        table = f'items."{key}"' if not re.match(r"^[A-Za-z0-9_-]+$", key) else f"items.{key}"
        kind = self.get(d, "kind", str, table, "manual")
        if kind not in ("check", "manual", "action"):
            self.bad(table, "kind", f"unknown kind {kind!r}; expected check, manual or action")
        waiver = None
        wd = self.get(d, "waiver", dict, table)
        if wd is not None:
            wt = f"{table}.waiver"
            waiver = Waiver(reason=self.get(wd, "reason", str, wt, "", required=True),
                            approver=self.get(wd, "approver", str, wt, "", required=True),
                            by=self.get(wd, "by", str, wt, ""),
                            at=self.get(wd, "at", datetime, wt, None, required=True),
                            expires=self.get(wd, "expires", datetime, wt))
        state = ItemState(
            key=key, title=self.get(d, "title", str, table, key), kind=kind,
            critical=self.get(d, "critical", bool, table, False),
            section=self.get(d, "section", str, table, ""),
            group=self.get(d, "group", str, table, ""),
            depends_on=tuple(self.get(d, "depends_on", list, table, [])),
            fresh_for=self.get(d, "fresh_for", (int, float), table),
            check=self.get(d, "check", dict, table),
            status=self.status(d, table), by=self.get(d, "by", str, table, ""),
            at=self.get(d, "at", datetime, table), note=self.get(d, "note", str, table, ""),
            review_note=self.get(d, "review_note", str, table, ""),
            removed=self.get(d, "removed", bool, table, False),
            waiver=waiver,
            runs=[self.result(r, f"{table}.runs#{i}")
                  for i, r in enumerate(self.get(d, "runs", list, table, [])) if isinstance(r, dict)],
            history=[HistoryEntry(self.status(h, f"{table}.history#{i}"),
                                  self.get(h, "by", str, f"{table}.history#{i}", ""),
                                  self.get(h, "at", datetime, f"{table}.history#{i}", None,
                                           required=True),
                                  self.get(h, "note", str, f"{table}.history#{i}", ""))
                     for i, h in enumerate(self.get(d, "history", list, table, []))
                     if isinstance(h, dict)],
        )
        if state.fresh_for is not None:
            state.fresh_for = float(state.fresh_for)
        if state.status is Status.WAIVED and waiver is None:
            self.bad(table, "status", "a waived item needs a [waiver] table with reason and "
                                      "approver")
        return state


_WORDS = {"str": "text", "int": "a whole number", "bool": "true or false",
          "datetime": "a date and time", "dict": "a table", "list": "a list",
          "int or float": "a number"}


def loads(text: str, path: str = "<session>") -> Session:
    """Parse session TOML; every problem is reported with its line."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise SessionFileError([Problem(path, line, col, f"TOML syntax error: {message}")]) \
            from None
    schema = doc.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise SessionFileError([Problem(path, _Locator(text).find(None, "schema"), 1,
                                        "missing or invalid 'schema' version; this does not look "
                                        "like a predeploy session file")])
    if schema > SCHEMA_VERSION:
        raise SessionFileError([Problem(path, _Locator(text).find(None, "schema"), 1,
                                        f"session file schema {schema} is newer than this "
                                        f"predeploy understands ({SCHEMA_VERSION}); upgrade "
                                        "predeploy to open it")])
    reader = _Reader(text, path)
    session = reader.session(doc)
    reader.unknown_keys()
    if reader.problems:
        raise SessionFileError(sorted(reader.problems))
    return session


def load(path: str | Path) -> Session:
    """Read a session file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SessionFileError([Problem(str(path), 1, 1, f"cannot read the file: "
                                                          f"{exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SessionFileError([Problem(str(path), data[: exc.start].count(b"\n") + 1, 1,
                                        "the file is not UTF-8 text")]) from None
    return loads(text, str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file, fsync, rename and fsync the folder: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save(session: Session, path: str | Path) -> str:
    """Write the session atomically; returns the text written."""
    text = dumps(session)
    write_atomic(Path(path), text)
    return text


Saver = Callable[[Session], None]
