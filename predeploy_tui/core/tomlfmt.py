"""Provides a deterministic TOML writer for session files.

tomli-w turns CRLF into LF inside multi-line strings, and a release record must keep output
byte-faithful, so session files are written here: stable key order, one table per item,
multi-line strings for output, UTC datetimes. Multi-line text is written as a literal string
(``'''``) when it can be, which readers take in one step instead of character by character; text
with a ``\\r``, another control character or ``'''`` in it is written as an escaped basic string
(``\\r`` escaped, so CRLF survives).

Session files reach tens of megabytes, so the hot paths (:func:`value`, :func:`string`,
:meth:`Writer.pairs`) decide with cheap string methods and only fall back to a regex when the text
really needs escaping.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# Characters that must be escaped in a basic string (TOML 1.0): control characters, " and \.
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
            "\\": "\\\\"}
_CONTROL = re.compile(r'[\x00-\x08\x0a-\x1f\x7f"\\]')
_COMMENT_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_ML = re.compile(r'[\x00-\x08\x0b-\x1f\x7f\\]|"(?="|\Z)')
# What a multi-line literal string cannot hold (TOML 1.0): controls other than tab and newline.
# A CR is refused too: readers may turn CRLF into LF there, and output must stay byte-faithful.
_NOT_LITERAL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LITERAL_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"
"""The ASCII a literal string may hold: deleting these from good text leaves nothing (10x a regex)."""


def _esc(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


@functools.lru_cache(maxsize=4096)
def key(name: str) -> str:
    """A key, bare when it can be."""
    return name if _BARE_KEY.match(name) else string(name, multiline=False)


_SHORT: dict[str, str] = {}
"""Short one-line strings already written: names, statuses, hosts repeat in every run."""
_SHORT_MAX = 64
"""Longest string remembered, in characters (summaries of runs that repeat fit)."""
_SHORT_ENTRIES = 4096
"""How many are remembered before the memory starts over."""


def string(value: str, multiline: bool = True) -> str:
    """A string: multi-line when it holds a newline (literal when it can be), else basic."""
    known = _SHORT.get(value)
    if known is not None:
        return known
    if len(value) <= _SHORT_MAX and "\n" not in value:
        if len(_SHORT) >= _SHORT_ENTRIES:
            _SHORT.clear()
        known = _SHORT[value] = _basic(value)
        return known
    if multiline and "\n" in value:
        if is_literal(value):
            return "'''\n" + value + "'''"
        return '"""\n' + _CONTROL_ML.sub(_esc, value) + '"""'
    return _basic(value)


def is_literal(value: str) -> bool:
    """Whether :func:`string` writes ``value`` as a multi-line literal string: it holds a newline
    and no ``'''``, and each character is one a literal string may hold (no CR)."""
    return "\n" in value and "'''" not in value and (
        not value.encode("ascii").translate(None, _LITERAL_ASCII) if value.isascii()
        else not _NOT_LITERAL.search(value))


def _basic(value: str) -> str:
    """A one-line basic string, every control escaped."""
    # isprintable() is False for every control (and some other characters): then escape properly.
    if value.isprintable() and '"' not in value and "\\" not in value:
        return '"' + value + '"'
    return '"' + _CONTROL.sub(_esc, value) + '"'


def datetime_(value: datetime) -> str:
    """An offset datetime in UTC, ``Z`` suffix, microseconds when present."""
    tz = value.tzinfo
    if tz is None:
        raise ValueError("session datetimes must be timezone-aware")
    if tz is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat().replace("+00:00", "Z")


def _float(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def value(v: Any) -> str:
    """Any scalar, list or small mapping as an inline TOML value."""
    kind = type(v)
    # Exact types first: the common cases of a session file, without the isinstance chain.
    if kind is str:
        return string(v)
    if kind is bool:
        return "true" if v else "false"
    if kind is int:
        return str(v)
    if kind is float:
        return _float(v)
    if kind is datetime:
        return datetime_(v)
    return _value(v)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, datetime):
        return datetime_(v)
    if isinstance(v, Mapping):
        parts = [f"{key(str(k))} = {value(x)}" for k, x in v.items() if x is not None]
        return "{" + ", ".join(parts) + "}" if parts else "{}"
    if isinstance(v, Sequence):
        if any(x is None for x in v):
            return string(json.dumps(list(v), ensure_ascii=False), multiline=False)
        return "[" + ", ".join(value(x) if not isinstance(x, str) else string(x, False)
                               for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


class Writer:
    """Builds a TOML document line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str) -> None:
        """A comment line; line breaks and other controls (not allowed in comments) become spaces."""
        self.lines.append("# " + _COMMENT_CONTROL.sub(" ", text))

    def blank(self) -> None:
        """An empty line between tables."""
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def table(self, path: Sequence[str], array: bool = False) -> None:
        """A table header ``[a."b".c]`` (``[[...]]`` for an array of tables)."""
        self.blank()
        name = ".".join(key(p) for p in path)
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def pairs(self, mapping: Mapping[str, Any]) -> None:
        """``key = value`` lines, in the mapping's order, skipping None."""
        append = self.lines.append
        for k, v in mapping.items():
            if v is not None:
                append(key(k) + " = " + value(v))

    def text(self) -> str:
        """The document, ending with one newline."""
        lines = self.lines
        end = len(lines)
        while end and not lines[end - 1]:
            end -= 1
        if not end:
            return "\n"
        # One join, one copy of the document: no rstrip or concatenation of the whole text.
        parts = lines[:end]
        parts.append("")
        return "\n".join(parts)
