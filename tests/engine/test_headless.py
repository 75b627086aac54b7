"""Tests the recorder and the headless commands: results saved as they arrive, exit by verdict."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from predeploy_tui import paths
from predeploy_tui.core import store
from predeploy_tui.core.checklist import Checklist, load_checklist
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import new_session
from predeploy_tui.engine.base import ItemFinished, ItemStarted, RunEvent
from predeploy_tui.engine.recorder import SessionRecorder, SessionSaver
from predeploy_tui.engine.runner import Runner

ROOT = Path(__file__).resolve().parents[2]
PREDEPLOY = [sys.executable, "-m", "predeploy_tui.cli"]
Make = Callable[..., Checklist]
Items = Callable[..., str]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PREDEPLOY_SESSIONS_DIR": str(tmp_path / "sessions"),
            "PYTHONPATH": str(ROOT), **extra}


async def test_recorder_saves_each_result_as_it_arrives(make_checklist: Make, items: Items,
                                                        tmp_path: Path) -> None:
    checklist = make_checklist(items(
        "{id: a, title: A, check: {type: shell, run: 'echo a'}}",
        "{id: b, title: B, check: {type: shell, run: 'sleep 0.3; exit 1'}}"))
    now = datetime.now(UTC)
    session = new_session(checklist, {}, {"deployer": "ann"}, now)
    path = tmp_path / "s.toml"
    saver = SessionSaver(session, path, clock=lambda: datetime.now(UTC), delay=0)
    recorder = SessionRecorder(session, clock=lambda: datetime.now(UTC), changed=saver.soon)
    on_disk: dict[str, Status] = {}

    def check_file(event: RunEvent) -> None:
        if isinstance(event, ItemFinished):
            on_disk[event.key] = store.load(path).items[event.key].status

    await Runner(checklist, {}, by="ann", listeners=[recorder, check_file]).run()
    assert on_disk == {"s.a": Status.PASS, "s.b": Status.FAIL}
    saved = store.load(path).items["s.a"]
    assert saved.result is not None
    assert saved.result.by == "ann"


async def test_recorder_coalesces_saves(make_checklist: Make, items: Items, tmp_path: Path) -> None:
    specs = [f"{{id: c{i}, title: C{i}, check: {{type: shell, run: 'echo {i}'}}}}" for i in range(6)]
    checklist = make_checklist(items(*specs))
    session = new_session(checklist, {}, {"deployer": "ann"}, datetime.now(UTC))
    path = tmp_path / "s.toml"
    # A delay longer than any run: how many saves happen is then a count, not a race with
    # the machine's speed.
    saver = SessionSaver(session, path, clock=lambda: datetime.now(UTC), delay=3600)
    recorder = SessionRecorder(session, clock=lambda: datetime.now(UTC), changed=saver.soon)
    await Runner(checklist, {}, by="ann", listeners=[recorder]).run()
    assert saver.saves == 1  # 12 events: the first saved at once, the rest held back...
    saver.flush()
    assert saver.saves == 2  # ...and written together by one flush
    assert all(s.status is Status.PASS for s in store.load(path).items.values())


def test_headless_demo_run_exit_code_matches_verdict_without_textual(tmp_path: Path) -> None:
    code = ("import sys\nfrom predeploy_tui.cli import main\n"
            f"rc = main(['run', {str(paths.demo_checklist())!r}, '--headless'])\n"
            "print('TEXTUAL LOADED' if any(m == 'textual' or m.startswith('textual.') "
            "for m in sys.modules) else 'NO TEXTUAL')\nsys.exit(rc)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True,
                          text=True, timeout=90, cwd=tmp_path)
    out = proc.stdout
    assert "NO TEXTUAL" in out, out + proc.stderr
    verdict = next(line for line in out.splitlines() if line.startswith("Suggested: "))
    expected = {"GO": 0, "CONDITIONAL GO": 4, "NO GO": 3}[verdict.split(": ", 1)[1].split(" (")[0]]
    assert proc.returncode == expected, out + proc.stderr
    assert "network.health" in out
    assert "local.disk" in out
    sessions = list((tmp_path / "sessions").glob("*.toml"))
    assert len(sessions) == 1
    session = store.load(sessions[0])
    assert session.items["release.tag"].status is Status.SKIPPED  # no --yes-actions
    assert session.items["network.broken"].status is Status.FAIL


def test_plan_lists_every_check_and_action_of_the_seed_without_running(tmp_path: Path) -> None:
    seed = ROOT / "checklists" / "pre-deployment.yaml"
    checklist = load_checklist(seed)
    proc = subprocess.run([*PREDEPLOY, "plan", str(seed)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for item in checklist.items():
        if item.check is not None and item.kind != "manual":
            mark = "ACTION" if item.kind == "action" else "check "
            assert any(line.startswith(f"  {mark} {item.key} ") for line in lines), item.key
    assert "nothing was run" in proc.stdout


def test_plan_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    checklist = tmp_path / "c.yaml"
    checklist.write_text(textwrap.dedent(f"""\
        id: p
        title: P
        sections:
          - id: s
            title: S
            groups:
              - title: G
                items:
                  - {{id: a, title: A, check: {{type: shell, run: 'touch {marker}'}}}}
                  - {{id: b, title: B, kind: action, check: {{type: shell, run: 'touch {marker}'}}}}
        """))
    proc = subprocess.run([*PREDEPLOY, "plan", str(checklist)], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "ACTION s.b" in proc.stdout
    assert f"touch {marker}" in proc.stdout
    assert not marker.exists()


SLOW = """\
id: k
title: K
variables:
  version: {default: 1.0.0}
sections:
  - id: s
    title: S
    groups:
      - title: G
        items:
          - {id: quick, title: Quick, check: {type: shell, run: 'echo done'}}
          - {id: slow, title: Slow, check: {type: shell, run: 'sleep 30'}}
"""


def test_killed_headless_run_keeps_finished_results(tmp_path: Path) -> None:
    checklist = tmp_path / "k.yaml"
    checklist.write_text(SLOW.replace(
        "'sleep 30'", f"'echo $$ > {tmp_path}/slow.pid; echo migrated 3 of 7 tables; exec sleep 30'"))
    session_path = tmp_path / "k.toml"
    proc = subprocess.Popen([*PREDEPLOY, "run", str(checklist), "--headless", "--session",
                             str(session_path)], env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if "s.quick" in line:
                break
        else:
            pytest.fail("the quick result was never printed")
        # The running check's output reaches the file as it streams (the autosave's next turn).
        while "migrated 3 of 7" not in session_path.read_text(encoding="utf-8"):
            if time.monotonic() > deadline:
                pytest.fail("the running check's output never reached the session file")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        # The sleeping check runs in its own process group and outlives the killed run.
        pidfile = tmp_path / "slow.pid"
        if pidfile.exists() and pidfile.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)
    session = store.load(session_path)
    assert session.items["s.quick"].status is Status.PASS
    assert session.items["s.slow"].status is Status.RUNNING  # visibly interrupted, not lost
    # Reopened, the interrupted run keeps what the check had printed before the kill.
    assert session.interrupt_running(datetime.now(UTC)) == ["s.slow"]
    assert "migrated 3 of 7 tables" in session.items["s.slow"].runs[-1].output


def test_rerun_of_a_session_and_refusals(tmp_path: Path) -> None:
    checklist = tmp_path / "k.yaml"
    checklist.write_text(SLOW.replace("'sleep 30'", "'echo ${env:SECRET_TOKEN}'"))
    session_path = tmp_path / "k.toml"
    env = _env(tmp_path)
    refused = subprocess.run([*PREDEPLOY, "run", str(checklist), "--session", str(session_path)],
                             env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "SECRET_TOKEN" in refused.stderr
    first = subprocess.run([*PREDEPLOY, "run", str(checklist), "--session", str(session_path)],
                           env={**env, "SECRET_TOKEN": "t0ps3cr3t"}, capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "t0ps3cr3t" not in first.stdout
    assert "t0ps3cr3t" not in session_path.read_text()
    again = subprocess.run([*PREDEPLOY, "run", str(session_path), "--item", "quick"],
                           env={**env, "SECRET_TOKEN": "t0ps3cr3t"}, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    session = store.load(session_path)
    assert len(session.items["s.quick"].runs) == 2
    assert len(session.items["s.slow"].runs) == 1
    with store.locked(session_path):
        locked = subprocess.run([*PREDEPLOY, "run", str(session_path)], env=env,
                                capture_output=True, text=True, timeout=60)
    assert locked.returncode == 2
    assert "being edited by" in locked.stderr


async def test_recorder_saves_a_lone_result_at_once_and_throttles_a_burst(
        make_checklist: Make, items: Items, tmp_path: Path) -> None:
    specs = [f"{{id: c{i}, title: C{i}, check: {{type: shell, run: 'echo {i}'}}}}" for i in range(40)]
    checklist = make_checklist(items(*specs))
    session = new_session(checklist, {}, {"deployer": "ann"}, datetime.now(UTC))
    path = tmp_path / "s.toml"
    saver = SessionSaver(session, path, clock=lambda: datetime.now(UTC), delay=60)
    recorder = SessionRecorder(session, clock=lambda: datetime.now(UTC), changed=saver.soon)
    # Given a quiet recorder, when the first event arrives, then it is on disk at once.
    recorder(ItemStarted("s.c0", None, datetime.now(UTC)))
    assert saver.saves == 1
    assert store.load(path).items["s.c0"].status is Status.RUNNING
    # When 80 more events follow inside the throttle window, then none of them costs a save...
    await Runner(checklist, {}, by="ann", listeners=[recorder]).run()
    assert saver.saves == 1
    # ...and the pending state is written by the timer or by the final flush.
    saver.flush()
    assert saver.saves == 2
    assert all(s.status is Status.PASS for s in store.load(path).items.values())
