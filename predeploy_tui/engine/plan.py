"""Provides what a run would touch, where: planned checks, host-group targets and their verdict.

``Runner.plan`` lists every command, URL, query and endpoint per host without running anything;
the same target rules decide where ``Runner.run`` goes, and :func:`aggregate` judges an item that
fanned out over a host group (all / any / at_least N).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from predeploy_tui.core import grouprule
from predeploy_tui.core.checklist import Checklist, Host
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.vocab import ItemKind
from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.inventory import Inventory, InventoryError, load_inventory


@dataclass(frozen=True)
class PlannedCheck:
    """One check on one host, as a run would do it."""

    key: str
    """The item key."""
    title: str
    """The item title."""
    section: str
    """The section key."""
    type: str
    """The check type."""
    kind: ItemKind
    """check or action (actions run only when confirmed)."""
    host: str | None
    """The SSH host it runs on; None for this machine (or a client-side check)."""
    target: str
    """The command, URL, endpoint or query, secrets masked."""
    depends_on: tuple[str, ...]
    """Prerequisite item keys."""
    timeout: float
    """Seconds that bound it."""
    shown: Mapping[str, Any] = field(default_factory=dict)
    """The check's fields as displayed (secrets and URL passwords masked): where it connects."""
    unresolved: str | None = None
    """Why ``host`` cannot be turned into hosts (an unreadable inventory, a missing group): a run
    of this item is an error, "could not check"; None when it resolves."""

    @property
    def does(self) -> str:
        """What the run would do there, in words: the target, or why it could not check."""
        return f"could not check: {self.unresolved}" if self.unresolved else self.target


@dataclass(frozen=True)
class Target:
    """Where an item's check goes."""

    hosts: tuple[str | None, ...]
    """One entry per run: host names, or (None,) for this machine."""
    group: str | None = None
    """The host group's name when the item fans out."""
    rule: Any = "all"
    """The need rule over the hosts: all, any or {at_least: N}."""


class Targets:
    """Turns a check's ``host`` into hosts: checklist groups, checklist hosts, inventory groups."""

    def __init__(self, checklist: Checklist, fill_host: Callable[[Host], Host] | None = None) -> None:
        self._checklist = checklist
        self._fill_host = fill_host or (lambda h: h)
        self._inventory: Inventory | None = None

    def inventory(self) -> Inventory | None:
        """The checklist's Ansible inventory, read on first use (CheckError if unreadable)."""
        if self._checklist.inventory is None:
            return None
        if self._inventory is None:
            path = Path(self._checklist.inventory)
            if not path.is_absolute():
                path = self._checklist.folder / path
            try:
                self._inventory = load_inventory(path)
            except InventoryError as exc:
                raise CheckError(str(exc)) from None
        return self._inventory

    def hosts(self) -> dict[str, Host]:
        """Every named host: the inventory's, then the checklist's (which win), filled in."""
        out: dict[str, Host] = {}
        try:
            inventory = self.inventory()
        except CheckError:
            inventory = None
        if inventory is not None:
            out.update(inventory.hosts)
        out.update(self._checklist.hosts)
        return {name: self._fill_host(host) for name, host in out.items()}

    def resolve(self, params: Mapping[str, Any]) -> Target:
        """Where a check with these (resolved) fields runs."""
        host = params.get("host")
        rule = params.get("need", "all")
        if not host:
            return Target((None,))
        name = str(host)
        group = self._checklist.host_groups.get(name)
        if group is not None:
            members = list(group.hosts)
            if group.inventory_group:
                inventory = self.inventory()
                if inventory is None or group.inventory_group not in inventory.groups:
                    raise CheckError(f"inventory group {group.inventory_group!r} (host group "
                                     f"{name!r}) is not in the inventory")
                members += [h for h in inventory.group(group.inventory_group) if h not in members]
            if not members:
                raise CheckError(f"host group {name!r} has no hosts")
            return Target(tuple(members), name, rule)
        if name in self._checklist.hosts:
            return Target((name,))
        inventory = self.inventory()
        if inventory is not None and name in inventory.groups:
            members = inventory.group(name)
            if not members:
                raise CheckError(f"inventory group {name!r} has no hosts")
            return Target(tuple(members), name, rule)
        return Target((name,))


def aggregate(results: Sequence[CheckResult], rule: Any) -> tuple[Status, str]:
    """The status and summary of an item over a host group, from its per-host results.

    Judged by :func:`grouprule.judge`; too few passing is FAIL when a host failed, else ERROR
    (the hosts that did not pass could not be checked, or there were too few to check).
    """
    total = len(results)
    passed = [r for r in results if r.status.passed]
    clean = [r for r in passed if r.status is Status.PASS]
    words = grouprule.need(rule, total)[1]
    summary = f"{len(passed)} of {total} hosts passed (need {words})"
    status = grouprule.judge(rule, total, len(passed), len(clean))
    if status is not Status.FAIL:
        warned = [r for r in passed if r.status is Status.WARN]
        if status is Status.WARN and warned:
            summary += f"; {warned[0].host}: {warned[0].summary}"
        return status, summary
    failing = [r for r in results if not r.status.passed]
    if not failing:
        return Status.ERROR, f"{summary}; too few hosts to judge"
    status = Status.FAIL if any(r.status is Status.FAIL for r in failing) else Status.ERROR
    first = next((r for r in failing if r.status is status), failing[0])
    return status, f"{summary}; {first.host}: {first.summary}"


def format_plan(planned: Sequence[PlannedCheck]) -> str:
    """The plan as text: one line per check and host, actions marked, then what it touches."""
    lines: list[str] = []
    section = None
    for p in planned:
        if p.section != section:
            section = p.section
            lines.append(f"[{section}]")
        mark = "ACTION" if p.kind == ItemKind.ACTION else "check "
        where = p.host or "local"
        deps = f"  (after {', '.join(p.depends_on)})" if p.depends_on else ""
        lines.append(f"  {mark} {p.key:<40} {p.type:<10} {where:<16} {p.does}{deps}")
    hosts = sorted({p.host for p in planned if p.host})
    actions = sum(1 for p in planned if p.kind == ItemKind.ACTION)
    lines.append("")
    lines.append(f"{len(planned)} check runs ({actions} actions, run only when confirmed); "
                 f"hosts: {', '.join(hosts) if hosts else 'none'}; nothing was run.")
    return "\n".join(lines)
