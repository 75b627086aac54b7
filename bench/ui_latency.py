"""Benchmark: key-to-screen latency of the app, idle and while 200 checks stream output.

Runs the real app in a pseudo-terminal (120x40), presses Down (the cursor moves to the next
item and the detail pane shows it) and times until the detail pane shows that item (its key,
``load.c021``, which only the pane's meta line prints: the tree's line of the title may be
repainted for other reasons). First with nothing running, then while "run all" runs 200 local
shell checks at once, each printing 1,000 lines over about three seconds.

One run of the checks is over in a few seconds, too short for a p95 of 100 presses at a person's
pace (a press about every 0.1 s after the last was answered), so the run is repeated in rounds,
each with a fresh app and session, until ``--samples`` presses were made under load. In each
round the presses start as the run starts and go on through the burst when every check finishes,
until a second after the app says the run finished (its toast). A press not answered within 5 s
counts as 5 s (it is not dropped), and the presses made before the last check's result was
recorded are reported on their own ("while checks still ran").

    .venv/bin/python bench/ui_latency.py [--samples 100] [--checks 200] [--profile FILE]

Prints median and 95th percentile for each. Not a test: the figures go in the release notes.
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
        self.finished_at: float | None = None
        """When the app's "Run finished" toast was first seen (perf_counter)."""
        self._watch = b""

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
                self._note_finish(data)
                seen = self.tail + data  # a marker early in a big read is seen, not cut off
                self.tail = seen[-4096:]
                if until is not None and until in seen:
                    self.tail = b""
                    return time.perf_counter()
            elif until is None:
                return None

    def settle(self, seconds: float) -> None:
        """Read whatever the app writes for ``seconds`` (it never blocks on a full pty)."""
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            self.drain(timeout=deadline - time.perf_counter())

    def _note_finish(self, data: bytes) -> None:
        if self.finished_at is None:
            self._watch = (self._watch + data)[-(len(data) + len(FINISHED)):]
            if FINISHED in self._watch:
                self.finished_at = time.perf_counter()

    def press(self, keys: bytes) -> None:
        self.tail = b""  # what was on screen before the press never answers it
        os.write(self.fd, keys)

    def close(self) -> None:
        self.press(b"\x11")  # ctrl+q
        self.drain(timeout=1.0)
        self.press(b"y")
        deadline = time.time() + 20
        while time.time() < deadline:
            self.drain(timeout=0.2)
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)


TIMEOUT = 5.0
"""Seconds a key press may take before the sample counts as this long (it is not dropped)."""
FINISHED = b"Run finished"
"""The app's toast when the run of every check is over."""
BURST_TAIL = 1.0
"""Seconds the presses go on after that toast: saving and redrawing the finished run."""
GAP = 0.1
"""Seconds between an answered press and the next one (a person's pace, about 8 keys a second)."""


def marker(n: int) -> bytes:
    """What the detail pane prints once it shows item ``n``: the key on its meta line."""
    return f"load.c{n:03d}".encode()


def sample(term: Terminal, count: int | None, first: int,
           until_finished: bool = False) -> list[tuple[float, float]]:
    """(wall-clock time of the press, milliseconds until the next item is in the detail pane),
    ``count`` times, or with ``until_finished`` until BURST_TAIL after the run finished; a press
    not answered within TIMEOUT counts as TIMEOUT."""
    out: list[tuple[float, float]] = []
    n = first
    while True:
        if count is not None and len(out) >= count:
            break
        if until_finished and term.finished_at is not None \
                and time.perf_counter() > term.finished_at + BURST_TAIL:
            break
        if n + 1 >= LAST_ITEM:
            break
        n += 1
        term.drain(timeout=GAP)
        at, start = time.time(), time.perf_counter()
        term.press(DOWN)
        seen = term.drain(until=marker(n), timeout=TIMEOUT)
        out.append((at, (seen - start) * 1000 if seen is not None else TIMEOUT * 1000))
    return out


LAST_ITEM = 200
"""Items in the checklist (set from ``--checks``): the cursor stops at the last."""


def report(name: str, samples: list[tuple[float, float]]) -> str:
    values = sorted(ms for _, ms in samples)
    if not values:
        return f"{name:<34} no samples"
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    slow = sum(1 for v in values if v >= TIMEOUT * 1000)
    return (f"{name:<34} n={len(values):3d}  median {statistics.median(values):6.1f} ms  "
            f"p95 {p95:6.1f} ms  max {values[-1]:6.1f} ms"
            + (f"  ({slow} not answered within {TIMEOUT:g} s)" if slow else ""))


def one_round(folder: Path, args: argparse.Namespace, idle_samples: int, profile: str | None) \
        -> tuple[list[tuple[float, float]], list[tuple[float, float]], float, int, int]:
    """Start the app on a fresh session, sample idle (when asked), run every check and sample
    until the run's burst is over; returns idle and busy samples, the time of the last result
    (wall clock), settled items and output lines saved."""
    from datetime import UTC, datetime

    from predeploy_tui.core import store
    from predeploy_tui.core.checklist import load_checklist
    from predeploy_tui.core.session import new_session

    checklist = load_checklist(folder / "latency.yaml")
    path = folder / "latency.toml"
    path.unlink(missing_ok=True)
    store.save(new_session(checklist, {}, {"deployer": "bench"}, datetime.now(UTC),
                           checklist_path=str(folder / "latency.yaml")), path)
    term = Terminal(path, args.checks, profile)
    try:
        if term.drain(until=b"Chatty check 000", timeout=30) is None:
            raise RuntimeError("the app did not start")
        term.settle(0.5)
        idle = sample(term, idle_samples, 0)
        term.press(b"a")
        term.drain(until=b"would run", timeout=10)
        term.settle(0.3)
        term.finished_at = None
        term.press(b"\x12")  # ctrl+r: run the plan
        term.settle(0.3)  # the plan screen is gone; the checks start
        busy = sample(term, None, len(idle), until_finished=True)
    finally:
        term.close()
    session = store.load(path)
    finished = sum(1 for s in session.items.values() if s.status.settled)
    lines = sum(r.output.count("\n") for s in session.items.values() for r in s.runs)
    ends = [r.finished.timestamp() for s in session.items.values() for r in s.runs
            if r.finished is not None]
    return idle, busy, max(ends, default=float("inf")), finished, lines


def main() -> int:
    global LAST_ITEM
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100,
                        help="key presses under load, at least (rounds are added until then)")
    parser.add_argument("--idle", type=int, default=20, help="key presses with nothing running")
    parser.add_argument("--checks", type=int, default=200, help="checks running at once")
    parser.add_argument("--max-rounds", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--profile", metavar="FILE",
                        help="profile the app (first round) with pyinstrument; report here")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.concurrency, args.profile)
        return 0
    LAST_ITEM = args.checks
    idle: list[tuple[float, float]] = []
    busy: list[tuple[float, float]] = []
    loaded: list[tuple[float, float]] = []
    rounds, settled, lines, spans = 0, [], 0, []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_checklist(folder, args.checks)
        while len(busy) < args.samples and rounds < args.max_rounds:
            profile = str(Path(args.profile).resolve()) if args.profile and not rounds else None
            started = time.perf_counter()
            still, under, load_ended, done, saved = one_round(
                folder, args, args.idle if not rounds else 0, profile)
            spans.append(time.perf_counter() - started)
            rounds += 1
            idle += still
            busy += under
            loaded += [(at, ms) for at, ms in under if at < load_ended]
            settled.append(done)
            lines += saved
    print(report("idle", idle))
    print(report(f"{args.checks} checks streaming output", busy))
    print(report("  of which while checks still ran", loaded))
    print(f"({rounds} round(s) of {args.checks} checks, {len(busy)} presses from the run's start "
          f"to {BURST_TAIL:g} s after it finished; items settled at quit per round: "
          f"{', '.join(map(str, settled))}; {lines} output lines saved)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
