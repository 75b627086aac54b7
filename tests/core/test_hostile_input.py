"""Hostile files are refused before any parser sees them: one located line, exit 2, no crash.

Nesting ten thousand deep killed the compiled TOML reader with SIGSEGV and ran the pure
readers out of recursion; huge numbers, nan and inf, lone surrogates and control characters
got "internal error" or a message at line 1. Each is now refused at its real line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.session import Session, SignOff

from .builders import T0, all_green, tiny_session

PREDEPLOY = Path(sys.executable).parent / "predeploy"
ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "checklists" / "demo.yaml").read_text()


def cli(*argv: str) -> tuple[int, str]:
    """Exit code and stderr of an in-process run."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def located(err: str, path: Path, line: int, fragment: str) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert re.search(rf"^{re.escape(str(path))}:{line}:\d+: .*{re.escape(fragment)}", err,
                     re.M), err


# -- checklists --------------------------------------------------------------------------------

CHECKLISTS: dict[str, tuple[Callable[[], str], int, str]] = {
    "flow lists 10,000 deep": (lambda: "id: x\ntitle: " + "[" * 10_000 + "]" * 10_000 + "\n",
                               2, "nested more than 64 deep"),
    "block lists 1,000 deep": (lambda: "id: x\ntitle:\n  " + "- " * 1000 + "x\n",
                               3, "nested more than 64 deep"),
    "mappings 1,000 deep": (lambda: "id: x\n" + "".join(" " * i + "a:\n" for i in range(1000))
                            + " " * 1000 + "1\n", 66, "nested more than 64 deep"),
    "a 5,000-digit number": (lambda: DEMO.replace("timeout: 5s", "timeout: " + "9" * 5000, 1),
                             29, "a number of 5000 digits"),
    "nan": (lambda: DEMO.replace("timeout: 5s", "timeout: .nan", 1), 29, "not a finite number"),
    "inf": (lambda: DEMO.replace("timeout: 5s", "timeout: .inf", 1), 29, "not a finite number"),
    "a 400-digit duration": (lambda: DEMO.replace("timeout: 5s", "timeout: " + "9" * 400 + "s",
                                                  1), 29, "not a finite number"),
    "a duration of a million years": (lambda: DEMO.replace("timeout: 5s", "timeout: 52000000w",
                                                           1), 29, "at most 100 years"),
    "a lone surrogate": (lambda: DEMO.replace("title: Demo Pre-Deployment Checklist",
                                              'title: "\\ud800 Demo"', 1),
                         4, "lone surrogate"),
    "a control character": (lambda: DEMO.replace("localhost, an", "localhost,\x01an", 1),
                            0, "U+0001 is not allowed"),
}


@pytest.mark.parametrize("name", list(CHECKLISTS))
def test_hostile_checklist_is_refused_at_its_line(tmp_path: Path, name: str) -> None:
    make, line, fragment = CHECKLISTS[name]
    text = make()
    if not line:
        line = text[:text.index("\x01")].count("\n") + 1
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in (["validate", str(path)], ["plan", str(path)]):
        code, err = cli(*command)
        assert code == 2, (command, err)
        located(err, path, line, fragment)


def test_a_50_mb_checklist_is_refused_on_its_size_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("w") as f:
        f.write(DEMO)
        f.write(("# " + "x" * 1022 + "\n") * 50 * 1024)
    code, err = cli("validate", str(path))
    assert code == 2
    located(err, path, 1, "a checklist file is at most 8 MiB")


def test_a_pipe_or_folder_where_a_checklist_is_expected_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    code, err = cli("validate", str(fifo))  # would block forever if it were opened
    assert code == 2
    assert "not a regular file" in err or "not a file" in err, err


# -- sessions ----------------------------------------------------------------------------------

def _signed_without_seal() -> Session:
    """Every role signed, with no [signoffs.covered] table of its own (the test adds one)."""
    session = all_green(tiny_session())
    for role in session.signoff_roles:
        session.sign(SignOff(role.role, role.title, f"{role.role} lead", T0), T0)
    return session


def _session_text() -> str:
    session = all_green(tiny_session())
    return store.dumps(session)


def _in_check(extra: str) -> Callable[[], str]:
    def make() -> str:
        text = _session_text()
        head = re.search(r"^\[items\.[^\n]*\.check\]\n", text, re.M)
        assert head is not None
        return text[:head.end()] + extra + text[head.end():]
    return make


def _line_of(marker: str) -> Callable[[str], int]:
    return lambda text: text[:text.index(marker)].count("\n") + 1


SESSIONS: dict[str, tuple[Callable[[], str], Callable[[str], int], str]] = {
    "arrays 10,000 deep": (lambda: _session_text() + "x = " + "[" * 10_000 + "]" * 10_000,
                           _line_of("x = ["), "nested more than 64 deep"),
    "inline tables 10,000 deep": (
        lambda: _session_text().replace("[header]\n", "[header]\nx = " + "{a = " * 10_000 + "1"
                                        + "}" * 10_000 + "\n"),
        _line_of("x = {"), "nested more than 64 deep"),
    "arrays 1,000 deep, unclosed": (lambda: _session_text() + "x = " + "[{" * 500,
                                    _line_of("x = ["), "nested more than 64 deep"),
    "a check table 1,000 deep": (_in_check(".".join(["a"] * 1000) + " = 1\n"),
                                 _line_of(".check]"), "the check is nested more than 64 deep"),
    "a 5,000-digit number": (lambda: _session_text().replace("schema = 1", "schema = "
                                                             + "9" * 5000),
                             _line_of("schema"), "larger than TOML allows"),
    "fresh_for = nan": (lambda: re.sub(r"fresh_for = \S+", "fresh_for = nan", _session_text(),
                                       count=1), _line_of("fresh_for"), "finite number"),
    "fresh_for = inf": (lambda: re.sub(r"fresh_for = \S+", "fresh_for = inf", _session_text(),
                                       count=1), _line_of("fresh_for"), "finite number"),
    "a sign-off hash that is no text": (
        lambda: store.dumps(_signed_without_seal()).replace(
            "\n\n[[signoffs]]\nrole = \"product\"",
            "\n\n[signoffs.covered]\nchecklist = [1]\n\n[[signoffs]]\nrole = \"product\"", 1),
        _line_of("= [1]"), "should be text"),
    "a control character": (lambda: _session_text().replace('deployer = "', 'deployer = "\x01'),
                            _line_of("\x01"), "Illegal character"),
}


def _json_deep() -> str:
    deep: object = 1
    for _ in range(500):
        deep = [deep]
    text = _session_text()
    line = f"data = {json.dumps(json.dumps(deep))}\n"
    return re.sub(r"(\[\[items\.[^\n]*\.runs\]\]\n)", lambda m: m.group(1) + line, text,
                  count=1)


SESSIONS["evidence JSON 500 deep"] = (_json_deep, _line_of("data = "), "nested more than 64 deep")


@pytest.mark.parametrize("name", list(SESSIONS))
def test_hostile_session_is_refused_at_its_line(tmp_path: Path, name: str) -> None:
    make, line_of, fragment = SESSIONS[name]
    text = make()
    path = tmp_path / "s.toml"
    path.write_text(text)
    line = line_of(text)
    for command in ("verify", "show", "export"):
        code, err = cli(command, str(path))
        assert code == 2, (command, err)
        located(err, path, line, fragment)


@pytest.mark.parametrize("name", ["arrays 10,000 deep", "inline tables 10,000 deep"])
def test_deep_session_does_not_kill_the_process(tmp_path: Path, name: str) -> None:
    make, line_of, fragment = SESSIONS[name]
    path = tmp_path / "s.toml"
    path.write_text(make())
    for command in ("verify", "show", "run"):
        done = subprocess.run([str(PREDEPLOY), command, str(path)], capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode != -signal.SIGSEGV, "killed by SIGSEGV"
        assert done.returncode == 2, (command, done.stderr)
        located(done.stderr, path, line_of(path.read_text()), fragment)
