"""Broken checklists: each is refused with file:line:column, what is wrong, exit 2, no traceback.

Every file under ``broken/`` states what it expects in its first lines:
``# expect: LINE: fragment`` (several such lines when a file has several problems; they must be
reported in that order, sorted by line).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from predeploy_tui.cli import main

BROKEN = Path(__file__).parent / "broken"
FILES = sorted(BROKEN.glob("*.yaml"))
PREDEPLOY = Path(sys.executable).parent / "predeploy"
EXPECT = re.compile(rb"^# expect: (\d+): (.+)$")


def expectations(path: Path) -> list[tuple[int, str]]:
    """The (line, fragment) pairs a broken file declares in its leading comment lines."""
    out = []
    for raw in path.read_bytes().splitlines():
        match = EXPECT.match(raw)
        if not match:
            break
        out.append((int(match.group(1)), match.group(2).decode("utf-8").strip()))
    assert out, f"{path.name} declares no '# expect: LINE: fragment'"
    return out


def assert_reported(stderr: str, shown: str, expected: list[tuple[int, str]]) -> None:
    assert "Traceback" not in stderr
    positions = []
    for line, fragment in expected:
        pattern = re.compile(rf"^{re.escape(shown)}:{line}:(\d+): .*{re.escape(fragment)}",
                             re.MULTILINE)
        match = pattern.search(stderr)
        assert match, f"expected {shown}:{line}:COL: ...{fragment}... in:\n{stderr}"
        positions.append(match.start())
    assert positions == sorted(positions), f"problems not reported in line order:\n{stderr}"
    # Every line of stderr is one located problem: file:line:column: message.
    for text in stderr.splitlines():
        assert re.match(rf"^{re.escape(shown)}:\d+:\d+: \S", text), text


def test_there_are_enough_broken_checklists() -> None:
    assert len(FILES) >= 35


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_broken_checklist_is_refused_in_process(path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)
    code = main(["validate", path.name])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert_reported(err, path.name, expectations(path))


SUBPROCESS_CASES = ["yaml-syntax", "binary-garbage", "unknown-key-top", "cycle-three",
                    "several-problems", "billion-laughs"]


@pytest.mark.parametrize("stem", SUBPROCESS_CASES)
def test_broken_checklist_is_refused_by_the_console_script(stem: str) -> None:
    path = BROKEN / f"{stem}.yaml"
    env = {k: v for k, v in os.environ.items() if k != "PREDEPLOY_DEBUG"}
    proc = subprocess.run([str(PREDEPLOY), "validate", str(path)], capture_output=True, text=True,
                          timeout=60, env=env, check=False)
    assert proc.returncode == 2
    assert_reported(proc.stderr, str(path), expectations(path))


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"---\n", b"# just a comment\n"],
                         ids=["empty", "blank-lines", "empty-document", "comment"])
def test_empty_file_is_refused(content: bytes, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    assert_reported(capsys.readouterr().err, str(path), [(1, "the file is empty")])


def test_valid_and_broken_files_together(capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    demo = Path(__file__).parents[2] / "checklists" / "demo.yaml"
    monkeypatch.chdir(BROKEN)
    code = main(["validate", str(demo), "self-dependency.yaml"])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{demo}: ok" in out
    assert_reported(err, "self-dependency.yaml", expectations(BROKEN / "self-dependency.yaml"))


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "nope.yaml" in err
    assert "no such file" in err
    assert "Traceback" not in err
