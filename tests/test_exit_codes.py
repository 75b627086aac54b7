"""The exit codes: one table, the verdict every surface gives, and no reader can change them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from predeploy_tui import cli
from predeploy_tui.core import store

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "checklists" / "demo.yaml"
PREDEPLOY = [sys.executable, "-m", "predeploy_tui.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PREDEPLOY_SESSIONS_DIR": str(tmp_path / "sessions"),
            "PYTHONPATH": str(ROOT)}


def _run(tmp_path: Path, *argv: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PREDEPLOY, *argv], cwd=tmp_path, env=_env(tmp_path), text=True,
                          capture_output="stdout" not in kw, timeout=120, check=False,
                          **kw)  # type: ignore[call-overload]


def _suggested(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("Suggested: "))


def _only_session(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "sessions").glob("*.toml")
    return path


def test_run_answers_with_the_verdict_show_gives(tmp_path: Path) -> None:
    """The demo's checks are CONDITIONAL GO but nobody signed: the release is NO GO, exit 3."""
    ran = _run(tmp_path, "run", str(DEMO), "--headless")
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert _suggested(ran.stdout) == "Suggested: NO GO (risk: high)"
    assert "[signoff:engineering] sign-off missing" in ran.stdout
    shown = _run(tmp_path, "show", str(_only_session(tmp_path)))
    assert shown.returncode == 0
    assert _suggested(shown.stdout) == _suggested(ran.stdout)


def test_checks_only_is_named_and_printed_beside_the_release(tmp_path: Path) -> None:
    ran = _run(tmp_path, "run", str(DEMO), "--headless", "--checks-only")
    assert ran.returncode == 4, ran.stdout + ran.stderr
    assert _suggested(ran.stdout) == ("Suggested: checks only: CONDITIONAL GO (risk: medium); "
                                      "release: NO GO (risk: high)")
    assert "  - release: [signoff:engineering] sign-off missing" in ran.stdout


def test_run_item_answers_for_the_items_asked(tmp_path: Path) -> None:
    """Other items still pending are no answer to "does this item pass?"."""
    ran = _run(tmp_path, "run", str(DEMO), "--headless", "--item", "local.python")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert _suggested(ran.stdout) == ("Suggested: 1 item asked, partial: GO (risk: low); "
                                      "release: NO GO (risk: high)")
    failing = _run(tmp_path, "run", str(DEMO), "--headless", "--item", "local.python",
                   "--item", "broken")
    assert failing.returncode == 4
    assert "2 items asked, partial: CONDITIONAL GO" in _suggested(failing.stdout)


def test_a_fresh_session_shows_not_run_yet(tmp_path: Path) -> None:
    made = _run(tmp_path, "new", "--no-ui", str(DEMO))
    assert made.returncode == 0, made.stderr
    shown = _run(tmp_path, "show", made.stdout.strip())
    assert shown.returncode == 0
    assert _suggested(shown.stdout) == "Suggested: not run yet (risk: not assessed)"


def _assert_saved_no_go(tmp_path: Path, ran: subprocess.CompletedProcess[str]) -> None:
    assert ran.returncode == 3, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "BrokenPipe" not in ran.stderr
    session = store.load(_only_session(tmp_path))
    assert session.items["local.python"].status.value == "pass"
    assert session.items["network.broken"].status.value == "fail"


def test_a_reader_that_has_gone_changes_no_exit_code(tmp_path: Path) -> None:
    """Every write meets a broken pipe (the read end is closed before the run starts)."""
    read, write = os.pipe()
    os.close(read)
    try:
        ran = _run(tmp_path, "run", str(DEMO), "--headless", stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    _assert_saved_no_go(tmp_path, ran)


def test_a_closed_stdout_changes_no_exit_code(tmp_path: Path) -> None:
    ran = subprocess.run(["sh", "-c", '"$@" >&-', "sh", *PREDEPLOY, "run", str(DEMO),
                          "--headless"], cwd=tmp_path, env=_env(tmp_path), text=True,
                         stderr=subprocess.PIPE, timeout=120, check=False)
    _assert_saved_no_go(tmp_path, ran)


def test_piping_into_head_changes_no_exit_code(tmp_path: Path) -> None:
    script = '"$@" > "$OUT_FIFO" & pid=$!; head -1 < "$OUT_FIFO"; wait $pid'
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    ran = subprocess.run(["sh", "-c", script, "sh", *PREDEPLOY, "run", str(DEMO), "--headless"],
                         cwd=tmp_path, env={**_env(tmp_path), "OUT_FIFO": str(fifo)}, text=True,
                         capture_output=True, timeout=120, check=False)
    assert ran.stdout.startswith("Session: ")
    _assert_saved_no_go(tmp_path, ran)


def test_an_internal_error_has_a_code_of_its_own(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 means "changed after sign-off" to verify: a bug must not say the same."""
    from predeploy_tui.commands import schema

    def broken(args: object) -> int:
        raise RuntimeError("a bug")

    monkeypatch.setattr(schema, "main", broken)
    monkeypatch.delenv("PREDEPLOY_DEBUG", raising=False)
    assert cli.main(["schema"]) == cli.EXIT_INTERNAL == 70
    assert "internal error: RuntimeError: a bug" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["verify", "--help"]])
def test_help_prints_the_one_table(argv: list[str]) -> None:
    ran = subprocess.run([*PREDEPLOY, *argv], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 0
    assert cli.EXIT_CODES in ran.stdout


def test_the_readme_has_the_same_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert cli.EXIT_CODES in readme
