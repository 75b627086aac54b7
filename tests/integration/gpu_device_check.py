"""Runs the gpu check for real on a machine with an NVIDIA GPU and prints what it saw.

Usage, from the repository root on the GPU machine:

    .venv/bin/python tests/integration/gpu_device_check.py [--min-free 1GiB]

Prints the check's status and summary, its output table and its data as JSON; exits 0 when the
check passed (at least one GPU, every GPU with ``--min-free`` memory free), 1 when it failed or
errored. Not collected by pytest: it needs a GPU that CI does not have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

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
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-free", default="1GiB", help="memory each GPU must have free")
    sys.exit(asyncio.run(main(parser.parse_args().min_free)))
