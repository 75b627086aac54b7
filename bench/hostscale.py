"""Provides benchmark 1b, host scale: one item over a 20- and a 200-host group against bare asyncssh.

Every host is an ssh_config alias of one loopback sshd (its own, with 200 aliases, so both sizes
read the same ssh_config). Each run is a whole process, timed, and its peak RSS is read from the
kernel when it exits (``wait4``), so the section says how time and memory grow from 20 to 200
hosts. Both tools keep predeploy's default caps: 10 handshakes in flight (``--handshakes``), 4
channels per host (one is used here); no other limit applies to SSH checks (the 16 of
``--concurrency`` bound local checks only).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from bench import sshd, workload
from bench.context import ROOT, Bench, BenchError, progress, wait_or_kill
from bench.report import Figure, Section
from bench.sshfanout import _all_passed

NAME = "hostscale"
TITLE = "1b. Host scale: one `true` over a 20- and a 200-host group (whole processes)"
SIZES = (20, 200)
"""Host group sizes; the larger is the one the issue asks for."""
COMMAND = "true"
"""Pure overhead: what grows is connections, not work."""
CAPS = "10 handshakes at a time, the default"
"""The limit that applies (both tools), said in the figures' labels."""


def run(bench: Bench) -> Section:
    """Measure predeploy and the floor at each size."""
    section = Section(NAME, TITLE)
    folder = bench.work / "hostscale"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    server = sshd.start(bench.work / "sshd-hostscale", hosts=max(SIZES))
    try:
        env = bench.env({"PREDEPLOY_SSH_CONFIG": str(server.ssh_config),
                         "PREDEPLOY_KNOWN_HOSTS": str(server.known_hosts)})
        predeploy = str(Path(bench.python).parent / "predeploy")
        floor_script = str(Path(__file__).with_name("floor_asyncssh.py"))
        for size in SIZES:
            aliases = server.aliases[:size]
            checklist = workload.checklist_host_group(folder / f"group-{size}.yaml", aliases,
                                                      COMMAND, items=1)
            ours, floor = _labels(size)
            progress(f"hostscale: {size} hosts: predeploy run --headless, bare asyncssh")
            samples: dict[str, tuple[list[float], list[float]]] = {ours: ([], []), floor: ([], [])}
            try:
                for _ in range(bench.runs):  # alternated, so both see the same machine
                    session = folder / f"session-{size}-{uuid.uuid4().hex[:8]}.toml"
                    argv = [predeploy, "run", str(checklist), "--headless", "--session",
                            str(session)]
                    elapsed, rss, proc = run_with_rss(argv, env, 300, ok=(0, 3, 4))
                    _all_passed(session, proc)
                    session.unlink()
                    samples[ours][0].append(elapsed)
                    samples[ours][1].append(rss)
                    elapsed, rss, _ = run_with_rss(
                        [bench.python, floor_script, str(server.ssh_config),
                         str(server.known_hosts), "1", COMMAND, *aliases], env, 300)
                    samples[floor][0].append(elapsed)
                    samples[floor][1].append(rss)
            except BenchError as exc:
                section.notes.append(f"{size} hosts: failed: {exc}")
            for label, (times, peaks) in samples.items():
                section.figures.append(Figure(label, times))
                section.figures.append(Figure(f"{label}: peak RSS", peaks, unit="MB"))
            section.compare(f"predeploy / bare asyncssh, {size} hosts", ours, floor)
            section.compare(f"predeploy / bare asyncssh, {size} hosts: peak RSS",
                            f"{ours}: peak RSS", f"{floor}: peak RSS")
        small, large = (_labels(s) for s in SIZES)
        for tool, (a, b) in (("predeploy", (small[0], large[0])),
                             ("bare asyncssh", (small[1], large[1]))):
            section.compare(f"{tool}: time at {SIZES[1]} / at {SIZES[0]} hosts", b, a)
            section.compare(f"{tool}: peak RSS at {SIZES[1]} / at {SIZES[0]} hosts",
                            f"{b}: peak RSS", f"{a}: peak RSS")
        section.notes.append(_per_host(section, small, large))
    finally:
        server.stop()
    return section


def _labels(size: int) -> tuple[str, str]:
    return (f"predeploy run --headless, 1 item x {size}-host group ({CAPS})",
            f"bare asyncssh script, {size} hosts x 1 command ({CAPS})")


def _per_host(section: Section, small: tuple[str, str], large: tuple[str, str]) -> str:
    """The cost of each host added, from the medians: seconds and MB per extra host."""
    parts = []
    hosts = SIZES[1] - SIZES[0]
    for tool, (a, b) in (("predeploy", (small[0], large[0])),
                         ("bare asyncssh", (small[1], large[1]))):
        fa, fb = section.figure(a), section.figure(b)
        ra, rb = section.figure(f"{a}: peak RSS"), section.figure(f"{b}: peak RSS")
        if fa is None or fb is None or ra is None or rb is None or not (fa.samples and fb.samples):
            continue
        parts.append(f"{tool} {(fb.median - fa.median) / hosts * 1000:.1f} ms and "
                     f"{(rb.median - ra.median) / hosts * 1000:.0f} KB")
    return (f"each host beyond {SIZES[0]} costs (medians): " + "; ".join(parts)) if parts \
        else "per-host cost not computed"


def run_with_rss(argv: Sequence[str], env: dict[str, str], timeout: float,
                 ok: Sequence[int] = (0,)) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run a whole process: wall time, its peak RSS in MB (from ``wait4``), its output.

    BenchError when it fails or runs past ``timeout`` (it is killed).
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=err, text=True)
        code, rss_mb, killed = wait_or_kill(process, timeout)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        proc = subprocess.CompletedProcess(list(argv), code, out.read(), err.read())
    if killed:
        raise BenchError(f"{' '.join(argv)[:120]}: still running after {timeout:g} s")
    if proc.returncode not in ok:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise BenchError(f"{' '.join(argv)[:120]}: exit {proc.returncode}: " + " | ".join(tail))
    return elapsed, rss_mb, proc
