"""Whole numbers outside 64 bits in a session file: refused in every TOML spelling, at their line,
and digits in text (hashes, timestamps in output) never taken for one."""

from __future__ import annotations

import re

import pytest
import toml_rs
from hypothesis import given, settings
from hypothesis import strategies as st

from predeploy_tui.core import bounds, store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.store import SessionFileError

from .builders import T0, all_green, tiny_session

NOISE = ("ns 1700000000123456789 since epoch\n"
         "addr 0x7ffd5e8a1c2b3d4e5f60718293a4b5c6 and 0xFFFFFFFFFFFFFFFFFF\n"
         "id 9_223_372_036_854_775_808_000\n")
"""Output holding what looks like numbers outside 64 bits: text, not numbers."""


def _text(output: str = NOISE) -> str:
    session = all_green(tiny_session())
    state = next(s for s in session.items.values() if s.kind == "check")
    state.runs.append(CheckResult(Status.FAIL, "disk full", output, 7, T0, T0, "db-1"))
    text = store.dumps(session)
    assert text.count("exit_code = 7\n") == 1
    return text


def _with_exit_code(token: str) -> tuple[str, int]:
    text = _text().replace("exit_code = 7\n", f"exit_code = {token}\n")
    return text, text[:text.index(f"exit_code = {token}")].count("\n") + 1


@pytest.mark.parametrize("token", ["9223372036854775808", "+9223372036854775808",
                                   "-9223372036854775809", "9_223_372_036_854_775_808",
                                   "0x8000000000000000", "0x8000_0000_0000_0000",
                                   "0o1000000000000000000000", "0b1" + "0" * 63, "9" * 5000])
def test_a_number_outside_64_bits_is_refused_at_its_line(token: str) -> None:
    text, line = _with_exit_code(token)
    with pytest.raises(SessionFileError) as caught:
        store.loads(text)
    [problem] = caught.value.problems
    assert (problem.line, problem.message) == (line, "a whole number larger than TOML allows "
                                                     "(64 bits)")


@pytest.mark.parametrize("token", ["9223372036854775807", "-9223372036854775808",
                                   "0x7fffffffffffffff", "0x0000000000000000001",
                                   "0o777777777777777777777", "0b" + "1" * 63,
                                   "1_000_000_000_000_000_000"])
def test_a_number_inside_64_bits_is_read(token: str) -> None:
    text, _ = _with_exit_code(token)
    [run] = [r for s in store.loads(text).items.values() for r in s.runs if r.summary == "disk full"]
    assert run.exit_code == int(token.replace("_", ""), 0)
    assert run.output == NOISE


@settings(max_examples=150, deadline=None)
@given(st.integers(-2**70, 2**70), st.sampled_from(["d", "d_", "x", "o", "b"]))
def test_any_spelling_of_any_number_is_judged_by_its_value(value: int, spelling: str) -> None:
    if spelling[0] != "d" and value < 0:
        value = -value  # TOML allows no sign before 0x, 0o, 0b
    token = {"d": str(value), "d_": f"{value:_}", "x": f"0x{value:x}", "o": f"0o{value:o}",
             "b": f"0b{value:b}"}[spelling]
    text, line = _with_exit_code(token)
    if -2**63 <= value < 2**63:
        assert store.loads(text) is not None
    else:
        with pytest.raises(SessionFileError, match=re.escape(f"<session>:{line}:1: a whole number")):
            store.loads(text)


def test_the_line_is_the_number_s_not_that_of_digits_in_text_before_it() -> None:
    text, line = _with_exit_code("9223372036854775808")
    text = text.replace('summary = "disk full"', 'summary = "disk full since 1700000000123456789"')
    with pytest.raises(SessionFileError) as caught:
        store.loads(text)
    assert [p.line for p in caught.value.problems] == [line]


@pytest.mark.parametrize("token", ["9223372036854775808", "0x8000000000000000",
                                   "1" + "0" * 30_000], ids=["decimal", "hex", "30,001 digits"])
@pytest.mark.parametrize("shift", [-40, -19, -18, -3, -1, 0, 1, 2])
def test_a_number_across_the_boundary_of_the_chunks_searched_is_found(token: str,
                                                                      shift: int) -> None:
    lead = "a = '" + "x" * (bounds._CHUNK - len("a = '") - len("'\nb = ") + shift) + "'\n"
    text = lead + f"b = {token}\n"
    assert abs(text.index(token) - bounds._CHUNK) <= 40
    value = 10**30_000 if len(token) > 30_000 else int(token, 0)
    assert bounds.long_number_line({"a": "", "b": value}, text) == 2


def test_the_depth_check_says_where_the_multi_line_strings_are() -> None:
    text = "a = '''\n[[x\n'''\nb = \"\"\"\n\\\"\"\"\n\"\"\"\nc = 1\nd = '''''x'''''\n"
    spans = bounds.check_toml(text)
    assert [text[a:b] for a, b in spans] == ["'''\n[[x\n'''", '"""\n\\"""\n"""', "'''''x'''''"]


DIGITS = "ns 1700000000123456789 0x8000000000000000 9_223_372_036_854_775_808\n"
BIG = "9223372036854775809"
"""Outside 64 bits, and no value of the digits in DIGITS (the line would be theirs)."""


@pytest.mark.parametrize(("text", "line"), [
    (f"a = '\'\'\n{DIGITS}'\'\'\nn = {BIG}\n", 4),
    (f'a = """\n{DIGITS}"""\nn = {BIG}\n', 4),
    (f"n = {BIG}\na = '\'\'{DIGITS}'\'\'\n", 1),
    (f"a = '\'\'{DIGITS}'\'\'\nn = {BIG}\nm = '\'\'{DIGITS}'\'\'\n", 3),
    (f"x = ['\'\'{DIGITS}'\'\',{BIG}]\n", 2),
    (f"x = [\n  '\'\'{DIGITS}'\'\'', {BIG},\n]\n", 3),
    (f"a = '\'\'\n{DIGITS}'\'\'\n", 0),
    (f'a = """{DIGITS}"""\nb = \'{BIG}\'\n', 0),
], ids=["after", "after-basic", "before", "between", "in-array", "in-array-after", "none",
        "in-a-string"])
def test_a_long_number_beside_multi_line_strings_is_found_and_digits_in_them_are_not(
        text: str, line: int) -> None:
    # The text between the multi-line strings is looked at on its own first: a number right
    # after or before one, or between two, is still found, at its line; digits in them never.
    spans = bounds.check_toml(text)
    assert spans
    doc = toml_rs.loads(text, toml_version="1.0.0")
    assert bounds.long_number_line(doc, text, spans) == line
    assert bounds.long_number_line(doc, text) == line


@pytest.mark.parametrize("where", [0, 17, 39])
def test_the_text_between_strings_is_looked_at_a_chunk_at_a_time_and_nothing_is_missed(
        where: int) -> None:
    # 40 strings with 60 KB between each: the pieces fill several chunks; the number is in the
    # first, a middle or the last of them.
    filler = "# " + "y" * 60_000 + "\n"
    parts = [f"s{i} = '''\n{DIGITS}'''\n{filler}" + (f"n = {BIG}\n" if i == where else "")
             for i in range(40)]
    text = "".join(parts)
    spans = bounds.check_toml(text)
    assert len(spans) == 40
    assert len(text) > 2 * bounds._CHUNK
    doc = toml_rs.loads(text, toml_version="1.0.0")
    line = text[:text.index(f"n = {BIG}")].count("\n") + 1
    assert bounds.long_number_line(doc, text, spans) == line == bounds.long_number_line(doc, text)
    clean = text.replace(f"n = {BIG}", "n = 1")
    assert bounds.long_number_line(toml_rs.loads(clean, toml_version="1.0.0"), clean,
                                   bounds.check_toml(clean)) == 0
