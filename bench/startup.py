"""Provides benchmark 3, start-up: `predeploy open` of the seed session against a bare Textual app.

Both are whole processes on a pseudo-terminal (120x40), started through bench/first_screen.py,
which exits each app once its first screen is painted. Also the import time of the package and of
the app module, and which SDKs load at import (none may before a check of that kind runs).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import termios
import threading
import time
from pathlib import Path

from bench.context import ROOT, Bench, BenchError, progress, run_once, wait_or_kill
from bench.report import Figure, Section

NAME = "startup"
TITLE = "3. Start-up: `predeploy open` of the seed session to first screen, and import time"
SDKS = ("boto3", "botocore", "kubernetes", "asyncssh", "psycopg", "pynvml", "redis", "httpx",
        "dns", "jmespath")
"""Client libraries that must load only when a check of their kind runs."""


def run(bench: Bench) -> Section:
    """Measure start-up and import time."""
    section = Section(NAME, TITLE)
    folder = bench.work / "startup"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = bench.env({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"})
    session = folder / "seed-session.toml"
    predeploy = str(Path(bench.python).parent / "predeploy")
    run_once([predeploy, "new", str(ROOT / "checklists" / "pre-deployment.yaml"), "--no-ui",
              "--var", "version=1.2.3", "--deployer", "Bench Deployer", "--session", str(session)],
             env=env, timeout=60)
    launcher = str(Path(__file__).with_name("first_screen.py"))
    bare = [bench.python, launcher, str(Path(__file__).with_name("bare_app.py"))]
    ours = [bench.python, launcher, "predeploy", "open", str(session)]
    items = len(re.findall(r'^\[items\."[^"]+"\]$', session.read_text(), re.MULTILINE))
    progress("startup: bare Textual app and predeploy open, alternating")
    bare_times: list[float] = []
    our_times: list[float] = []
    for _ in range(bench.runs):
        bare_times.append(_on_pty(bare, env))
        our_times.append(_on_pty(ours, env))
    section.figures += [
        Figure("bare Textual app, one widget, to first screen and exit", bare_times),
        Figure(f"predeploy open of the seed session ({items} items), to first screen and exit",
               our_times),
    ]
    section.compare("predeploy open / bare Textual app",
                    section.figures[1].label, section.figures[0].label, "<= 1.3",
                    lambda v: v <= 1.3)
    progress("startup: import time")
    for module in ("predeploy_tui.cli", "predeploy_tui.tui.app"):
        samples: list[float] = []
        loaded: set[str] = set()
        for _ in range(bench.runs):
            _, proc = run_once([bench.python, "-X", "importtime", "-c", f"import {module}"],
                               env=env, timeout=60)
            cumulative, loaded = _importtime(proc.stderr, module)
            samples.append(cumulative * 1000)
        section.figures.append(Figure(f"import {module} (-X importtime, cumulative)", samples,
                                      "ms"))
        sdks = sorted(m for m in SDKS if m in loaded)
        section.notes.append(f"`import {module}` loads {len(loaded)} top-level packages; SDKs: "
                             + (", ".join(sdks) if sdks else "none")
                             + ("; textual" if "textual" in loaded else "; not textual"))
    return section


def _importtime(stderr: str, module: str) -> tuple[float, set[str]]:
    """Seconds ``module`` took (cumulative) and every top-level package imported."""
    total = 0.0
    loaded: set[str] = set()
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = [p.strip() for p in line[len("import time:"):].split("|")]
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        loaded.add(parts[2].split(".")[0])
        if parts[2] == module:
            total = int(parts[1]) / 1e6
    return total, loaded


def _on_pty(argv: list[str], env: dict[str, str], timeout: float = 60) -> float:
    """Wall time of a whole process whose terminal is a 120x40 pseudo-terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        # The app blocks on a full terminal if nobody reads it.
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
                            start_new_session=True)
    try:
        code, _, killed = wait_or_kill(proc, timeout)  # not Popen.wait(timeout=): see there
    finally:
        elapsed = time.perf_counter() - start
        os.close(slave)
        reader.join(timeout=5)
        os.close(master)
    if killed:
        raise BenchError(f"{' '.join(argv)}: no first screen within {timeout:g} s")
    if code != 0:
        tail = b"".join(chunks)[-400:].decode(errors="replace")
        raise BenchError(f"{' '.join(argv)}: exit {code}: {tail!r}")
    return elapsed
