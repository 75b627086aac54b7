"""Provides ``python -m bench [NAME...]``: run the benchmarks, print the table, write RESULTS.md."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from bench import ansible_env, machine
from bench.context import Bench, BenchError, progress
from bench.report import Section, markdown

BENCHMARKS = ("sshfanout", "hostscale", "ui", "startup", "scale", "localchecks")
"""Benchmark modules in the order they run and are reported."""
RESULTS = Path(__file__).with_name("RESULTS.md")


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (all by default)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run: "
                        + ", ".join(BENCHMARKS) + " (default: all)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--slow-runs", type=int, default=3,
                        help="runs of sequential OpenSSH (default 3: about 30 s each)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table without writing bench/RESULTS.md")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    bench = Bench(runs=args.runs, slow_runs=args.slow_runs)
    sections: list[Section] = []
    started = time.perf_counter()
    try:
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            progress(f"{name}: {module.TITLE}")
            t0 = time.perf_counter()
            try:
                section: Section = module.run(bench)
            except BenchError as exc:
                section = Section(name, module.TITLE, notes=[f"did not run: {exc}"])
            section.notes.append(f"benchmark wall time {time.perf_counter() - t0:.0f} s")
            sections.append(section)
    finally:
        bench.close()
    ansible_bin = bench.work / "ansible-venv" / "bin"
    ansible = ansible_env.version(ansible_bin) if (ansible_bin / "python").exists() else ""
    facts = machine.describe(ansible)
    table = markdown(sections)
    total = time.perf_counter() - started
    print(table)
    print(f"total {total:.0f} s")
    if not args.no_write:
        RESULTS.write_text(
            "# Benchmark results\n\n"
            f"Written by `.venv/bin/python -m bench{''.join(' ' + n for n in args.names)}` "
            f"in {total:.0f} s. Medians over the runs shown; spread is min – max; ratios are of "
            "medians. No benchmark is a test and none asserts on time.\n\n"
            + "".join(f"- {fact}\n" for fact in facts) + "\n" + table + "\n")
        progress(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
