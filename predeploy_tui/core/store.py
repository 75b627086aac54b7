"""Provides session file reading and writing: TOML, atomic, schema-versioned, locked."""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import toml_rs

from predeploy_tui.core import bounds, collector
from predeploy_tui.core.atomic import remove_leftovers as remove_leftovers
from predeploy_tui.core.atomic import write_atomic as write_atomic
from predeploy_tui.core.checklist import SignoffRole
from predeploy_tui.core.lock import SessionLock as SessionLock
from predeploy_tui.core.lock import SessionLocked as SessionLocked
from predeploy_tui.core.lock import holder_of as holder_of
from predeploy_tui.core.lock import locked as locked
from predeploy_tui.core.problems import Problem, suggest
from predeploy_tui.core.results import CheckResult, HistoryEntry, Status, Waiver
from predeploy_tui.core.session import (
    HEADER_FIELDS,
    SCHEMA_VERSION,
    Decision,
    ItemState,
    Session,
    SignOff,
)
from predeploy_tui.core.session_fields import (
    ABSENT,
    ITEM,
    RUN,
    BadValue,
    Table,
    stored_status,
)
from predeploy_tui.core.session_toml import dumps as dumps
from predeploy_tui.core.vocab import VerdictStatus, words


class SessionFileError(Exception):
    """A session file could not be read; carries every problem with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---------------------------------------------------------------------------------------------
# Reading.

class _Locator:
    """Finds the line of a table or key in TOML text, for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """The text's lines, split on the first problem only: a good file never pays for it."""
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

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
            # get() runs for every field of a large file: no tuple or set built when one exists.
            asked = self.asked.get(id(d))
            if asked is None:
                asked = self.asked[id(d)] = (d, table, set())
            asked[2].add(k)
        if k not in d:
            if required:
                self.bad(table, None, f"missing key {k!r}" + (f" in [{table}]" if table else ""))
            return default
        v = d[k]
        if not isinstance(v, types) or (isinstance(v, bool) and types in (int, float, (int, float))):
            names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
            self.bad(table, k, f"{k!r} should be {_WORDS.get(names, names)}, "
                               f"got {type(v).__name__} {_SHORT.repr(v)}")
            return default
        if isinstance(v, float) and not (math.isfinite(v) and abs(v) <= _MAX_FLOAT):
            self.bad(table, k, f"{k!r} should be a finite number of at most {_MAX_FLOAT:.0f}, "
                               f"got {v!r}")
            return default
        if isinstance(v, datetime) and v.tzinfo is None:
            self.bad(table, k, f"{k!r} must be a datetime with a time zone (UTC, ending in Z)")
            return default
        return v

    def typed_table(self, d: dict[str, Any], k: str, kind: type, table: str) -> dict[str, Any]:
        """A table of name = value where every value must be of ``kind`` (flags, variables)."""
        values = self.get(d, k, dict, table.rpartition(".")[0], {})
        out = {}
        for name in list(values):
            value = self.get(values, name, kind, table)
            if value is not None:
                out[name] = value
        return out

    def status(self, d: dict[str, Any], table: str) -> Status:
        try:
            return stored_status(self.get(d, "status", str, table, Status.PENDING))
        except BadValue as exc:
            self.bad(table, "status", str(exc))
            return Status.PENDING

    def fields(self, spec: Table, d: dict[str, Any], table: str) -> dict[str, Any]:
        """The model's values of ``spec``'s fields in ``d``, every problem reported."""
        out: dict[str, Any] = {}
        for f in spec.fields:
            value = self.get(d, f.name, f.accepts or f.exact, table, ABSENT)
            if f.derived:
                continue
            if value is ABSENT:
                value = f.default
            elif f.read is not None:
                try:
                    value = f.read(value)
                except BadValue as exc:
                    self.bad(table, f.name, str(exc))
                    value = f.default
            out[f.name] = value
        return out

    def result(self, d: dict[str, Any], table: str) -> CheckResult:
        if table.count(".hosts") > _MAX_HOSTS_DEPTH:
            self.bad(table, None, "hosts nested in hosts; a run's hosts hold no hosts of their own")
            return CheckResult(Status.ERROR, "")
        fast = self._well_formed_result(d, table)
        if fast is not None:
            return fast
        values = self.fields(RUN, d, table)
        hosts = self.get(d, "hosts", list, table, [])
        return CheckResult(**values, hosts=tuple(
            self.result(h, self._nth(f"{table.partition('#')[0]}.hosts"))
            for h in hosts if isinstance(h, dict)))

    def _well_formed_result(self, d: dict[str, Any], table: str) -> CheckResult | None:
        """The run when every key is known and of its exact type; None sends it to the checks.

        A saved session has tens of thousands of runs: checking each field through get() is most
        of the load time, and a file the writer wrote always passes this test at once.
        """
        values = _RUN_EXACT.values(d)
        if values is None:
            return None
        hosts = d.get("hosts")
        if hosts is not None and not all(type(h) is dict for h in hosts):
            return None
        values["hosts"] = tuple(self.result(h, self._nth(f"{table.partition('#')[0]}.hosts"))
                                for h in hosts) if hosts else ()
        return _result(values)

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
            flags=self.typed_table(meta, "flags", bool, "session.flags"),
            variables=self.typed_table(meta, "variables", str, "session.variables"),
            section_titles=self.typed_table(meta, "sections", str, "session.sections"),
            secret_variables=tuple(self.get(meta, "secret_variables", list, t, [])),
            approvals_sha256=self.get(meta, "approvals_sha256", str, t, ""),
            schema=doc.get("schema", SCHEMA_VERSION),
        )
        names: list[Any] = list(s.secret_variables)  # as read: a hand edit may hold anything
        if not all(isinstance(name, str) for name in names):
            self.bad(t, "secret_variables", "'secret_variables' should list variable names")
        for i, role in enumerate(self.get(doc, "roles", list, None, [])):
            table = f"roles#{i}"
            if not isinstance(role, dict):
                self.bad(table, None, f"role {i + 1} should be a table")
                continue
            s.signoff_roles.append(SignoffRole(
                role=self.get(role, "role", str, table, "", required=True),
                title=self.get(role, "title", str, table, ""),
                required=self.get(role, "required", bool, table, True),
                required_when=self.get(role, "required_when", str, table)))
        items = self.get(doc, "items", dict, None, {})
        for key in list(items):
            # Each parsed table is let go once its item is made, so the items being made take
            # the memory the tables leave: the whole parsed document and the whole session are
            # never both held.
            item = items.pop(key)
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
                covered=self.typed_table(so, "covered", str, f"signoffs.covered#{i}"),
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
            covered=self.typed_table(d, "covered", str, "decision.covered"))
        if s.decision.status and s.decision.status not in _VERDICTS:
            self.bad(t, "status", f"unknown decision {s.decision.status!r}; expected "
                                  + words(VerdictStatus))
        else:
            s.decision.status = _VERDICTS.get(s.decision.status, "")
        if s.decision.suggested in _VERDICTS:
            s.decision.suggested = _VERDICTS[s.decision.suggested]
        known = {"schema", "session", "header", "roles", "items", "signoffs", "decision"}
        for k in doc:
            if k not in known:
                self.bad(None, k, f"unknown top-level key {k!r}")
        return s

    def _well_formed_item(self, key: str, d: dict[str, Any], table: str) -> ItemState | None:
        """The item when its table is as the writer writes it (no waiver); None: the checks."""
        values = _ITEM_EXACT.values(d)
        if values is None:
            return None
        runs = d.get("runs", ())
        fresh_for = values["fresh_for"]
        if values["status"] is Status.WAIVED or not all(type(r) is dict for r in runs) \
                or (fresh_for is not None and not 0 <= fresh_for <= _MAX_FLOAT) \
                or ("check" in d and not bounds.shallow(d["check"])):
            return None
        if values["title"] is None:
            values["title"] = key
        return ItemState(
            key=key, **values, check=d.get("check"),
            runs=[self.result(r, f"{table}.runs#{i}") for i, r in enumerate(runs)],
            history=self.history(d.get("history", []), table))

    def check(self, d: dict[str, Any], table: str) -> dict[str, Any] | None:
        """An item's ``[..check]`` table, refused when nested past ``bounds.MAX_DEPTH``."""
        check = self.get(d, "check", dict, table)
        if check is not None and not bounds.shallow(check):
            self.bad(f"{table}.check", None, f"the check is nested more than "
                                              f"{bounds.MAX_DEPTH} deep")
            return None
        return check  # type: ignore[no-any-return]  # get() checked it is a dict

    def history(self, entries: list[Any], table: str) -> list[HistoryEntry]:
        """An item's ``[[...history]]`` tables."""
        return [HistoryEntry(self.status(h, f"{table}.history#{i}"),
                             self.get(h, "by", str, f"{table}.history#{i}", ""),
                             self.get(h, "at", datetime, f"{table}.history#{i}", None,
                                      required=True),
                             self.get(h, "note", str, f"{table}.history#{i}", ""))
                for i, h in enumerate(entries) if isinstance(h, dict)]

    def item(self, key: str, d: dict[str, Any]) -> ItemState:
        table = f'items."{key}"' if not _BARE_KEY.match(key) else f"items.{key}"
        fast = self._well_formed_item(key, d, table)
        if fast is not None:
            return fast
        values = self.fields(ITEM, d, table)
        if values["title"] is None:
            values["title"] = key
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
            key=key, **values, check=self.check(d, table), waiver=waiver,
            runs=[self.result(r, f"{table}.runs#{i}")
                  for i, r in enumerate(self.get(d, "runs", list, table, [])) if isinstance(r, dict)],
            history=self.history(self.get(d, "history", list, table, []), table),
        )
        if state.status is Status.WAIVED and waiver is None:
            self.bad(table, "status", "a waived item needs a [waiver] table with reason and "
                                      "approver")
        return state


class _Exact:
    """A field table's fast test: every key known, every value of exactly its type.

    A file the writer wrote has a handful of key orders per kind of table (optional keys are
    left out), so one tuple comparison in C checks every value's type.
    """

    def __init__(self, spec: Table) -> None:
        self.types = spec.types
        """Key -> the exact type its value must have (no bool for int, no int for float)."""
        self.seen: dict[tuple[str, ...], tuple[type, ...] | None] = {}
        """Key order -> the types in that order, or None when a key is unknown."""
        self._defaults = {f.name: f.default for f in spec.fields if not f.derived}
        """Every field passed to the model, in order, with its value when the key is absent."""
        self._drop = tuple(f.name for f in spec.fields if f.derived) + tuple(spec.nested)
        """Keys of the file that are no field of the model (derived, or read by the caller)."""
        self._times = tuple(f.name for f in spec.fields if f.exact is datetime and not f.derived)
        self._reads = tuple((f.name, f.read) for f in spec.fields
                            if f.read is not None and not f.derived)

    def exact(self, d: dict[str, Any]) -> bool:
        """Whether every key of ``d`` is known and its value of exactly the type it must be."""
        keys = tuple(d)
        if keys in self.seen:
            expected = self.seen[keys]
        else:
            types = self.types
            expected = tuple(types[k] for k in keys) if all(k in types for k in keys) else None
            if len(self.seen) < 1024:
                self.seen[keys] = expected
        return expected is not None and tuple(map(type, d.values())) == expected

    def values(self, d: dict[str, Any]) -> dict[str, Any] | None:
        """The model's values of the table's fields, or None when ``d`` needs the checks.

        Every key is known and of its exact type (:meth:`exact`), so the values are the
        defaults updated with ``d`` (in C), less the keys that are no field, with the few
        conversions and the time zones checked in Python.
        """
        if not self.exact(d):
            return None
        out = self._defaults.copy()
        out.update(d)
        for name in self._drop:
            out.pop(name, None)
        for name in self._times:
            when = out[name]
            if when is not None and when.tzinfo is None:
                return None
        for name, read in self._reads:
            if name in d:
                try:
                    out[name] = read(d[name])
                except BadValue:
                    return None
        return out


_SETS_EVERY_FIELD = ({f.name for f in RUN.fields if not f.derived} | {"hosts"}
                     == {f.name for f in dataclasses.fields(CheckResult)})
"""Whether the run table's fields and its hosts are every field of ``CheckResult``."""


def _result(values: dict[str, Any]) -> CheckResult:
    """``CheckResult(**values)``, where ``values`` holds every field, without its ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: most of
    the time of building the tens of thousands of runs of a large session. CheckResult has no
    ``__post_init__``, so filling its ``__dict__`` gives the same object; should the table and
    the class ever differ in their fields, the constructor is used (and says what is missing).
    """
    if not _SETS_EVERY_FIELD:
        return CheckResult(**values)
    result: CheckResult = object.__new__(CheckResult)
    result.__dict__.update(values)
    return result


_RUN_EXACT = _Exact(RUN)
"""A ``[[...runs]]`` table as the writer writes it."""
_ITEM_EXACT = _Exact(ITEM)
"""An ``[items.<key>]`` table as the writer writes it, without a waiver."""
_VERDICTS = {v.value: v for v in VerdictStatus}
_MAX_HOSTS_DEPTH = 2
"""A run's hosts (a host group fanned out) are one level; hand-made nesting stops here."""
_MAX_FLOAT = 1e12
"""Larger numbers (seconds: 30,000 years) are no duration a session holds; nan and inf neither."""
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")

_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 40
_SHORT.maxlevel = 3
"""A value in a message: short, and never recursing through a deeply nested table."""

_WORDS = {"str": "text", "int": "a whole number", "bool": "true or false",
          "datetime": "a date and time", "dict": "a table", "list": "a list",
          "int or float": "a number"}


def _parse(text: str, path: str, strings: list[tuple[int, int]]) -> dict[str, Any]:
    """The TOML document: toml-rs on the happy path, tomllib for the located error message.

    tomllib is the reference reader, but it takes seconds on a session of thousands of items;
    toml-rs (compiled, TOML 1.0 like tomllib, the same values: ``timezone.utc``, CRLF in
    multi-line strings read as LF) takes a fraction of that. When toml-rs refuses the text,
    tomllib reads it again and says where and why in the words users and tests know.
    """
    try:
        doc: dict[str, Any] = toml_rs.loads(text, toml_version="1.0.0")
        _within_64_bits(doc, text, path, strings)
        return doc
    except SessionFileError:
        raise
    except ValueError:
        pass  # toml_rs.TOMLDecodeError is a ValueError; tomllib below gives the located message
    try:
        bounds.check_toml_keys(text)  # tomllib runs out of stack on a deeply dotted key
        doc = tomllib.loads(text)
        _within_64_bits(doc, text, path, strings)
        return doc
    except bounds.Refused as exc:
        raise SessionFileError([Problem(path, exc.line, exc.column, exc.message)]) from None
    except ValueError as exc:
        if isinstance(exc, SessionFileError):
            raise
        if not isinstance(exc, tomllib.TOMLDecodeError):
            # Not a syntax error: a whole number too long to read (Python's 4,300-digit limit).
            digits = re.search(r"\d{4000}", text)
            at = text.count("\n", 0, digits.start()) + 1 if digits else 1
            raise SessionFileError([Problem(path, at, 1, f"a number too long to read: {exc}"
                                            .split(";")[0])]) from None
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise SessionFileError([Problem(path, line, col, f"TOML syntax error: {message}")]) \
            from None


def _within_64_bits(doc: dict[str, Any], text: str, path: str,
                    strings: list[tuple[int, int]]) -> None:
    """SessionFileError for a whole number TOML does not allow (64 bits) but tomllib reads."""
    line = bounds.long_number_line(doc, text, strings)
    if line:
        raise SessionFileError([Problem(path, line, 1, "a whole number larger than TOML allows "
                                                       "(64 bits)")])


def loads(text: str, path: str = "<session>") -> Session:
    """Parse session TOML; every problem is reported with its line.

    The collector is held off meanwhile (:func:`collector.held`): what is made here is kept.
    """
    with collector.held():
        return _loads(text, path)


def _loads(text: str, path: str) -> Session:
    try:
        strings = bounds.check_toml(text)
    except bounds.Refused as exc:
        raise SessionFileError([Problem(path, exc.line, exc.column, exc.message)]) from None
    doc = _parse(text, path, strings)
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
    try:
        session = reader.session(doc)
    except RecursionError:
        # A hand-made file nests tables the reader follows (hosts of hosts...) past its stack.
        raise SessionFileError([Problem(path, 1, 1, "tables nested deeper than a session "
                                                    "file ever is")]) from None
    reader.unknown_keys()
    if reader.problems:
        raise SessionFileError(sorted(reader.problems))
    return session


def load(path: str | Path) -> Session:
    """Read a session file."""
    path = Path(path)
    try:
        data = bounds.read_bytes(path, bounds.MAX_SESSION_BYTES, "session")
    except OSError as exc:
        raise SessionFileError([Problem(str(path), 1, 1, f"cannot read the file: "
                                                          f"{exc.strerror}")]) from None
    except bounds.Refused as exc:
        raise SessionFileError([Problem(str(path), exc.line, exc.column, exc.message)]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SessionFileError([Problem(str(path), data[: exc.start].count(b"\n") + 1, 1,
                                        "the file is not UTF-8 text")]) from None
    del data  # a large file's bytes need not stay beside its text while it is parsed
    return loads(text, str(path))


def save(session: Session, path: str | Path) -> str:
    """Write the session atomically; returns the text written."""
    text = dumps(session)
    write_atomic(Path(path), text)
    return text

