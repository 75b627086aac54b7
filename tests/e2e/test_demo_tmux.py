"""End to end: the installed ``predeploy demo`` driven in tmux, to a decision, then reviewed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from predeploy_tui.core import store

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]

PREDEPLOY = Path(sys.executable).with_name("predeploy")


class Terminal:
    """One tmux session on a private server socket, 100x32."""

    def __init__(self, folder: Path) -> None:
        self.socket = f"predeploy-e2e-{uuid.uuid4().hex[:8]}"
        self.folder = folder

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                             timeout=10, check=False)
        return out.stdout

    def start(self, command: str) -> None:
        env = (f"cd {self.folder} && TZ=UTC PREDEPLOY_SESSIONS_DIR={self.folder}/sessions "
               f"PREDEPLOY_CONFIG_DIR={self.folder}/config TERM=xterm-256color ")
        self.tmux("new-session", "-d", "-x", "100", "-y", "32", "-s", "demo",
                  f"{env}{command}; echo EXITED $?; sleep 60")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "demo")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "demo", key)
            time.sleep(0.25)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} did not appear; the screen shows:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    term = Terminal(tmp_path)
    yield term
    term.close()


def test_demo_to_a_decision_then_review(terminal: Terminal, tmp_path: Path) -> None:
    assert PREDEPLOY.exists(), "install the package into the venv (pip install -e .)"
    terminal.start(f"{PREDEPLOY} demo --deployer Dana")
    terminal.wait_for("New session: Demo Pre-Deployment Checklist")
    terminal.keys("C-s")
    terminal.wait_for("Local Machine")
    terminal.keys("a")
    terminal.wait_for("check(s) would run")
    terminal.keys("C-r")
    terminal.wait_for("Run finished")
    terminal.keys("s")
    terminal.wait_for("Sign-offs")
    terminal.keys("Tab", "Tab", "Enter")
    terminal.wait_for("signed by Dana")
    terminal.keys("Escape", "d")
    terminal.wait_for("Suggested:")
    terminal.keys("C-s")
    terminal.wait_for("decided")
    terminal.keys("q")
    terminal.wait_for("EXITED 0")

    files = list((tmp_path / "sessions").glob("demo-*.toml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "[decision]" in text
    session = store.load(files[0])
    assert session.header["deployer"] == "Dana"
    assert session.items["local.python"].status.value == "pass"
    assert session.items["network.broken"].status.value == "fail"
    assert session.items["release.tag"].status.value == "pending"  # actions left out of run all
    assert session.signoff("engineering") is not None
    assert session.decision.status == session.decision.suggested
    assert session.decision.completed_by == "Dana"
    assert not (files[0].parent / f".{files[0].name}.lock").exists()

    terminal.close()
    terminal.socket += "-review"
    terminal.start(f"{PREDEPLOY} open --review {files[0]}")
    screen = terminal.wait_for("[review]")
    assert "Local Machine" in screen
    terminal.keys("q")
    terminal.wait_for("EXITED 0")
    assert os.path.exists(files[0])


E2E_CHECKLIST = """\
id: e2e
title: Rerun Cancel Stale
sections:
  - id: s
    title: Steps
    groups:
      - title: Work
        items:
          - id: quick
            title: Quick marker
            fresh_for: 3s
            check: {type: shell, run: 'echo marker-$(date +%s%N)'}
          - id: slow
            title: Slow step
            check: {type: shell, run: 'echo slow-started; sleep 30; echo never', timeout: 60s}
signoffs:
  - {role: engineering, title: Engineering lead approval, required: true}
"""


def _markers(screen: str) -> list[str]:
    """The markers inside the output box (its lines start with the box's left edge)."""
    return [word for line in screen.splitlines() for word in line.split()
            if word.startswith("│marker-")]


def test_rerun_cancel_and_a_pass_going_stale_on_screen(terminal: Terminal, tmp_path: Path) -> None:
    # Given a session of a checklist with a quick check fresh for 3 s and a slow one
    checklist = tmp_path / "e2e.yaml"
    checklist.write_text(E2E_CHECKLIST)
    session_file = tmp_path / "sessions" / "e2e.toml"
    created = subprocess.run([str(PREDEPLOY), "new", str(checklist), "--no-ui", "--deployer", "Dana",
                              "--session", str(session_file)], capture_output=True, text=True,
                             timeout=60, check=False, env={**os.environ, "TZ": "UTC"})
    assert created.returncode == 0, created.stderr
    terminal.start(f"{PREDEPLOY} open --as Dana {session_file}")
    terminal.wait_for("Quick marker")
    # When the quick check runs twice, the box holds the second run's output only
    terminal.keys("r")
    first = _markers(terminal.wait_for("│marker-"))
    assert len(first) == 1
    terminal.keys("r")
    deadline = time.monotonic() + 30
    while (shown := _markers(terminal.screen())) == first and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(shown) == 1, terminal.screen()
    assert shown != first
    # and, with no key pressed, its pass turns stale when its 3 s are over
    screen = terminal.wait_for("◷", timeout=20)
    assert "stale" in screen
    # When the slow check starts and is cancelled
    terminal.keys("Down", "r")
    terminal.wait_for("│slow-started")
    terminal.keys("c")
    screen = terminal.wait_for("the last run was cancelled")
    # Then it is not an error, and the cancelled run's output is not shown as the item's result
    assert "│slow-started" not in screen
    assert "! error" not in screen
    terminal.keys("q")
    terminal.wait_for("EXITED 0")
    session = store.load(session_file)
    assert len(session.items["s.quick"].runs) == 2
    assert session.items["s.slow"].status.value == "pending"
    assert session.items["s.slow"].runs[-1].summary == "cancelled"
