"""Provides benchmark 2, UI latency under load, by running bench/ui_latency.py.

ui_latency.py runs the app on a pseudo-terminal while 200 checks print 1,000 lines each and
measures key press to screen, in rounds until at least SAMPLES presses were made under load.
This wrapper runs it as its own process and takes its figures: its
``NAME n= median .. ms p95 .. ms`` lines (or a last line of JSON, ``{"label": [ms, ...]}``)
become table rows; any other output is quoted as it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.context import Bench, BenchError, progress, run_once
from bench.report import Figure, Ratio, Section

NAME = "ui"
TITLE = "2. UI latency under load: key press to screen, 200 checks printing"
SCRIPT = Path(__file__).with_name("ui_latency.py")
SAMPLES = "100"
"""Key presses under load, at least: a p95 of fewer is one or two presses (about a minute)."""
_LINE = re.compile(r"^(?P<name>.+?)\s+n=\s*(?P<n>\d+)\s+median\s+(?P<median>[\d.]+) ms\s+"
                   r"p95\s+(?P<p95>[\d.]+) ms")


def run(bench: Bench) -> Section:
    """Run ui_latency.py and fold its figures into the table."""
    section = Section(NAME, TITLE)
    if not SCRIPT.exists():
        section.notes.append("not measured: bench/ui_latency.py (UI latency, another engineer's "
                             "part) is not in the tree yet")
        return section
    progress("ui: running bench/ui_latency.py")
    try:
        _, proc = run_once([bench.python, str(SCRIPT), "--samples", SAMPLES], env=bench.env(),
                           timeout=600)
    except BenchError as exc:
        section.notes.append(f"ui_latency.py failed: {exc}")
        return section
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    table = _table(lines)
    if table:
        section.figures += table
        busy = next((f for f in table if "p95" in f.label and "idle" not in f.label), None)
        if busy is not None:
            section.ratios.append(Ratio(f"{busy.label} / target 50 ms", busy.median / 50, "<= 1",
                                        busy.median <= 50))
        section.notes += [f"ui_latency.py: `{line}`" for line in lines if not _LINE.match(line)]
        return section
    parsed = _figures(lines[-1]) if lines else None
    if parsed is None:
        section.notes += [f"`{line}`" for line in lines[-30:]]
        return section
    section.figures += parsed
    for figure in parsed:
        if "p95" in figure.label and "load" in figure.label and figure.unit == "ms":
            section.ratios.append(Ratio(f"{figure.label} / target 50 ms", figure.median / 50,
                                        "<= 1", figure.median <= 50))
    section.notes += [f"`{line}`" for line in lines[:-1][-10:]]
    return section


def _table(lines: list[str]) -> list[Figure]:
    """ui_latency.py's own lines: ``NAME n= 40 median 12.3 ms p95 45.6 ms max ...``.

    Each is one run of many key presses, so the figure is one sample: its spread is the
    script's own (median against p95 and max), quoted in the notes.
    """
    out: list[Figure] = []
    for line in lines:
        match = _LINE.match(line.strip())
        if match:
            name, n = match["name"].strip(), match["n"]
            out += [Figure(f"{name}: median key to screen", [float(match["median"])], "ms",
                           f"{n} presses"),
                    Figure(f"{name}: p95 key to screen", [float(match["p95"])], "ms",
                           f"{n} presses")]
    return out


def _figures(line: str) -> list[Figure] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    out: list[Figure] = []
    for label, value in data.items():
        if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
            out.append(Figure(str(label), [float(v) for v in value], "ms"))
        elif isinstance(value, int | float):
            out.append(Figure(str(label), [float(value)], "ms"))
    return out or None
