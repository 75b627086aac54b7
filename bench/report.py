"""Provides the figures a benchmark reports, their statistics, and the table they print as."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measured quantity over several runs."""

    label: str
    """What was measured, in the deployer's words."""
    samples: list[float]
    """One value per run."""
    unit: str = "s"
    """s, ms, MB or x (a plain count)."""
    note: str = ""
    """Anything a reader needs to interpret it."""

    @property
    def median(self) -> float:
        """The median of the samples (NaN when there are none)."""
        return statistics.median(self.samples) if self.samples else float("nan")

    def spread(self) -> str:
        """min-max of the samples, in the figure's unit."""
        if not self.samples:
            return "-"
        return f"{fmt(min(self.samples), self.unit)} – {fmt(max(self.samples), self.unit)}"


@dataclass
class Ratio:
    """How one figure compares with another, against a target."""

    label: str
    """What is compared: "predeploy / bare asyncssh"."""
    value: float
    """The ratio of the medians."""
    target: str = ""
    """The target as written: "<= 1.2"; empty when there is none."""
    met: bool | None = None
    """Whether the target is met; None when there is no target."""


@dataclass
class Section:
    """Everything one benchmark reports."""

    name: str
    """The benchmark's name on the command line."""
    title: str
    """Heading in the table."""
    figures: list[Figure] = field(default_factory=list)
    """Measured quantities."""
    ratios: list[Ratio] = field(default_factory=list)
    """Comparisons and targets."""
    notes: list[str] = field(default_factory=list)
    """Facts that are not numbers (which modules load, what is missing)."""

    def figure(self, label: str) -> Figure | None:
        """The figure with this label, if it was measured."""
        return next((f for f in self.figures if f.label == label), None)

    def compare(self, label: str, top: str, bottom: str, target: str = "",
                check: Callable[[float], bool] | None = None) -> None:
        """Add the ratio of two figures' medians (skipped when either is missing)."""
        a, b = self.figure(top), self.figure(bottom)
        if a is None or b is None or not a.samples or not b.samples or b.median == 0:
            self.notes.append(f"{label}: not computed ({top if a is None or not a.samples else bottom}"
                              " was not measured)")
            return
        value = a.median / b.median
        self.ratios.append(Ratio(label, value, target, check(value) if check else None))


def fmt(value: float, unit: str) -> str:
    """A value with its unit, to a sensible precision."""
    if value != value:  # NaN: nothing measured
        return "-"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    return f"{value:g}"


def markdown(sections: Sequence[Section]) -> str:
    """The table of every section, in Markdown (it reads as plain text too)."""
    lines: list[str] = []
    for s in sections:
        lines += [f"### {s.title} (`python -m bench {s.name}`)", ""]
        if s.figures:
            lines += ["| figure | median | spread (min – max) | runs |",
                      "|---|---:|---:|---:|"]
            for f in s.figures:
                label = f.label + (f" ({f.note})" if f.note else "")
                lines.append(f"| {label} | {fmt(f.median, f.unit)} | {f.spread()} | "
                             f"{len(f.samples)} |")
            lines.append("")
        if s.ratios:
            lines += ["| ratio | value | target | met |", "|---|---:|---:|:---:|"]
            for r in s.ratios:
                met = "" if r.met is None else ("yes" if r.met else "**no**")
                lines.append(f"| {r.label} | {r.value:.2f}x | {r.target} | {met} |")
            lines.append("")
        for note in s.notes:
            lines.append(f"- {note}")
        if s.notes:
            lines.append("")
    return "\n".join(lines)
