"""Provides hostile inputs for the fuzz tests and the soak run: checklists, sessions, markdown.

Each strategy starts from a real file (the demo checklist, a signed session, the seed
markdown) and breaks it the ways a hand edit, a bad copy or an attacker would: a chunk of
random or structural text inserted, a range deleted or repeated, deep nesting, huge or
non-finite numbers, control characters, lone surrogate escapes.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from hypothesis import strategies as st

from predeploy_tui.cli import main

ROOT = Path(__file__).resolve().parents[2]
CHECKLIST = (ROOT / "checklists" / "demo.yaml").read_text()
MARKDOWN = (ROOT / "tests" / "data" / "seed-pre-deployment-checklist.md").read_text()

_PIECES = ["[", "]", "{", "}", "'", '"', "'''", '"""', "\\", "#", ":", "-", "- ", ",", ".", "=",
           "\n", "\t", " ", "  ", "&a", "*a", "!!python/object ", "? ", "|", ">", "%", "@",
           "nan", "inf", "-inf", ".nan", ".inf", "1e999", "9" * 30, "9" * 5000, "0x", "\x00",
           "\x01", "\x1b[2J", "\x7f", "\u0085", "\u2028", "\ufeff", "\\ud800", "\\udfff",
           "\\U0010ffff", "\\x00", "é", "🚀", "true", "null", "~", "1979-05-27T07:32:00Z",
           "status = ", "fresh_for = ", "timeout: ", "[[signoffs]]\n", "[items.x]\n",
           "- [ ] ", "## ", "# ", "| a | b |\n", "```\n"]


@st.composite
def _chunk(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 5)) % 5 if draw(st.booleans()) else 2
    if kind == 0:
        return "".join(draw(st.lists(st.sampled_from(_PIECES), max_size=12)))
    if kind == 1:
        return draw(st.text(max_size=40))
    if kind == 2:  # deep nesting of one kind or mixed, closed or not
        depth = draw(st.sampled_from([10, 63, 64, 65, 200, 1000, 3000, 10_000]))
        if draw(st.booleans()) and depth <= 1000:  # YAML block mappings, one indent deeper each
            return "\n" + "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "1\n"
        opener = draw(st.sampled_from(["[", "{a = ", "{a: ", "- ", "[{", "x."]))
        closer = {"[": "]", "{a = ": "}", "{a: ": "}", "[{": "}]"}.get(opener, "")
        closed = draw(st.booleans())
        return opener * depth + "1" + (closer * depth if closed else "")
    if kind == 3:  # a number out of range
        return draw(st.sampled_from(["9" * 400, "9" * 4400, "-9" * 30, "1e400", "nan", "inf",
                                     ".nan", "-.inf", "1e-400", "0" * 50 + "1"]))
    return draw(st.characters(max_codepoint=0x10FFFF).filter(lambda c: not 0xD800 <= ord(c)
                                                                 <= 0xDFFF))


@st.composite
def broken(draw: st.DrawFn, base: str) -> str:
    """``base`` with one to three edits: an insertion, a deletion or a repetition."""
    text = base
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        how = min(3, draw(st.integers(0, 5)))  # half the edits replace a value
        if how == 0:
            text = text[:at] + draw(_chunk()) + text[at:]
        elif how == 1:
            end = draw(st.integers(at, min(len(text), at + 200)))
            text = text[:at] + text[end:]
        elif how == 2:
            end = draw(st.integers(at, min(len(text), at + 200)))
            text = text[:end] + text[at:end] * draw(st.integers(1, 3)) + text[end:]
        else:  # replace a value on a line with a chunk
            line = re.compile(r"(=|:) [^\n]*").search(text, at)
            if line is not None:
                text = text[:line.start() + 2] + draw(_chunk()) + text[line.end():]
    return text


def run_cli(*argv: str) -> tuple[int, str]:
    """Exit code and stderr of an in-process run (stdout discarded)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def problems(code: int, err: str, path: Path, allowed: tuple[int, ...]) -> list[str]:
    """What is wrong with a run on a hostile input: a traceback, an internal error, an exit
    code not in ``allowed``, an error about the file without its line and column."""
    out = []
    if code not in allowed:
        out.append(f"exit {code}")
    if "Traceback" in err or "internal error" in err:
        out.append("crash: " + err.strip()[-300:])
    for line in err.splitlines():
        if line.startswith(str(path)) and not re.match(rf"{re.escape(str(path))}:\d+:\d+: \S",
                                                       line):
            out.append(f"error without a location: {line[:200]}")
    return out
