"""Fuzz: hostile checklists, sessions and markdown never crash predeploy.

Seeded and bounded (a few hundred inputs in all, in-process for speed, a handful through the
installed command to catch a death by signal). Every run exits 0 or 2 (``verify`` 1 too:
changed after sign-off), with no traceback and no "internal error", and every error about the
file says where (``FILE:LINE:COLUMN: ...``). ``-m soak`` runs 10,000 inputs of each kind.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from predeploy_tui.core import store

from .demo import finished_session
from .fuzz_inputs import CHECKLIST, MARKDOWN, broken, problems, run_cli

SESSION = store.dumps(finished_session())
PREDEPLOY = Path(sys.executable).parent / "predeploy"
FAST = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SOAK = settings(FAST, max_examples=10_000)


def _checklist(text: str, commands: tuple[str, ...] = ("validate", "plan")) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for command in commands:
            code, err = run_cli(command, str(path))
            assert not problems(code, err, path, (0, 2)), (command, problems(code, err, path,
                                                                            (0, 2)))


_SESSION_COMMANDS = (("verify", (0, 1, 2)), ("show", (0, 2)), ("export", (0, 2)))


def _session(text: str, commands: tuple[tuple[str, tuple[int, ...]], ...] = _SESSION_COMMANDS
             ) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for command, allowed in commands:
            code, err = run_cli(command, str(path))
            assert not problems(code, err, path, allowed), (command, problems(code, err, path,
                                                                              allowed))


def _markdown(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.md"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        code, err = run_cli("import", str(path))
        assert not problems(code, err, path, (0, 2)), problems(code, err, path, (0, 2))


@seed(1204)
@FAST
@given(broken(CHECKLIST))
def test_hostile_checklists(text: str) -> None:
    _checklist(text)


@seed(1204)
@FAST
@given(broken(SESSION))
def test_hostile_sessions(text: str) -> None:
    _session(text)


@seed(1204)
@FAST
@given(broken(MARKDOWN))
def test_hostile_markdown(text: str) -> None:
    _markdown(text)


@seed(1204)
@settings(FAST, max_examples=6)
@given(st.sampled_from([("c.yaml", CHECKLIST, "validate"), ("s.toml", SESSION, "verify"),
                        ("s.toml", SESSION, "export"), ("m.md", MARKDOWN, "import")]),
       st.data())
def test_hostile_input_through_the_installed_command(case: tuple[str, str, str],
                                                     data: st.DataObject) -> None:
    name, base, command = case
    text = data.draw(broken(base))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        done = subprocess.run([str(PREDEPLOY), command, str(path)], capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode >= 0, f"killed by {signal.Signals(-done.returncode).name}"
    allowed = (0, 1, 2) if command == "verify" else (0, 2)
    assert not problems(done.returncode, done.stderr, path, allowed)


@pytest.mark.soak
@pytest.mark.timeout(3600)
@seed(1204)
@SOAK
@given(broken(CHECKLIST))
def test_soak_checklists(text: str) -> None:
    _checklist(text, ("validate",))  # plan reads the same way; one command keeps it to minutes


@pytest.mark.soak
@pytest.mark.timeout(3600)
@seed(1204)
@SOAK
@given(broken(SESSION))
def test_soak_sessions(text: str) -> None:
    _session(text, _SESSION_COMMANDS[:1])  # verify reads and checks the most


@pytest.mark.soak
@pytest.mark.timeout(3600)
@seed(1204)
@SOAK
@given(broken(MARKDOWN))
def test_soak_markdown(text: str) -> None:
    _markdown(text)
