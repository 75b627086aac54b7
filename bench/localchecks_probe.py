"""Provides one round of benchmark 5 in its own process: engine Runner against bare subprocesses.

``python bench/localchecks_probe.py CHECKLIST ROUNDS`` alternates, ROUNDS times, 200 local ``true``
checks through ``engine.runner.Runner`` (max_concurrency 16) and 200
``asyncio.create_subprocess_exec("true")`` calls under a semaphore of 16, and prints one JSON line
of the wall times of each ``await``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.results import Status
from predeploy_tui.engine.runner import Runner

CONCURRENCY = 16


async def bare(count: int, capture: bool = False) -> float:
    """``count`` ``true`` processes, 16 at a time, as plainly as asyncio allows.

    With ``capture``, each also does what any check must: its own process group (so a timeout
    can kill what it started) and stdout/stderr read through pipes.
    """
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with gate:
            if capture:
                proc = await asyncio.create_subprocess_exec(
                    "true", stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, start_new_session=True)
                await asyncio.wait_for(proc.communicate(), timeout=30)
            else:
                proc = await asyncio.create_subprocess_exec("true")
                await asyncio.wait_for(proc.wait(), timeout=30)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - start


async def engine(checklist_path: str) -> tuple[float, int]:
    """The same through the engine; returns the time and how many passed."""
    checklist = load_checklist(checklist_path)
    runner = Runner(checklist, {}, by="bench", max_concurrency=CONCURRENCY)
    try:
        start = time.perf_counter()
        results = await runner.run()
        elapsed = time.perf_counter() - start
    finally:
        await runner.aclose()
    return elapsed, sum(1 for r in results.values() if r.status is Status.PASS)


async def main(checklist_path: str, rounds: int) -> None:
    """Alternate the two, so drift in the machine's load hits both alike."""
    ours: list[float] = []
    theirs: list[float] = []
    captured: list[float] = []
    await engine(checklist_path)  # warm-up: imports and first-use set-up are not the comparison
    for _ in range(rounds):
        elapsed, passed = await engine(checklist_path)
        if passed != 200:
            raise SystemExit(f"only {passed} of 200 engine checks passed")
        ours.append(elapsed)
        theirs.append(await bare(200))
        captured.append(await bare(200, capture=True))
    print(json.dumps({"engine": ours, "bare": theirs, "captured": captured}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
