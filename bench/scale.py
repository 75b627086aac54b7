"""Provides benchmark 4, session scale: save, load, tree build and peak RSS at 1,000 and 5,000 items.

Each run is a fresh process (bench/scale_probe.py), so peak RSS is that of one process doing the
whole cycle. Targets at 5,000 items: save <= 100 ms (the first and each autosave), load <= 150 ms,
peak RSS <= 200 MB.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.context import Bench, progress, run_once
from bench.report import Figure, Ratio, Section
from predeploy_tui.core.yamlnodes import MAX_ITEMS

NAME = "scale"
TITLE = "4. Session scale: 3 runs per item, 4 KB output on the latest"
SIZES = (1000, MAX_ITEMS)
"""The second size is the one item limit: the most items a checklist (so a session) holds."""
TARGETS = {"save": 100.0, "autosave": 100.0, "load": 150.0, "rss_mb": 200.0}
"""Targets at 5,000 items (ms, ms, ms, MB). The save target is held against both saves: the
first (every run written) and the one the app makes after each change (autosave)."""


def run(bench: Bench) -> Section:
    """Measure both sizes."""
    section = Section(NAME, TITLE)
    folder = bench.work / "scale"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    probe = str(Path(__file__).with_name("scale_probe.py"))
    for size in SIZES:
        progress(f"scale: {size} items")
        rows: list[dict[str, object]] = []
        for _ in range(bench.runs):
            _, proc = run_once([bench.python, probe, str(size), str(folder / f"s{size}.toml")],
                               env=bench.env(), timeout=300)
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        megabytes = float(rows[0]["bytes"]) / 1e6  # type: ignore[arg-type]

        def column(name: str, scale: float = 1000.0, rows: list[dict[str, object]] = rows) \
                -> list[float]:
            return [float(r[name]) * scale for r in rows]  # type: ignore[arg-type]

        section.figures += [
            Figure(f"{size} items: save (dumps + atomic write, {megabytes:.1f} MB file)",
                   column("save"), "ms"),
            Figure(f"{size} items: of which dumps", column("dumps"), "ms"),
            Figure(f"{size} items: autosave after one item changes (dumps + atomic write)",
                   column("autosave"), "ms"),
            Figure(f"{size} items: load", column("load"), "ms"),
        ]
        if all(isinstance(r["tree"], float) for r in rows):
            section.figures.append(Figure(f"{size} items: tree build and paint (offscreen)",
                                          column("tree"), "ms"))
        else:
            section.notes.append(f"{size} items: tree build not measured: {rows[0]['tree']}")
        section.figures.append(Figure(f"{size} items: peak RSS of the whole cycle",
                                      column("rss_mb", 1.0), "MB"))
    for key, label, unit in (("save", "save", "ms"), ("autosave", "autosave", "ms"),
                             ("load", "load", "ms"), ("rss_mb", "peak RSS", "MB")):
        figure = next((f for f in section.figures if f.label.startswith(f"{MAX_ITEMS} items: " + label)),
                      None)
        if figure is not None and figure.samples:
            target = TARGETS[key]
            section.ratios.append(Ratio(f"{MAX_ITEMS} items {label} / target {target:g} {unit}",
                                        figure.median / target, "<= 1",
                                        figure.median <= target))
    return section
