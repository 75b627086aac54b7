"""Provides the field tables of a session file: every key of an item's and a run's table, once.

The writer (:mod:`session_toml`), the fast reader and the checking reader (:mod:`store`) all take
the keys, their order, exact types, defaults and conversions from :data:`ITEM` and :data:`RUN`,
so a new field of ``ItemState`` or ``CheckResult`` is one row here (and its attribute there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from predeploy_tui.core import bounds
from predeploy_tui.core.provenance import CodeFile
from predeploy_tui.core.quantity import QuantityError, Seconds, parse_duration
from predeploy_tui.core.results import Status
from predeploy_tui.core.vocab import ItemKind, Role, words


class BadValue(ValueError):
    """A value of the right type that its field does not allow; the message says why."""


ABSENT: Any = object()
"""Marks a key a table does not hold."""


@dataclass(frozen=True)
class Field:
    """One key of a table: how it is written, checked and read."""

    name: str
    """The key in the file and the attribute of the model."""
    exact: type
    """The exact type the writer writes (no bool for int): what the fast reader checks."""
    default: Any = None
    """The model's value when the key is absent (or wrong, after the problem is reported)."""
    accepts: type | tuple[type, ...] | None = None
    """Types the checking reader accepts, when more than ``type`` (a hand-written ``3`` for 3.0)."""
    read: Callable[[Any], Any] | None = None
    """File value -> model value; raises :class:`BadValue` for a value the field does not allow."""
    write: Callable[[Any], Any] | None = None
    """Model value -> file value (None leaves the key out)."""
    omit_empty: bool = False
    """Leave the key out when the model value is empty ("", False, ())."""
    derived: bool = False
    """Written from a property of the model and checked on reading, never passed back to it."""


@dataclass(frozen=True)
class Table:
    """The fields of one kind of table, in the order they are written."""

    fields: tuple[Field, ...]
    """The scalar keys, written as ``key = value`` lines in this order."""
    nested: dict[str, type]
    """Keys written as sub-tables or arrays of tables by the writer's own code, and their type."""

    @property
    def types(self) -> dict[str, type]:
        """Every key and the exact type of its value in a file the writer wrote."""
        return {**{f.name: f.exact for f in self.fields}, **self.nested}

    def pairs(self, model: Any) -> list[tuple[str, Any]]:
        """The ``(key, file value)`` pairs of ``model``, in order, absent ones left out."""
        out = []
        for f in self.fields:
            value = getattr(model, f.name)
            if f.omit_empty and not value:
                continue
            if f.write is not None and value is not None:
                value = f.write(value)
            if value is not None:
                out.append((f.name, value))
        return out


def stored_status(raw: str) -> Status:
    """The status a file holds; stale (derived from the time) and unknown ones are refused."""
    status = _STORED_STATUSES.get(raw)
    if status is None:
        raise BadValue(f"unknown status {raw!r}; expected one of " + ", ".join(_STORED_STATUSES))
    return status


def _kind(raw: str) -> ItemKind:
    kind = _KINDS.get(raw)
    if kind is None:
        raise BadValue(f"unknown kind {raw!r}; expected {words(ItemKind)}")
    return kind


def _role(raw: str) -> Role:
    role = _ROLES.get(raw)
    if role is None:
        raise BadValue(f"unknown role {raw!r}; expected {words(Role)}")
    return role


def _json(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadValue(f"'data' is not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise BadValue(f"'data' is nested more than {bounds.MAX_DEPTH} deep") from None
    if not bounds.shallow(data):
        raise BadValue(f"'data' is nested more than {bounds.MAX_DEPTH} deep")
    return data


def _json_text(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1, default=str)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _code_files(lines: list[Any]) -> tuple[CodeFile, ...]:
    """``["<sha256>  <path>", ...]`` (sha256sum's format) as the files a run executed."""
    out: list[CodeFile] = []
    for line in lines:
        digest, sep, path = line.partition("  ") if isinstance(line, str) else ("", "", "")
        if not sep or not path or not _SHA256.match(digest):
            raise BadValue(f"'code' entries are \"<sha256>  <path>\" (sha256sum's format), not {line!r}")
        out.append(CodeFile(path, digest))
    return tuple(out)


def _code_lines(files: Sequence[CodeFile]) -> list[str]:
    return [f"{f.sha256}  {f.path}" for f in files]


def _list(values: Sequence[Any]) -> list[Any]:
    return list(values)


def _duration(raw: str | float) -> float:
    """A stored duration: the text written ("8h") kept beside its seconds; a number as seconds."""
    try:
        seconds = parse_duration(raw)
    except QuantityError as exc:
        raise BadValue(str(exc)) from None
    return Seconds(seconds, raw.strip()) if isinstance(raw, str) else seconds


def _duration_text(value: float) -> str | float:
    """A duration as the checklist wrote it when known, else in the largest whole unit."""
    if isinstance(value, Seconds):
        return value.text
    if float(value).is_integer():  # a whole number of seconds, int or float
        whole = int(value)
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if whole and whole % size == 0:
                return f"{whole // size}{unit}"
        return f"{whole}s"
    text = repr(float(value))
    return f"{text}s" if re.fullmatch(r"\d+\.\d+", text) else float(value)


def _seconds(duration: float) -> float:
    return round(duration, 6)


_STORED_STATUSES = {s.value: s for s in Status if s is not Status.STALE}
"""Statuses a file may hold: stale is derived from the time, never stored."""
_KINDS = {k.value: k for k in ItemKind}
_ROLES = {r.value: r for r in Role}

ITEM = Table(
    fields=(
        Field("title", str),  # absent: the item's key (the reader knows it)
        Field("description", str, "", omit_empty=True),
        Field("kind", str, ItemKind.MANUAL, read=_kind),
        Field("critical", bool, False),
        Field("section", str, ""),
        Field("group", str, ""),
        Field("depends_on", list, (), read=tuple, write=_list, omit_empty=True),
        Field("fresh_for", str, None, accepts=(str, int, float), read=_duration,
              write=_duration_text),
        Field("status", str, Status.PENDING, read=stored_status, write=str),
        Field("by", str, "", omit_empty=True),
        Field("at", datetime),
        Field("note", str, "", omit_empty=True),
        Field("review_note", str, "", omit_empty=True),
        Field("removed", bool, False, omit_empty=True),
        Field("partial_output", str, "", omit_empty=True),
    ),
    nested={"check": dict, "runs": list, "history": list},
)
"""An ``[items.<key>]`` table; a ``waiver`` sub-table is read by the checking reader only."""

RUN = Table(
    fields=(
        Field("status", str, Status.PENDING, read=stored_status, write=str),
        Field("summary", str, ""),
        Field("exit_code", int),
        Field("host", str),
        Field("by", str, "", omit_empty=True),
        Field("role", str, Role.DEPLOYER, read=_role),
        Field("started", datetime),
        Field("finished", datetime),
        Field("duration", float, accepts=(int, float), write=_seconds, derived=True),
        Field("output_truncated", bool, False, omit_empty=True),
        Field("output_sha256", str, "", omit_empty=True),
        Field("code", list, (), read=_code_files, write=_code_lines, omit_empty=True),
        Field("data", str, None, read=_json, write=_json_text),
        Field("output", str, ""),
    ),
    nested={"hosts": list},
)
"""A ``[[...runs]]`` table (and a host's ``[[...runs.hosts]]``)."""
