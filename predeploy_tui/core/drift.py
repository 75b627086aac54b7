"""Provides checklist drift: how a checklist changed since a session of it began, and applying it.

A session is self-contained (each item records its definition), so the difference is measured
item by item against the checklist as it is now: added, removed and changed items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from predeploy_tui.core.checklist import VARIABLE_REF, Checklist
from predeploy_tui.core.results import HistoryEntry, Status
from predeploy_tui.core.session import ItemState, Session, state_for

_DEFINITION = ("title", "kind", "critical", "depends_on", "fresh_for", "check")
"""What an item's definition is made of (everything else is what was recorded)."""


@dataclass(frozen=True)
class Drift:
    """How the checklist differs from the one the session began with."""

    added: tuple[str, ...]
    """Keys of items the checklist has and the session does not."""
    removed: tuple[str, ...]
    """Keys of items the session has and the checklist no longer does."""
    changed: tuple[tuple[str, tuple[str, ...]], ...]
    """Items in both whose definition differs, each with the names of the fields that differ."""
    checklist_changed: bool
    """The checklist file's sha256 differs from the one recorded when the session began."""

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def lines(self) -> list[str]:
        """The drift in words, one line per item (empty when there is none)."""
        out = [f"+ {key} (added: pending)" for key in self.added]
        out += [f"- {key} (no longer in the checklist; kept with what was recorded)"
                for key in self.removed]
        out += [f"~ {key} ({', '.join(fields)} changed)" for key, fields in self.changed]
        return out


def _definition(state: ItemState) -> dict[str, Any]:
    return {"title": state.title, "kind": state.kind, "critical": state.critical,
            "depends_on": list(state.depends_on), "fresh_for": state.fresh_for,
            "check": _plain(state.check)}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _resolved_like(recorded: Any, written: Any, variables: dict[str, str]) -> Any:
    """``written`` with variables filled in when that is how the session recorded it."""
    if recorded == written:
        return written
    filled = _fill(written, variables)
    return filled if filled == recorded else written


def _fill(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, variables) for v in value]
    if isinstance(value, str):
        return VARIABLE_REF.sub(lambda m: variables.get(m.group(1), m.group(0)), value)
    return value


def drift(session: Session, checklist: Checklist) -> Drift:
    """Added, removed and changed items of ``checklist`` against ``session``."""
    if checklist.sha256 and checklist.sha256 == session.checklist_sha256:
        # The same file: the runner may have stored resolved checks, which is not drift.
        return Drift((), (), (), False)
    wanted = {item.key: state_for(item, checklist) for item in checklist.items()}
    have = session.items
    added = tuple(k for k in wanted if k not in have)
    removed = tuple(k for k, s in have.items() if k not in wanted and not s.removed)
    changed = []
    for key, new in wanted.items():
        old = have.get(key)
        if old is None:
            continue
        a, b = _definition(old), _definition(new)
        b["check"] = _resolved_like(a["check"], b["check"], session.variables)
        fields = tuple(f for f in _DEFINITION if a[f] != b[f])
        if fields or old.removed:
            changed.append((key, fields or ("returned to the checklist",)))
    return Drift(added, removed, tuple(changed),
                 bool(checklist.sha256) and checklist.sha256 != session.checklist_sha256)


def apply_drift(session: Session, checklist: Checklist, now: datetime, by: str = "") -> Drift:
    """Bring the session up to ``checklist``: nothing recorded is lost.

    Added items become pending, in checklist order; removed items are kept (after the others)
    and marked ``removed``; a changed item takes the new definition and keeps its record, and
    one whose check changed goes back to pending with a history entry saying why.
    """
    found = drift(session, checklist)
    if not found and not found.checklist_changed:
        return found
    changed = dict(found.changed)
    items: dict[str, ItemState] = {}
    for item in checklist.items():
        old = session.items.get(item.key)
        new = state_for(item, checklist)
        if old is None:
            items[item.key] = new
            continue
        fields = changed.get(item.key, ())
        for name in _DEFINITION:
            setattr(old, name, getattr(new, name))
        old.section, old.group, old.removed = new.section, new.group, False
        if "check" in fields and old.status not in (Status.PENDING, Status.WAIVED):
            old.history.append(HistoryEntry(Status.PENDING, by, now,
                                            f"checklist changed this item's check; it was "
                                            f"{old.status}, re-run it"))
            old.status, old.by, old.at = Status.PENDING, by, now
        items[item.key] = old
    for key, state in session.items.items():
        if key not in items:
            state.removed = True
            items[key] = state
    session.items = items
    session.checklist_sha256 = checklist.sha256
    session.updated = now
    return found
