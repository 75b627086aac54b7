"""Benchmark: key-to-screen latency of the app, idle and while 200 checks stream output.

Runs the real app in a pseudo-terminal (120x40), presses Down (the cursor moves to the next
item and the detail pane shows it) and times until that item's title reaches the terminal. First
with nothing running, then while "run all" runs 200 local shell checks at once, each printing
1,000 lines over about three seconds. A press not answered within 5 s counts as 5 s (it is not
dropped), and the presses made before the last check finished are reported on their own: those
are the figure under load.

    .venv/bin/python bench/ui_latency.py [--samples 40] [--checks 200] [--profile FILE]

Prints median and 95th percentile for both. Not a test: the figures go in the release notes.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import statistics
import struct
import sys
import tempfile
import termios
import time
from fcntl import ioctl
from pathlib import Path

DOWN = b"\x1b[B"


def write_checklist(folder: Path, checks: int) -> Path:
    """200 shell checks, each printing 1,000 lines in ten bursts with pauses."""
    script = ('for b in 0 1 2 3 4 5 6 7 8 9; do i=0; while [ $i -lt 100 ]; do '
              'echo "burst $b line $i of a deliberately chatty check"; i=$((i+1)); done; '
              'sleep 0.3; done')
    lines = ["id: latency", "title: Latency benchmark", "sections:", "  - id: load",
             "    title: Load", "    groups:", "      - title: Chatty", "        items:"]
    for n in range(checks):
        lines += [f"          - id: c{n:03d}", f"            title: Chatty check {n:03d}",
                  f"            check: {{type: shell, run: '{script}', timeout: 120s}}"]
    path = folder / "latency.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def child(session: str, concurrency: int, profile: str | None = None) -> None:
    """Run the app on the session (in the pty), with every check allowed at once."""
    from predeploy_tui.tui.app import PredeployApp
    from predeploy_tui.tui.launch import open_session, run_app

    opened = open_session(Path(session))
    app = PredeployApp(opened, runner_options={"max_concurrency": concurrency})
    if not profile:
        run_app(app)
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    with profiler:
        run_app(app)
    Path(profile).write_text(profiler.output_text(unicode=True, show_all=False))
    profiler.last_session.save(Path(profile).with_suffix(".pyisession"))


class Terminal:
    """The app in a pty; reads everything it writes, looking for a marker."""

    def __init__(self, session: Path, concurrency: int, profile: str | None = None) -> None:
        pid, fd = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"
            extra = ["--profile", profile] if profile else []
            os.execv(sys.executable, [sys.executable, __file__, "--child", str(session),
                                      "--concurrency", str(concurrency), *extra])
        self.pid, self.fd = pid, fd
        ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.tail = b""

    def drain(self, until: bytes | None = None, timeout: float = 5.0) -> float | None:
        """Read output; with ``until``, the time it appeared (None on timeout)."""
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    data = os.read(self.fd, 1 << 16)
                except OSError:
                    return None
                self.tail = (self.tail + data)[-4096:]
                if until is not None and until in self.tail:
                    self.tail = b""
                    return time.perf_counter()
            elif until is None:
                return None

    def press(self, keys: bytes) -> None:
        os.write(self.fd, keys)

    def close(self) -> None:
        self.press(b"\x11")  # ctrl+q
        self.drain(timeout=1.0)
        self.press(b"y")
        deadline = time.time() + 10
        while time.time() < deadline:
            self.drain(timeout=0.2)
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)


TIMEOUT = 5.0
"""Seconds a key press may take before the sample counts as this long (it is not dropped)."""


def sample(term: Terminal, count: int, first: int) -> list[tuple[float, float]]:
    """(wall-clock time of the press, milliseconds until the next item's title is on screen),
    ``count`` times; a press not answered within TIMEOUT counts as TIMEOUT."""
    out = []
    for n in range(first + 1, first + 1 + count):
        term.drain(timeout=0.1)
        at, start = time.time(), time.perf_counter()
        term.press(DOWN)
        seen = term.drain(until=f"Chatty check {n:03d}".encode(), timeout=TIMEOUT)
        out.append((at, (seen - start) * 1000 if seen is not None else TIMEOUT * 1000))
    return out


def report(name: str, samples: list[tuple[float, float]]) -> str:
    values = sorted(ms for _, ms in samples)
    if not values:
        return f"{name:<34} no samples"
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    slow = sum(1 for v in values if v >= TIMEOUT * 1000)
    return (f"{name:<34} n={len(values):3d}  median {statistics.median(values):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {values[-1]:6.1f} ms"
            + (f"  ({slow} not answered within {TIMEOUT:g} s)" if slow else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="key presses per phase")
    parser.add_argument("--checks", type=int, default=200, help="checks running at once")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="FILE",
                        help="profile the app with pyinstrument and write the report here")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.concurrency, args.profile)
        return 0
    from predeploy_tui.core import store
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.core.session import new_session

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        checklist = load_checklist(write_checklist(folder, args.checks))
        path = folder / "latency.toml"
        from datetime import UTC, datetime

        store.save(new_session(checklist, {}, {"deployer": "bench"}, datetime.now(UTC),
                               checklist_path=str(folder / "latency.yaml")), path)
        term = Terminal(path, args.checks,
                        str(Path(args.profile).resolve()) if args.profile else None)
        try:
            if term.drain(until=b"Chatty check 000", timeout=20) is None:
                print("the app did not start", file=sys.stderr)
                return 1
            time.sleep(0.5)
            idle = sample(term, args.samples, 0)
            term.press(b"a")
            term.drain(until=b"would run", timeout=10)
            time.sleep(0.3)
            term.press(b"\x12")  # ctrl+r: run the plan
            time.sleep(1.0)  # every check started and printing
            started = time.perf_counter()
            busy = sample(term, args.samples, args.samples)
            busy_for = time.perf_counter() - started
        finally:
            term.close()
        session = store.load(path)
        finished = sum(1 for s in session.items.values() if s.status.settled)
        lines = sum(r.output.count("\n") for s in session.items.values() for r in s.runs)
        ends = [r.finished.timestamp() for s in session.items.values() for r in s.runs
                if r.finished is not None]
    # The checks end after a few seconds; only presses made before the last one finished were
    # made under load, and those are the figure that matters.
    load_ended = max(ends, default=float("inf"))
    loaded = [(at, ms) for at, ms in busy if at < load_ended]
    print(report("idle", idle))
    print(report(f"{args.checks} checks streaming output", busy))
    print(report("  of which while checks still ran", loaded))
    print(f"(busy samples over {busy_for:.1f} s; {finished} of {args.checks} items settled "
          f"at quit, {lines} output lines saved)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
