"""Provides what every benchmark shares: runs, the work folder, the loopback sshd, process timing."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import sshd

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""
WORK = ROOT / "bench" / ".work"
"""Scratch space: sshd files, generated checklists and sessions, the Ansible venv (git-ignored)."""


class BenchError(Exception):
    """A benchmark could not run what it compares (a command failed): one line, no traceback."""


@dataclass
class Bench:
    """Shared state of one ``python -m bench`` invocation."""

    runs: int = 5
    """How many times each fast figure is measured."""
    slow_runs: int = 3
    """How many times the slow figures (sequential OpenSSH) are measured."""
    python: str = sys.executable
    """The interpreter of the project's venv."""
    work: Path = WORK
    """Scratch folder."""
    _server: sshd.SshServer | None = field(default=None, repr=False)
    """The sshd once started (see :meth:`server`)."""

    def server(self) -> sshd.SshServer:
        """The loopback sshd, started on first use."""
        if self._server is None:
            self._server = sshd.start(self.work / "sshd")
        return self._server

    def close(self) -> None:
        """Stop what was started."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment for measured processes: bench ssh files, sessions under .work."""
        env = self.server().client_env() if self._server is not None else dict(os.environ)
        env.pop("SSH_AUTH_SOCK", None)
        env["PREDEPLOY_SESSIONS_DIR"] = str(self.work / "sessions")
        # Measured processes keep their compiled bytecode, as an installed package has it: any
        # value of PYTHONDONTWRITEBYTECODE, "0" too, stops Python writing it, and then every run
        # compiles each module edited since its .pyc was last written, a cost no user pays.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(extra or {})
        return env


def run_once(argv: Sequence[str], *, env: Mapping[str, str], timeout: float,
             ok: Sequence[int] = (0,), cwd: Path = ROOT) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run a whole process and time it (wall clock); BenchError when it fails."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(argv)[:120]}: still running after {timeout:g} s") from None
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BenchError(f"{' '.join(argv)[:120]}: exit {proc.returncode}: " + " | ".join(tail))
    return elapsed, proc


def wait_or_kill(process: subprocess.Popen[Any], timeout: float) -> tuple[int, float, bool]:
    """Wait for ``process`` in one blocking call, killing it after ``timeout`` seconds.

    Returns its exit code, its peak RSS in MB (from ``wait4``) and whether it was killed.
    ``Popen.wait(timeout=...)`` polls with sleeps that grow to 50 ms, which rounds every wall
    time up to a 50 ms grid; this wait returns when the process ends.
    """
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, killed.is_set()  # ru_maxrss: KiB


def repeat(times: int, once: Callable[[], float]) -> list[float]:
    """Call ``once`` ``times`` times and collect what it measured."""
    return [once() for _ in range(times)]


def progress(message: str) -> None:
    """A line on stderr so a long run shows where it is."""
    print(f"bench: {message}", file=sys.stderr, flush=True)
