"""Provides the comparison of two sessions: what changed since the previous release's record.

Status changes per item, new failures and new waivers, thresholds (the ``expect`` of an item's
check) that changed, and baselines that moved with their numeric deltas: for a
pg_stat_statements baseline (``data["baseline"] = {query: {metric: value}}``), the queries whose
metric (mean time by default) grew by more than a percentage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import ItemState, Session

DEFAULT_METRIC = "mean_exec_time"
"""The baseline column compared when the result does not name one."""
_FAILED = (Status.FAIL, Status.ERROR)


@dataclass(frozen=True)
class StatusChange:
    """An item whose recorded status differs between the two sessions."""

    key: str
    """The item key."""
    title: str
    """The item's title in the newer session."""
    old: str
    """Status in the older session (``absent`` when it had no such item)."""
    new: str
    """Status in the newer session (``absent`` when it has no such item)."""


@dataclass(frozen=True)
class ThresholdChange:
    """An item whose check is judged differently now."""

    key: str
    """The item key."""
    old: Mapping[str, Any] | None
    """The older ``expect`` (None: the check type's default)."""
    new: Mapping[str, Any] | None
    """The newer ``expect``."""


@dataclass(frozen=True)
class BaselineMove:
    """One baseline row whose metric moved by more than the threshold."""

    key: str
    """The item key whose check recorded the baseline."""
    row: str
    """What identifies the row: the query text for pg_stat_statements."""
    metric: str
    """The compared column."""
    old: float
    """Value in the older session."""
    new: float
    """Value in the newer session."""

    @property
    def delta(self) -> float:
        """new - old."""
        return self.new - self.old

    @property
    def pct(self) -> float:
        """Change in percent of the old value (inf when it grew from zero)."""
        if self.old == 0:
            return math.inf if self.new > 0 else (-math.inf if self.new < 0 else 0.0)
        return (self.new - self.old) / abs(self.old) * 100


@dataclass(frozen=True)
class Comparison:
    """What changed from an older session to a newer one."""

    old_label: str
    """The older session in words: checklist, version, env."""
    new_label: str
    """The newer session in words."""
    status_changes: tuple[StatusChange, ...]
    """Every item whose status differs, in the newer session's order (absent items included)."""
    new_failures: tuple[str, ...]
    """Items failed or errored now that had not failed before."""
    new_waivers: tuple[str, ...]
    """Items waived now that were not waived before."""
    threshold_changes: tuple[ThresholdChange, ...]
    """Items whose check's ``expect`` changed."""
    slower: tuple[BaselineMove, ...]
    """Baseline rows whose metric grew by more than ``slower_pct`` percent, biggest rise first."""
    faster: tuple[BaselineMove, ...]
    """Baseline rows whose metric dropped by more than ``slower_pct`` percent."""
    slower_pct: float
    """The threshold used."""
    new_waiver_reasons: Mapping[str, str]
    """Reason of each new waiver."""
    checklist_warning: str = ""
    """Said when the two sessions come from different checklists (or versions of one)."""
    decision_change: str = ""
    """The decision before and after, in words, when it differs."""
    signoff_changes: tuple[str, ...] = ()
    """Per role, how its latest sign-off differs, in words."""

    def __bool__(self) -> bool:
        return bool(self.status_changes or self.threshold_changes or self.slower or self.faster
                    or self.decision_change or self.signoff_changes)

    def lines(self) -> list[str]:
        """The comparison as text lines for the terminal or the app."""
        out = [f"Comparing {self.old_label} -> {self.new_label}"]
        if self.checklist_warning:
            out.append(f"warning: {self.checklist_warning}")
        if not self:
            out.append("No differences in statuses, thresholds, baselines, sign-offs or decision.")
            return out
        if self.decision_change:
            out.append(f"Decision: {self.decision_change}")
        if self.signoff_changes:
            out.append(f"Sign-off changes ({len(self.signoff_changes)}):")
            out += [f"  {c}" for c in self.signoff_changes]
        if self.new_failures:
            out.append(f"New failures ({len(self.new_failures)}):")
            out += [f"  ✘ {k}" for k in self.new_failures]
        if self.new_waivers:
            out.append(f"New waivers ({len(self.new_waivers)}):")
            out += [f"  ≈ {k}: {self.new_waiver_reasons.get(k, '')}" for k in self.new_waivers]
        if self.status_changes:
            out.append(f"Status changes ({len(self.status_changes)}):")
            out += [f"  {c.key}: {c.old} -> {c.new}  ({c.title})" for c in self.status_changes]
        if self.threshold_changes:
            out.append(f"Threshold changes ({len(self.threshold_changes)}):")
            out += [f"  {t.key}: {_expect(t.old)} -> {_expect(t.new)}"
                    for t in self.threshold_changes]
        if self.slower:
            out.append(f"Baselines slower by more than {self.slower_pct:g}% ({len(self.slower)}):")
            out += [_move(m) for m in self.slower]
        if self.faster:
            out.append(f"Baselines faster by more than {self.slower_pct:g}% ({len(self.faster)}):")
            out += [_move(m) for m in self.faster]
        return out


def _expect(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "(default)"
    return "{" + ", ".join(f"{k}: {v}" for k, v in value.items()) + "}"


def _move(m: BaselineMove) -> str:
    pct = "new" if math.isinf(m.pct) else f"{m.pct:+.1f}%"
    row = m.row if len(m.row) <= 70 else m.row[:67] + "..."
    return (f"  {m.key}: {row!r} {m.metric} {m.old:g} -> {m.new:g} "
            f"({m.delta:+g}, {pct})")


def _label(session: Session, name: str = "") -> str:
    version = session.header.get("version") or session.variables.get("version") or "?"
    env = session.variables.get("env", "")
    label = f"{session.checklist_id} {version}" + (f" {env}" if env else "")
    return f"{name} ({label})" if name else label


def _checklist_warning(old: Session, new: Session) -> str:
    if old.checklist_id != new.checklist_id:
        return (f"the sessions come from different checklists: {old.checklist_id!r} "
                f"({old.checklist_title}) and {new.checklist_id!r} ({new.checklist_title})")
    if old.checklist_sha256 and new.checklist_sha256 \
            and old.checklist_sha256 != new.checklist_sha256:
        return (f"the sessions come from different versions of checklist {new.checklist_id!r} "
                f"(sha256 {old.checklist_sha256[:12]} and {new.checklist_sha256[:12]})")
    return ""


def _decision(session: Session) -> str:
    d = session.decision
    if not d.status:
        return "none"
    return f"{d.status} by {d.completed_by or '?'}" + (f" (risk {d.risk})" if d.risk else "")


def _signoff_changes(old: Session, new: Session) -> list[str]:
    out = []
    roles = dict.fromkeys([*(s.role for s in old.signoffs), *(s.role for s in new.signoffs)])
    for role in roles:
        before, after = old.signoff(role), new.signoff(role)
        if after is None and before is not None:
            out.append(f"{role}: signed by {before.name} before, not signed now")
        elif before is None and after is not None:
            out.append(f"{role}: not signed before, signed by {after.name} now")
        elif before is not None and after is not None \
                and (before.name, before.at, before.content_sha256) \
                != (after.name, after.at, after.content_sha256):
            out.append(f"{role}: signed by {before.name} before, by {after.name} now")
    return out


def _baseline(state: ItemState) -> tuple[Mapping[str, Mapping[str, Any]], str]:
    result = state.result
    data = result.data if result is not None else None
    if not isinstance(data, Mapping) or not isinstance(data.get("baseline"), Mapping):
        return {}, ""
    metric = data.get("baseline_metric")
    if not metric and isinstance(state.check, Mapping):
        metric = state.check.get("baseline_metric")
    return data["baseline"], str(metric or DEFAULT_METRIC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def baseline_moves(key: str, old: ItemState, new: ItemState) -> list[BaselineMove]:
    """Rows of the two items' baselines whose metric changed, in the newer baseline's order."""
    old_map, _ = _baseline(old)
    new_map, metric = _baseline(new)
    moves = []
    for row, values in new_map.items():
        before = old_map.get(row)
        if not isinstance(before, Mapping) or not isinstance(values, Mapping):
            continue
        a, b = _number(before.get(metric)), _number(values.get(metric))
        if a is not None and b is not None and a != b:
            moves.append(BaselineMove(key, str(row), metric, a, b))
    return moves


def compare(old: Session, new: Session, *, slower_pct: float = 20.0, old_name: str = "",
            new_name: str = "") -> Comparison:
    """What changed from ``old`` (the previous release's session) to ``new``.

    ``old_name`` and ``new_name`` (the files) are named in the comparison's first line.
    """
    changes: list[StatusChange] = []
    failures: list[str] = []
    waivers: list[str] = []
    reasons: dict[str, str] = {}
    thresholds: list[ThresholdChange] = []
    slower: list[BaselineMove] = []
    faster: list[BaselineMove] = []
    for key, state in new.items.items():
        before = old.items.get(key)
        was = before.status if before is not None else None
        if was != state.status:
            changes.append(StatusChange(key, state.title, str(was) if was else "absent",
                                        str(state.status)))
        if state.status in _FAILED and was not in _FAILED:
            failures.append(key)
        if state.status is Status.WAIVED and was is not Status.WAIVED:
            waivers.append(key)
            reasons[key] = state.waiver.reason if state.waiver else ""
        if before is None:
            continue
        old_expect = (before.check or {}).get("expect")
        new_expect = (state.check or {}).get("expect")
        if old_expect != new_expect and (before.check is not None or state.check is not None):
            thresholds.append(ThresholdChange(key, old_expect, new_expect))
        for move in baseline_moves(key, before, state):
            if move.pct > slower_pct:
                slower.append(move)
            elif move.pct < -slower_pct:
                faster.append(move)
    for key, before in old.items.items():
        if key not in new.items:
            changes.append(StatusChange(key, before.title, str(before.status), "absent"))
    slower.sort(key=lambda m: -m.pct)
    faster.sort(key=lambda m: m.pct)
    was_decided, now_decided = _decision(old), _decision(new)
    return Comparison(_label(old, old_name), _label(new, new_name), tuple(changes),
                      tuple(failures), tuple(waivers), tuple(thresholds), tuple(slower),
                      tuple(faster), slower_pct, reasons, _checklist_warning(old, new),
                      f"{was_decided} -> {now_decided}" if was_decided != now_decided else "",
                      tuple(_signoff_changes(old, new)))
