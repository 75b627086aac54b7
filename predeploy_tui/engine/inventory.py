"""Provides Ansible inventory files (INI and YAML) as host groups an item can fan out over.

Only what an SSH check needs is read: group membership (``children`` included), host ranges such
as ``web[01:03]``, and the connection variables ``ansible_host``, ``ansible_user``,
``ansible_port``, ``ansible_ssh_private_key_file`` (host vars win over group vars).

A foreign file is held to bounds before and while it is read (the checklist's size and nesting
limits, at most :data:`MAX_HOSTS` hosts and :data:`MAX_GROUPS` group visits, no group that is its
own child): one located message, never a traceback or an endless expansion.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from predeploy_tui.core import bounds
from predeploy_tui.core.checklist import Host

_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")
_CONNECTION_VARS = ("ansible_host", "ansible_user", "ansible_port", "ansible_ssh_private_key_file")


MAX_HOSTS = 100_000
"""Hosts an inventory may name, ranges expanded (``web[0:99999999]`` is a typo, not a fleet)."""
MAX_GROUPS = 10_000
"""Groups an inventory may visit, each YAML anchor's reuse counted (doubling anchors explode)."""


class InventoryError(Exception):
    """An inventory file could not be read: the message says where and why."""


@dataclass
class Inventory:
    """Hosts and groups of an Ansible inventory."""

    groups: dict[str, list[str]] = field(default_factory=dict)
    """Group name -> host names, children expanded, in file order."""
    hosts: dict[str, Host] = field(default_factory=dict)
    """Host name -> how to reach it."""

    def group(self, name: str) -> list[str]:
        """The hosts of a group (``all`` is every host)."""
        if name == "all" and "all" not in self.groups:
            return list(self.hosts)
        return list(self.groups.get(name, []))


def expand(pattern: str) -> list[str]:
    """Host names from an Ansible pattern with ranges: ``web[01:03]`` -> web01, web02, web03.

    InventoryError when the pattern names more than :data:`MAX_HOSTS` hosts.
    """
    count = 1
    for match in _RANGE.finditer(pattern):
        start, end, step = match.group(1), match.group(2), int(match.group(3) or 1)
        low, high = (int(start), int(end)) if start.isdigit() and end.isdigit() \
            else (ord(start[0]), ord(end[0]))
        count *= max(0, (high - low) // max(step, 1) + 1)
        if count > MAX_HOSTS:
            raise InventoryError(f"host pattern {pattern[:60]!r} names more than {MAX_HOSTS:,} "
                                 "hosts")
    return _expand(pattern)


def _expand(pattern: str) -> list[str]:
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step = match.group(1), match.group(2), int(match.group(3) or 1)
    head, tail = pattern[: match.start()], pattern[match.end():]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        values = [str(n).zfill(width) for n in range(int(start), int(end) + 1, max(step, 1))]
    else:
        values = [chr(c) for c in range(ord(start), ord(end) + 1, max(step, 1))]
    return [name for value in values for name in _expand(head + value + tail)]


def load_inventory(path: Path) -> Inventory:
    """Read an inventory file: YAML when it parses as a mapping with groups, else INI."""
    try:
        text = bounds.read_bytes(path, bounds.MAX_CHECKLIST_BYTES, "inventory").decode("utf-8")
    except bounds.Refused as exc:
        raise InventoryError(f"{path}: {exc.message}") from None
    except OSError as exc:
        raise InventoryError(f"inventory {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InventoryError(f"inventory {path}: not UTF-8 text") from None
    if path.suffix in (".yml", ".yaml") or _looks_like_yaml(text):
        return parse_yaml_inventory(text, str(path))
    return parse_ini_inventory(text, str(path))


def _looks_like_yaml(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        return not stripped.startswith("[") and stripped.endswith(":")
    return False


class _Builder:
    def __init__(self) -> None:
        self.inv = Inventory()
        self.children: dict[str, list[str]] = {}
        self.group_vars: dict[str, dict[str, Any]] = {}
        self.host_vars: dict[str, dict[str, Any]] = {}
        self._member_sets: dict[str, set[str]] = {}

    def add_host(self, group: str, name: str, variables: Mapping[str, Any]) -> None:
        members = self.inv.groups.setdefault(group, [])
        if name not in self.host_vars:
            if len(self.host_vars) >= MAX_HOSTS:
                raise InventoryError(f"more than {MAX_HOSTS:,} hosts")
            self.host_vars[name] = {}
        known = self._member_sets.setdefault(group, set())
        if name not in known:
            known.add(name)
            members.append(name)
        self.host_vars[name].update(variables)

    def finish(self) -> Inventory:
        for group in list(self.children):
            self.inv.groups[group] = self._members(group)
        order = list(self.host_vars)
        groups_of: dict[str, list[str]] = {}
        for group, members in self.inv.groups.items():
            for name in dict.fromkeys(members):
                groups_of.setdefault(name, []).append(group)
        for name in order:
            merged: dict[str, Any] = {}
            for group in groups_of.get(name, []):
                merged.update(self.group_vars.get(group, {}))
            merged.update(self.host_vars[name])
            port = merged.get("ansible_port")
            self.inv.hosts[name] = Host(
                name=name, host=_str(merged.get("ansible_host")), user=_str(merged.get("ansible_user")),
                port=int(port) if port is not None and str(port).isdigit() else None,
                identity_file=_str(merged.get("ansible_ssh_private_key_file")))
        self.inv.groups.setdefault("all", order)
        return self.inv

    def _members(self, group: str) -> list[str]:
        """A group's hosts, then its children's, depth first, each once (no recursion: an INI
        file can chain ten thousand ``:children`` sections)."""
        out: dict[str, None] = {}
        seen = {group}
        stack: list[Iterator[str]] = [iter([group])]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            out.update(dict.fromkeys(self.inv.groups.get(child, [])))
            later = [c for c in self.children.get(child, []) if c not in seen]
            seen.update(later)
            stack.append(iter(later))
        return list(out)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _unique(names: Iterator[str]) -> Iterator[str]:
    seen: set[str] = set()
    for name in names:
        if name not in seen:
            seen.add(name)
            yield name


def parse_ini_inventory(text: str, shown: str = "<inventory>") -> Inventory:
    """An INI inventory: ``[group]``, ``[group:children]``, ``[group:vars]``, host lines."""
    b = _Builder()
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise InventoryError(f"{shown}:{number}: a section header needs a closing ]")
            section, _, kind = line[1:-1].partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "children", "vars"):
                raise InventoryError(f"{shown}:{number}: unknown section kind {kind!r} "
                                     "(expected children or vars)")
            b.inv.groups.setdefault(section, [])
            continue
        if kind == "children":
            b.children.setdefault(section, []).append(line.split()[0])
        elif kind == "vars":
            name, sep, value = line.partition("=")
            if not sep:
                raise InventoryError(f"{shown}:{number}: expected name=value under [{section}:vars]")
            b.group_vars.setdefault(section, {})[name.strip()] = value.strip()
        else:
            try:
                words = shlex.split(line, comments=True)
            except ValueError as exc:
                raise InventoryError(f"{shown}:{number}: {exc}") from None
            variables = {}
            for word in words[1:]:
                name, sep, value = word.partition("=")
                if not sep:
                    raise InventoryError(f"{shown}:{number}: expected name=value after the host, "
                                         f"got {word!r}")
                variables[name] = value
            try:
                for host in expand(words[0]):
                    b.add_host(section, host, variables)
            except InventoryError as exc:
                raise InventoryError(f"{shown}:{number}: {exc}") from None
    return b.finish()


def parse_yaml_inventory(text: str, shown: str = "<inventory>") -> Inventory:
    """A YAML inventory: nested ``hosts`` / ``children`` / ``vars`` from ``all`` down."""
    try:
        bounds.check_yaml(text, yaml.SafeLoader)
        doc = yaml.safe_load(text)
    except bounds.Refused as exc:
        raise InventoryError(f"{shown}:{exc.line}: "
                             f"{exc.message.replace('a checklist', 'an inventory')}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InventoryError(f"{shown}{where}: YAML error: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise InventoryError(f"{shown}: expected a mapping of groups (all: hosts: ...)")
    b = _Builder()
    visits = 0
    open_bodies: set[int] = set()

    def visit(name: str, body: Any) -> None:
        nonlocal visits
        visits += 1
        if visits > MAX_GROUPS:
            raise InventoryError(f"{shown}: more than {MAX_GROUPS:,} groups (YAML anchors reused "
                                 "over and over?)")
        b.inv.groups.setdefault(name, [])
        if body is None:
            return
        if not isinstance(body, dict):
            raise InventoryError(f"{shown}: group {name!r} must be a mapping")
        if id(body) in open_bodies:
            raise InventoryError(f"{shown}: group {name!r} is its own child (through a YAML anchor)")
        hosts = body.get("hosts") or {}
        if not isinstance(hosts, dict):
            raise InventoryError(f"{shown}: hosts of group {name!r} must be a mapping")
        for pattern, variables in hosts.items():
            try:
                for host in expand(str(pattern)):
                    b.add_host(name, host, variables if isinstance(variables, dict) else {})
            except InventoryError as exc:
                raise InventoryError(f"{shown}: group {name!r}: {exc}") from None
        if isinstance(body.get("vars"), dict):
            b.group_vars.setdefault(name, {}).update(body["vars"])
        children = body.get("children") or {}
        if not isinstance(children, dict):
            raise InventoryError(f"{shown}: children of group {name!r} must be a mapping")
        open_bodies.add(id(body))
        for child, child_body in children.items():
            b.children.setdefault(name, []).append(str(child))
            visit(str(child), child_body)
        open_bodies.discard(id(body))

    for name, body in doc.items():
        visit(str(name), body)
    return b.finish()
