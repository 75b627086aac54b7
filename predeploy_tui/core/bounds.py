"""Provides the bounds a file from the user is held to before it is parsed: size and nesting.

The compiled TOML reader dies with SIGSEGV on a value nested ten thousand deep, and the pure
Python readers (tomllib, PyYAML's composer, the checklist's spec walk) run out of recursion
near a thousand; nothing a person writes is nested more than a few levels. So every session
and checklist is measured here first, and refused with a located message when it is too big
or too deep, before any parser sees it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

MAX_SESSION_BYTES = 256 * 2**20
"""A session of 5,000 items with their runs is about 30 MB; eight times that is not a session."""
MAX_CHECKLIST_BYTES = 8 * 2**20
"""A checklist of thousands of items is well under 1 MB."""
MAX_DEPTH = 64
"""Nesting (arrays, inline tables, mappings, lists, dotted keys) deeper than this is refused."""


class Refused(ValueError):
    """The file is out of bounds: carries where (1-based line and column) and why."""

    def __init__(self, line: int, column: int, message: str) -> None:
        self.line, self.column, self.message = line, column, message
        super().__init__(message)


def read_bytes(path: Path, limit: int, what: str) -> bytes:
    """The file's bytes, refusing a non-regular file or one over ``limit`` before reading it.

    A FIFO or a device would block or never end; a folder is not a file. OSError (missing,
    unreadable) is left to the caller, which says so in its own words.
    """
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise Refused(1, 1, f"this is a folder, not a {what} file")
    if not stat.S_ISREG(info.st_mode):
        raise Refused(1, 1, f"this is not a regular file (a pipe or a device), not a {what} file")
    if info.st_size > limit:
        raise Refused(1, 1, f"the file is {info.st_size / 2**20:.1f} MiB; a {what} file is at "
                            f"most {limit // 2**20} MiB")
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise Refused(1, 1, f"the file grew past {limit // 2**20} MiB while it was read")
    return data


# -- TOML ---------------------------------------------------------------------------------------

_STRING = r'"(?!"")[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"|\'(?!\'\')[^\'\n]*+\''
_FLAT = r"[\[{](?:[^\[\]{}\"'#]++|" + _STRING + r")*+[\]}]"
_HEADER = r"\[\[(?:[^\[\]{}\"'#]++|" + _STRING + r")*+\]\]"
_QUIET = re.compile(r"(?:[^\[\]{}\"'#]++|" + _STRING + r"|#[^\n]*+|" + _FLAT + "|" + _HEADER + r")++")
"""What cannot change the nesting: text without brackets or quotes, one-line strings, comments
and bracket pairs holding none, or two (a table header, ``["uname", "-sr"]``, ``[[items.x]]``)."""
_BASIC_END = re.compile(r'[^"\\]*+(?:(?:\\.|"(?!""))[^"\\]*+)*+"""', re.S)
"""The rest of a multi-line basic string, up to its closing quotes."""


def check_toml(text: str) -> list[tuple[int, int]]:
    """Refuse TOML whose values nest deeper than :data:`MAX_DEPTH`, saying on which line.

    A regular expression (C speed) passes over everything that cannot change the nesting, so
    Python looks only at nested brackets and multi-line strings (skipped with ``find``): a
    session the writer wrote costs one step per multi-line string. Bracket kinds are not told
    apart: a parser descends into "[{[{" before it finds that they do not match.

    Returns where the multi-line strings are, ``(start, end)`` from their opening quotes to past
    their closing ones: most of a session's text, where :func:`long_number_line` need not look.
    """
    strings: list[tuple[int, int]] = []
    depth, pos, end = 0, 0, len(text)
    quiet = _QUIET.match
    while pos < end:
        m = quiet(text, pos)
        if m is not None and m.end() > pos:
            pos = m.end()
            continue
        c = text[pos]
        if c in "[{":
            depth += 1
            if depth > MAX_DEPTH - 2:  # two more levels may sit in a pair passed over
                _refuse(text, pos, f"values nested more than {MAX_DEPTH} deep")
            pos += 1
        elif c in "]}":
            depth = max(0, depth - 1)
            pos += 1
        elif text.startswith("'''", pos):
            close = text.find("'''", pos + 3)
            stop = end if close < 0 else _past_quotes(text, close, "'")
            strings.append((pos, stop))
            pos = stop
        elif text.startswith('"""', pos):
            rest = _BASIC_END.match(text, pos + 3)
            stop = end if rest is None else _past_quotes(text, rest.end() - 3, '"')
            strings.append((pos, stop))
            pos = stop
        else:
            pos += 1  # a quote that opens nothing valid: the parser will say so
    return strings


def _past_quotes(text: str, start: int, quote: str) -> int:
    """Past the closing quotes at ``start``: a multi-line string may end with up to five."""
    stop = start
    while stop < len(text) and stop - start < 5 and text[stop] == quote:
        stop += 1
    return stop


def _refuse(text: str, at: int, why: str) -> None:
    line = text.count("\n", 0, at) + 1
    raise Refused(line, at - (text.rfind("\n", 0, at) + 1) + 1,
                  f"{why}; a session file is never nested like this")


_DOTTED = re.compile(r"(?<![\w-])(?:(?:[\w-]++|" + _STRING + r")\s*+\.\s*+){" + str(MAX_DEPTH)
                     + "}")


def check_toml_keys(text: str) -> None:
    """Refuse a key of more than :data:`MAX_DEPTH` dotted parts (slow: for the pure reader only,
    which runs out of stack on one; the compiled reader takes them and the session reader
    bounds what it reads)."""
    m = _DOTTED.search(text)
    if m is not None:
        _refuse(text, m.start(), f"a key of more than {MAX_DEPTH} dotted parts")


# -- values read ------------------------------------------------------------------------------

def shallow(data: Any) -> bool:
    """Whether tables and lists nest at most :data:`MAX_DEPTH` deep (checked without recursion:
    hashing, showing and running a check recurse through them)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, dict | list):
            children = value.values() if isinstance(value, dict) else value
            stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


def json_shallow(data: Any) -> None:
    """ValueError when JSON evidence is nested deeper than :data:`MAX_DEPTH`."""
    if not shallow(data):
        raise ValueError("nested too deep")


_DIGIT_OR_UNDERSCORE = bytes(1 if b in b"0123456789_" else 0 for b in range(256))
"""A ``bytes.translate`` table: 1 for the characters of a decimal number, 0 for the rest."""
_LONG_RUN = b"\x01" * 19
"""19 digits (or underscores) in a row: every decimal, octal or binary outside 64 bits has them."""
_HEX_RUN = re.compile(rb"0x[0-9A-Fa-f_]{16}")
"""16 hexadecimal digits after ``0x``: every hexadecimal number outside 64 bits has them."""
_CHUNK = 1 << 20
"""Characters looked at a time: a large file never has a second, encoded copy."""
_OVERLAP = 32
"""Characters a chunk shares with the next, so that a run across the boundary is seen whole."""
_TOKEN = frozenset("+-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN_END = re.compile(r"[+\-_0-9A-Za-z]*")
_INTEGER = re.compile(r"[+-]?(?:[0-9][0-9_]*|0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+)")
_BEFORE_VALUE = frozenset("=[,{ \t\r\n")
"""What comes right before a value in TOML (after ``=``, in an array, after a line break)."""
_AFTER_VALUE = frozenset(",]}# \t\r\n")
_BASES = {"0x": 16, "0o": 8, "0b": 2}


def _runs(text: str) -> Iterator[int]:
    """Where 19 decimal digits (or underscores) or ``0x`` and 16 hexadecimal ones start.

    Whole numbers outside 64 bits have one of these runs (octal and binary more digits): each
    chunk is encoded as ASCII (any other character one ``?``, so offsets stay those of the
    text) and searched with ``bytes.translate`` + ``find`` and a literal-led regular expression,
    at C speed. A run is reported once or more; the caller keeps one per token.
    """
    for start in range(0, len(text), _CHUNK):
        data = text[start:start + _CHUNK + _OVERLAP].encode("ascii", "replace")
        for m in _HEX_RUN.finditer(data):
            if m.start() < _CHUNK:
                yield start + m.start()
        runs = data.translate(_DIGIT_OR_UNDERSCORE)
        pos = runs.find(_LONG_RUN)
        while 0 <= pos < _CHUNK:
            yield start + pos
            pos = runs.find(b"\x00", pos)  # past this run: a long one is reported once a chunk
            pos = -1 if pos < 0 else runs.find(_LONG_RUN, pos)


def _suspects(text: str) -> list[tuple[int, int | None]]:
    """(offset, value) of each integer token in a value's place that may be outside 64 bits.

    A token in a string may pass this test too: the caller confirms with the values parsed.
    The value is None when it has more digits than Python converts (far outside 64 bits).
    """
    found: dict[int, int | None] = {}
    for pos in _runs(text):
        start = pos
        while start and text[start - 1] in _TOKEN:
            start -= 1
        if start in found:
            continue
        end = _TOKEN_END.match(text, pos).end()  # type: ignore[union-attr]  # * always matches
        if (start == 0 or text[start - 1] in _BEFORE_VALUE) \
                and (end == len(text) or text[end] in _AFTER_VALUE) \
                and _INTEGER.fullmatch(text, start, end):
            found[start] = _integer(text[start:end])
    return sorted(found.items())


def _integer(token: str) -> int | None:
    """A TOML integer token's value (None: too many digits for Python to convert)."""
    digits = token.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    try:
        return sign * int(digits, _BASES.get(digits[:2], 10))
    except ValueError:
        return None


def _outside_64_bits(value: int | None) -> bool:
    return value is None or not -2**63 <= value < 2**63


def _suspect_between(text: str, strings: Sequence[tuple[int, int]]) -> bool:
    """Whether the text outside ``strings`` has a suspect outside 64 bits (:func:`_suspects`).

    The pieces are looked at about a chunk at a time, joined by line breaks (a number never
    spans two: a string lies between them), so no copy of the whole text is made while the
    parsed document is held.
    """
    batch: list[str] = []
    size = at = 0
    for start, stop in (*strings, (len(text), len(text))):
        batch.append(text[at:start])
        size += start - at
        at = stop
        if size >= _CHUNK or start == len(text):
            if any(_outside_64_bits(value) for _, value in _suspects("\n".join(batch))):
                return True
            batch, size = [], 0
    return False


def long_number_line(doc: dict[str, Any], text: str,
                     strings: Sequence[tuple[int, int]] = ()) -> int:
    """The line of a whole number outside 64 bits (TOML's range) in ``doc``, or 0.

    Only text with such a number in a value's place can have one (:func:`_suspects`), so a
    session pays for the walk through ``doc`` rarely; the line is that of the first number in
    the text whose value the walk found (not of some digits in a string before it).

    ``strings`` (from :func:`check_toml`, of a text the parser read without error) are the
    multi-line strings, where no number is: the text between them, each piece on a line of its
    own, is looked at first, and when it holds no suspect, neither does the whole text. Output
    is most of a session file, so this looks at a fifth of it.
    """
    if strings and not _suspect_between(text, strings):
        return 0
    suspects = [(at, value) for at, value in _suspects(text) if _outside_64_bits(value)]
    if not suspects:
        return 0
    outside: set[int] = set()
    stack: list[Any] = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and not -2**63 <= value < 2**63:
            outside.add(value)
    if not outside:
        return 0
    at = next((at for at, value in suspects if value is None or value in outside), suspects[0][0])
    return text.count("\n", 0, at) + 1


# -- YAML ---------------------------------------------------------------------------------------

_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_yaml(text: str, loader: type) -> None:
    """Refuse YAML nested deeper than :data:`MAX_DEPTH`, at the line where it gets too deep.

    The event stream is flat (the parser keeps its own stack), so measuring it cannot run out
    of recursion the way composing the node tree does. YAML errors are left to the caller.
    """
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _STARTS):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                raise Refused(line, column,
                              f"mappings and lists nested more than {MAX_DEPTH} deep; a "
                              "checklist is never nested like this")
        elif isinstance(event, _ENDS):
            depth -= 1
