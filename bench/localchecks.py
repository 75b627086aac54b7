"""Provides benchmark 5, local checks overhead: 200 `true` checks through the engine against bare
``asyncio.create_subprocess_exec`` with the same concurrency (16). Target: ratio <= 1.3x."""

from __future__ import annotations

import json
from pathlib import Path

from bench.context import Bench, progress, run_once
from bench.report import Figure, Section

NAME = "localchecks"
TITLE = "5. Local checks overhead: 200 `true` checks, concurrency 16 (in-process)"


def checklist(path: Path, count: int = 200) -> Path:
    """200 shell checks running ``true`` as argv (no /bin/sh, like the baseline)."""
    lines = ["id: bench-local", "title: Local checks benchmark", "sections:", "  - id: local",
             "    title: Local", "    groups:", "      - title: Always true", "        items:"]
    for i in range(count):
        lines += [f"          - id: true-{i}", f"            title: true {i}",
                  "            check: {type: shell, run: ['true'], timeout: 30s}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def run(bench: Bench) -> Section:
    """Alternate the engine and the bare calls in one process."""
    section = Section(NAME, TITLE)
    path = checklist(bench.work / "localchecks" / "local.yaml")
    progress("localchecks: engine Runner vs create_subprocess_exec, alternating")
    _, proc = run_once([bench.python, str(Path(__file__).with_name("localchecks_probe.py")),
                        str(path), str(bench.runs)], env=bench.env(), timeout=300)
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    section.figures += [
        Figure("engine Runner, 200 shell checks `[true]`", times["engine"]),
        Figure("asyncio.create_subprocess_exec('true') x200, semaphore 16", times["bare"]),
        Figure("the same with stdout/stderr piped and start_new_session (what a check needs)",
               times["captured"]),
    ]
    section.compare("engine / bare subprocesses", section.figures[0].label,
                    section.figures[1].label, "<= 1.3", lambda v: v <= 1.3)
    section.compare("engine / subprocesses with output captured", section.figures[0].label,
                    section.figures[2].label)
    return section
