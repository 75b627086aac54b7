"""Looking is never running: plan, open, review and the record commands execute no checklist code.

A checklist from a branch under review carries a plugin that writes a marker file when it is
imported and a site script that writes one when it runs. Every command that only looks (and the
app in review and read-only mode, with the plugin item's detail on screen) must leave no marker;
only an explicit run creates them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PREDEPLOY = Path(sys.executable).parent / "predeploy"

CHECKLIST = """\
id: looked
title: Looking is not running
plugins:
  marker: ../checks/marker_plugin.py
sections:
  - id: s
    title: Section
    groups:
      - title: Group
        items:
          - id: plugin-check
            title: A check of a site plugin type
            check: {type: marker, run: 'echo hello'}
          - id: script-check
            title: A site script
            check: {type: shell, run: ../checks/marker_script.sh}
signoffs:
  - {role: engineering, title: Engineering lead approval}
"""

PLUGIN = '''\
"""Counts nothing; proves whether it was imported (it writes {marker} when it is)."""

from pathlib import Path

Path({marker!r}).write_text("imported")

from predeploy_tui.engine.base import CheckContext, Observation


async def run(ctx: CheckContext) -> Observation:
    return Observation(output="ran", exit_code=0)
'''

SCRIPT = """#!/bin/sh
echo ran > {marker}
echo ok
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with the booby-trapped checklist, its plugin and site script."""
    root = tmp_path / "project"
    (root / "checklists").mkdir(parents=True)
    (root / "checks").mkdir()
    (root / "checklists" / "looked.yaml").write_text(CHECKLIST, encoding="utf-8")
    (root / "checks" / "marker_plugin.py").write_text(
        PLUGIN.format(marker=str(tmp_path / "plugin-imported")), encoding="utf-8")
    script = root / "checks" / "marker_script.sh"
    script.write_text(SCRIPT.format(marker=tmp_path / "script-ran"), encoding="utf-8")
    script.chmod(0o755)
    (root / "RELEASE.md").write_text("# Release\n\n- [ ] Tag the release\n", encoding="utf-8")
    return root


def markers(project: Path) -> list[str]:
    return sorted(p.name for p in project.parent.iterdir() if p.name in ("plugin-imported", "script-ran"))


def predeploy(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREDEPLOY_SESSIONS_DIR": str(project / "sessions"), "NO_COLOR": "1",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "USER": "dana"}
    env.pop("PREDEPLOY_DEBUG", None)
    return subprocess.run([str(PREDEPLOY), *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)


def new_session(project: Path, name: str = "s.toml") -> Path:
    proc = predeploy(project, "new", "--no-ui", "checklists/looked.yaml", "--deployer", "Dana",
                     "--session", f"sessions/{name}")
    assert proc.returncode == 0, proc.stderr
    return project / "sessions" / name


def test_no_command_that_looks_imports_a_plugin_or_runs_a_site_script(project: Path) -> None:
    # Given a session of the booby-trapped checklist
    session = new_session(project)
    other = new_session(project, "t.toml")
    # When every command that only looks is used on it
    looks = [
        ("validate", "checklists/looked.yaml"),
        ("schema",),
        ("plan", "checklists/looked.yaml"),
        ("plan", str(session)),
        ("show", str(session)),
        ("verify", str(session)),
        ("export", str(session), "--format", "markdown"),
        ("export", str(session), "--format", "json"),
        ("export", str(session), "--format", "junit"),
        ("diff", str(session), str(other)),
        ("import", "RELEASE.md"),
    ]
    for args in looks:
        proc = predeploy(project, *args)
        # Then none of them ran anything of the checklist
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert markers(project) == [], f"`predeploy {' '.join(args)}` executed checklist code"
    planned = predeploy(project, "plan", "checklists/looked.yaml").stdout
    assert "marker_plugin.py" in planned  # described from the file, statically
    assert "proves whether it was imported" in planned


def test_only_an_explicit_run_executes_them(project: Path) -> None:
    session = new_session(project)
    proc = predeploy(project, "run", str(session), "--headless")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert markers(project) == ["plugin-imported", "script-ran"]


def test_a_declined_action_of_a_plugin_type_does_not_load_the_plugin(project: Path) -> None:
    checklist = project / "checklists" / "looked.yaml"
    checklist.write_text(CHECKLIST.replace(
        "            check: {type: marker, run: 'echo hello'}",
        "            kind: action\n            check: {type: marker, run: 'echo hello'}"),
        encoding="utf-8")
    proc = predeploy(project, "run", "checklists/looked.yaml", "--headless", "--item",
                     "s.plugin-check", "--session", "sessions/a.toml")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "plugin-imported" not in markers(project)


@pytest.mark.parametrize("mode", ["review", "read_only"])
async def test_the_app_in_review_and_read_only_shows_the_plugin_item_without_importing_it(
        project: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from predeploy_tui.tui.app import PredeployApp
    from predeploy_tui.tui.launch import open_session

    monkeypatch.chdir(project)
    session = new_session(project)
    opened = open_session(session, **{mode: True})  # type: ignore[arg-type]
    app = PredeployApp(opened)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            # The first item (the plugin check) is shown; its check line follows the first paint.
            for key, expected in (("s.plugin-check", "marker_plugin.py"),
                                  ("s.script-check", "marker_script.sh")):
                for _ in range(50):
                    await pilot.pause(0.02)
                    if app.screen.items_tree.current_key == key \
                            and expected in (app.target_if_ready(key) or ""):
                        break
                else:
                    raise AssertionError(f"the detail pane never described {key}")
                await pilot.press("down")
    finally:
        if opened.lock is not None:
            opened.lock.release()
    assert markers(project) == []


def test_a_run_records_the_hash_of_the_code_it_executed_and_verify_names_a_change(
        project: Path) -> None:
    # Given a session whose checks ran the plugin and the site script
    session = new_session(project)
    predeploy(project, "run", str(session), "--headless")
    text = session.read_text(encoding="utf-8")
    script = project / "checks" / "marker_script.sh"
    plugin = project / "checks" / "marker_plugin.py"
    import hashlib

    for path in (script, plugin):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert f'"{digest}  ../checks/{path.name}"' in text
    assert "site code changed" not in predeploy(project, "verify", str(session)).stdout
    # When the site script changes after the deployer ran it
    script.write_text(script.read_text(encoding="utf-8") + "echo extra\n", encoding="utf-8")
    out = predeploy(project, "verify", str(session)).stdout
    # Then verify names it, with both hashes, and only it
    assert "site code changed" in out
    assert "s.script-check: ../checks/marker_script.sh changed since it ran" in out
    assert "marker_plugin.py" not in out.split("site code changed", 1)[1]
    # And a deleted plugin file is named too
    plugin.unlink()
    out = predeploy(project, "verify", str(session)).stdout
    assert "s.plugin-check: ../checks/marker_plugin.py changed since it ran" in out
    assert "now missing" in out


async def test_the_reviewer_is_told_and_asked_before_re_running_changed_site_code(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from predeploy_tui.core import store
    from predeploy_tui.tui.app import PredeployApp
    from predeploy_tui.tui.launch import open_session
    from predeploy_tui.tui.screens.dialogs import ConfirmChangedCode

    # Given a session the deployer ran, whose site script changed afterwards
    monkeypatch.chdir(project)
    session = new_session(project)
    predeploy(project, "run", str(session), "--headless")
    script = project / "checks" / "marker_script.sh"
    script.write_text(script.read_text(encoding="utf-8") + "echo changed\n", encoding="utf-8")
    ran_before = (project.parent / "script-ran").stat().st_mtime_ns
    # When a reviewer opens it
    opened = open_session(session, review=True)
    assert "site code changed since the deployer ran it: 1 file(s) behind 1 item(s)" in opened.notice
    app = PredeployApp(opened)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.screen.items_tree.select_key("s.script-check")
            await pilot.pause()
            # and re-runs the item, they are asked first, with both hashes shown
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmChangedCode)
            assert app.screen.lines[0].startswith(
                "s.script-check: ../checks/marker_script.sh changed since it ran (ran ")
            # and "no" runs nothing
            await pilot.press("n")
            await app.workers.wait_for_complete()
            assert (project.parent / "script-ran").stat().st_mtime_ns == ran_before
            assert not app.runs.runs
            # while "yes" re-runs it as the reviewer, the deployer's evidence kept apart
            await pilot.press("r")
            await pilot.pause()
            await pilot.press("y")
            await app.workers.wait_for_complete()
            app.saver.flush()
    finally:
        if opened.lock is not None:
            opened.lock.release()
    state = store.load(session).items["s.script-check"]
    assert [r.role for r in state.reviewer_runs] == ["reviewer"]
    assert state.result is not None
    assert state.result.role == "deployer"
