"""Provides a deterministic TOML writer for session files.

tomli-w turns CRLF into LF inside multi-line strings, and a release record must keep output
byte-faithful, so session files are written here: stable key order, one table per item,
multi-line strings for output (``\\r`` escaped, so CRLF survives), UTC datetimes.
"""

from __future__ import annotations

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


def _esc(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def key(name: str) -> str:
    """A key, bare when it can be."""
    return name if _BARE_KEY.match(name) else string(name, multiline=False)


def string(value: str, multiline: bool = True) -> str:
    """A basic string; multi-line when it holds a newline, with every other control escaped."""
    if multiline and "\n" in value:
        return '"""\n' + _CONTROL_ML.sub(_esc, value) + '"""'
    return '"' + _CONTROL.sub(_esc, value) + '"'


def datetime_(value: datetime) -> str:
    """An offset datetime in UTC, ``Z`` suffix, microseconds when present."""
    if value.tzinfo is None:
        raise ValueError("session datetimes must be timezone-aware")
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def value(v: Any) -> str:
    """Any scalar, list or small mapping as an inline TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
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
        for k, v in mapping.items():
            if v is not None:
                self.lines.append(f"{key(k)} = {value(v)}")

    def text(self) -> str:
        """The document, ending with one newline."""
        return "\n".join(self.lines).rstrip("\n") + "\n"
