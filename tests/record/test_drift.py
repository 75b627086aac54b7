"""Checklist drift: added, removed and changed items listed; applying it loses nothing recorded."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.drift import apply_drift, drift
from predeploy_tui.core.results import Status

from .demo import DEMO, at, finished_session


def changed_checklist(folder: Path) -> Path:
    text = DEMO.read_text()
    text = text.replace("          - id: uname\n            title: Kernel reports its version\n"
                        "            check: {type: shell, run: [uname, -sr], timeout: 5s}\n", "")
    text = text.replace("title: Memory available (>256MB)", "title: Memory available (>512MB)")
    text = text.replace("expect: {ge: 256MB}", "expect: {ge: 512MB}")
    text = text.replace("          - id: notes\n", "          - id: changelog\n"
                        "            title: Changelog published\n          - id: notes\n")
    path = folder / "demo.yaml"
    path.write_text(text)
    return path


def test_drift_lists_added_removed_and_changed_items(tmp_path: Path) -> None:
    session = finished_session()
    checklist = load_checklist(changed_checklist(tmp_path))
    found = drift(session, checklist)
    assert found.added == ("release.changelog",)
    assert found.removed == ("local.uname",)
    assert found.changed == (("local.memory", ("title", "check")),)
    assert found.lines() == [
        "+ release.changelog (added: pending)",
        "- local.uname (no longer in the checklist; kept with what was recorded)",
        "~ local.memory (title, check changed)"]
    assert not drift(session, load_checklist(DEMO))


def test_apply_drift_keeps_everything_recorded(tmp_path: Path) -> None:
    session = finished_session()
    uname_runs = list(session.items["local.uname"].runs)
    checklist = load_checklist(changed_checklist(tmp_path))
    apply_drift(session, checklist, at(90), by="Ana")
    keys = list(session.items)
    assert keys[-1] == "local.uname"
    assert session.items["local.uname"].removed
    assert session.items["local.uname"].runs == uname_runs
    assert session.items["release.changelog"].status is Status.PENDING
    assert keys.index("release.changelog") < keys.index("release.notes")
    memory = session.items["local.memory"]
    assert memory.title == "Memory available (>512MB)"
    assert memory.status is Status.PENDING
    assert len(memory.runs) == 1
    assert "re-run" in memory.history[-1].note
    assert session.items["local.python"].status is Status.PASS
    assert session.checklist_sha256 == checklist.sha256
    again = store.loads(store.dumps(session))
    assert again.items["local.uname"].removed
    assert not drift(again, checklist)


def test_verify_reports_drift_without_failing(tmp_path: Path) -> None:
    session = finished_session(checklist_path="demo.yaml")
    changed_checklist(tmp_path)
    store.save(session, tmp_path / "s.toml")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["verify", str(tmp_path / "s.toml")])
    text = out.getvalue()
    assert code == 0, text
    assert "checklist drift" in text
    assert "+ release.changelog" in text
    assert "- local.uname" in text
    assert "~ local.memory" in text


RUN_CHECKLIST = """\
id: drifty
title: Drift under a run
sections:
  - id: app
    title: App
    groups:
      - title: Checks
        items:
          - id: first
            title: First check
            critical: true
            check: {type: shell, run: 'echo first'}
"""
ADDED_ITEM = """\
          - id: added
            title: Added later, and failing
            critical: true
            check: {type: shell, run: 'echo added; exit 1'}
"""


def test_run_of_a_session_whose_checklist_gained_an_item_keeps_its_result(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a session run to GO, and then a critical item added to its checklist
    checklist = tmp_path / "drifty.yaml"
    checklist.write_text(RUN_CHECKLIST)
    path = tmp_path / "s.toml"
    assert main(["run", str(checklist), "--session", str(path), "--deployer", "Ana"]) == 0
    checklist.write_text(RUN_CHECKLIST + ADDED_ITEM)
    capsys.readouterr()
    # When only the new item is run on the session
    code = main(["run", str(path), "--item", "app.added", "--deployer", "Ana"])
    # Then the drift is applied and said, the result is in the file and the verdict counts it
    captured = capsys.readouterr()
    assert "+ app.added (added: pending)" in captured.err
    session = store.load(path)
    assert list(session.items) == ["app.first", "app.added"]
    added = session.items["app.added"]
    assert added.status is Status.FAIL
    assert added.runs
    assert added.runs[-1].output.strip() == "added"
    assert session.items["app.first"].status is Status.PASS
    assert session.checklist_sha256 == load_checklist(checklist).sha256
    assert code == 3, captured.out
    assert "NO GO" in captured.out
    assert "app.added" in captured.out
