"""Runs the gpu check for real on a machine with an NVIDIA GPU and prints what it saw.

Usage, from the repository root on the GPU machine:

    .venv/bin/python tests/integration/gpu_device_check.py [--min-free 1GiB]

Prints the check's status and summary, its output table and its data as JSON, then cross-checks
NVML's figures against the reference client, ``nvidia-smi``; exits 0 when the check passed (at
least one GPU, every GPU with ``--min-free`` memory free) and nvidia-smi agrees, 1 otherwise.
Not collected by pytest: it needs a GPU that CI does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from servers.run_check import run_check

from predeploy_tui.core.results import Status


async def main(min_free: str) -> int:
    started = time.monotonic()
    count = await run_check("gpu", {}, expect={"ge": 1, "label": "GPUs"}, timeout=30)
    per_gpu = await run_check("gpu", {}, expect={"each": "gpus[].memory_free_bytes", "ge": min_free,
                                                 "unit": "bytes"}, timeout=30)
    for name, out in (("count", count), ("memory free per GPU", per_gpu)):
        print(f"[{name}] {out.status.value.upper()}: {out.summary} ({out.elapsed:.2f} s)")
    if count.obs is not None:
        print()
        print(count.obs.output)
        print()
        print(json.dumps(count.obs.data, indent=2))
    print(f"\ntotal {time.monotonic() - started:.2f} s")
    ok = count.status is Status.PASS and per_gpu.status is Status.PASS
    disagreements = cross_check(count.obs.data if count.obs is not None else None)
    for line in disagreements:
        print(f"[nvidia-smi disagrees] {line}")
    return 0 if ok and not disagreements else 1


MIB = 1024 * 1024


def cross_check(data: Any) -> list[str]:
    """Where NVML's figures (the check's data) differ from what nvidia-smi prints."""
    if data is None:
        return ["the check saw no GPUs"]
    if shutil.which("nvidia-smi") is None:
        return ["nvidia-smi is not installed: nothing to cross-check against"]
    done = subprocess.run(["nvidia-smi", "--query-gpu=index,name,memory.total,driver_version,"
                           "memory.used,memory.free",
                           "--format=csv,noheader,nounits"], capture_output=True, text=True,
                          timeout=60, check=True)
    rows = [[cell.strip() for cell in line.split(",")] for line in done.stdout.splitlines() if line]
    problems = []
    if len(rows) != len(data["gpus"]):
        problems.append(f"{len(rows)} GPUs, the check saw {len(data['gpus'])}")
    for (index, name, total_mib, driver, used_mib, free_mib), gpu in zip(rows, data["gpus"],
                                                                         strict=False):
        if int(index) != gpu["index"] or name != gpu["name"]:
            problems.append(f"GPU {index} {name!r}, the check saw {gpu['index']} {gpu['name']!r}")
        # nvidia-smi prints whole MiB: NVML's bytes are within one MiB of it
        if abs(gpu["memory_total_bytes"] - int(total_mib) * MIB) >= MIB:
            problems.append(f"GPU {index} total {total_mib} MiB, the check saw "
                            f"{gpu['memory_total_bytes']} bytes")
        # used and free move between the two readings: within 64 MiB on an idle GPU
        for what, mib, key in (("used", used_mib, "memory_used_bytes"),
                               ("free", free_mib, "memory_free_bytes")):
            if abs(gpu[key] - int(mib) * MIB) >= 64 * MIB:
                problems.append(f"GPU {index} {what} {mib} MiB, the check saw {gpu[key]} bytes")
        if driver != data.get("driver"):
            problems.append(f"driver {driver}, the check saw {data.get('driver')}")
    return problems


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-free", default="1GiB", help="memory each GPU must have free")
    sys.exit(asyncio.run(main(parser.parse_args().min_free)))
