"""Provides the checklist checks that need the whole document: ids, references, variables, types.

Field-by-field rules live in the format (``checklist.format_spec``); what can only be judged
across fields is here: duplicate ids and roles, dangling or cyclic ``depends_on``, unknown
variables and check types, defaults that break their own variable's rules, host names.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from predeploy_tui.core import grouprule
from predeploy_tui.core.checkspec import CHECK_TYPES, HOST_TYPES
from predeploy_tui.core.located import LocatedDict, LocatedList, Reader
from predeploy_tui.core.problems import suggest
from predeploy_tui.core.vocab import ItemKind

VARIABLE_REF = re.compile(r"\$\{([^}]*)\}")
"""A ``${name}`` or ``${env:NAME}`` reference in a check's text."""


@dataclass(frozen=True)
class KnownHosts:
    """Host names from outside the checklist that a check may use, found by the caller.

    The core reads no ssh_config: ``predeploy validate`` gives the ssh_config's ``Host`` aliases
    and the inventory's hosts and groups (``engine.hostnames``). Without them, only a name close
    to one of the checklist's own is reported (it may be an alias the loader cannot see).
    """

    names: frozenset[str] = frozenset()
    """ssh_config aliases, inventory hosts and inventory groups."""
    patterns: tuple[str, ...] = ()
    """ssh_config ``Host`` patterns with wildcards (``web-*``); a bare ``*`` names no host."""
    where: str = "the ssh_config"
    """The ssh_config read, for messages."""

    def knows(self, name: str) -> bool:
        """Whether ``name`` is one of the names or matches one of the patterns."""
        return name in self.names or any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


def host_part(name: str) -> str:
    """The host of a ``[user@]host[:port]`` spec (``[v6]:port`` too)."""
    host = name.rsplit("@", 1)[-1]
    if host.startswith("[") and "]" in host:
        return host[1:host.index("]")]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def literal_host(name: str) -> bool:
    """A host that needs no declaration: a ``${...}``, ``localhost``, a name with a dot, an IP.

    ``user@`` and ``:port`` are set aside first (:func:`host_part`). A bare word is a name that
    must be declared somewhere, so a typo in it is caught.
    """
    if "${" in name:
        return True
    host = host_part(name)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." in host
    return True


def cross_checks(raw: LocatedDict, r: Reader, plugins: list[str],
                 known: KnownHosts | None = None) -> None:
    """Checks that need the whole document: ids, references, variables, check types, hosts."""
    known_types = [*CHECK_TYPES, *plugins]
    variables = set(raw.get("variables", {}))
    hosts = set(raw.get("hosts", {})) | set(raw.get("host_groups", {}))

    def check_host(name: str, mark: tuple[int, int], names: set[str]) -> None:
        bare = host_part(name)
        if name in names or bare in names or literal_host(name):
            return
        if known is None:
            hint = suggest(name, sorted(names))
            if hint:
                r.problem(mark, f"unknown host {name!r}{hint}")
            return
        if not known.knows(name) and not known.knows(bare):
            r.problem(mark, f"unknown host {name!r}{suggest(name, sorted(names | known.names))}; "
                            "expected a name from hosts, host_groups or the inventory, a Host of "
                            f"{known.where}, or a host name with a dot or an IP address")

    seen_sections: dict[str, int] = {}
    all_keys: dict[str, tuple[int, int]] = {}
    refs: list[tuple[str, str, str, tuple[int, int]]] = []  # (item key, section, ref, mark)

    def visit(item: LocatedDict, prefix: str, section: str) -> None:
        if "id" not in item:
            return
        key = f"{prefix}.{item['id']}"
        if key in all_keys:
            r.problem(item.mark_of("id"), f"duplicate item id {item['id']!r} "
                                          f"(first on line {all_keys[key][0]})")
        else:
            all_keys[key] = item.mark_of("id")
        check = item.get("check")
        if isinstance(check, LocatedDict):
            ctype = check.get("type")
            if ctype is not None and ctype not in known_types:
                r.problem(check.mark_of("type"), f"unknown check type {ctype!r}"
                          f"{suggest(str(ctype), known_types)}; expected one of "
                          + ", ".join(known_types))
            _variable_refs(check, r, variables)
            if grouprule.OLD_NAME in check:
                if "need" in check:
                    r.problem(check.mark_of(grouprule.OLD_NAME),
                              f"{grouprule.OLD_NAME} and need say the same; keep need only")
                else:
                    r.warn(check.mark_of(grouprule.OLD_NAME),
                           f"{grouprule.OLD_NAME} is the old name of need (how many hosts must "
                           "pass, the rule expect.need applies to list elements); write need")
            target = check.get("host")
            if isinstance(target, str) and (ctype in HOST_TYPES or ctype in plugins):
                check_host(target, check.mark_of("host"), hosts)
        if item.get("kind") in (ItemKind.CHECK, ItemKind.ACTION) and "check" not in item:
            article = "an" if item["kind"] == ItemKind.ACTION else "a"
            r.problem(item.mark_of("kind"), f"{article} {item['kind']} item needs a 'check' "
                                            "(the command to run)")
        deps = item.get("depends_on")
        if isinstance(deps, LocatedList):
            for dep, mark in zip(deps, deps.marks, strict=False):
                refs.append((key, section, dep, mark))
        for child in item.get("items", []):
            if isinstance(child, LocatedDict):
                visit(child, key, section)

    for section in raw.get("sections", []):
        sid = section.get("id")
        if sid is None:
            continue
        if sid in seen_sections:
            r.problem(section.mark_of("id"), f"duplicate section id {sid!r} "
                                             f"(first on line {seen_sections[sid]})")
        seen_sections[sid] = section.mark_of("id")[0]
        for group in section.get("groups", []):
            for item in group.get("items", []):
                visit(item, sid, sid)

    graph: dict[str, list[str]] = {k: [] for k in all_keys}
    edges: dict[tuple[str, str], tuple[int, int]] = {}
    for key, section, ref, mark in refs:
        target = ref if ref in all_keys else f"{section}.{ref}"
        if target not in all_keys:
            # Suggest what the author would write: the short id within the section, or a full key.
            short = [k.removeprefix(f"{section}.") for k in all_keys if k.startswith(f"{section}.")]
            r.problem(mark, f"depends_on {ref!r} names no item{suggest(ref, [*short, *all_keys])}; "
                            "expected an item id of this section or a full section.item key")
            continue
        if target == key:
            r.problem(mark, f"item {key!r} depends on itself")
            continue
        graph[key].append(target)
        edges.setdefault((key, target), mark)
    _cycles(graph, edges, r)

    for name in variables:
        var = raw["variables"][name]
        default, choices = var.get("default"), var.get("choices")
        if default is not None and choices and default not in choices:
            r.problem(var.mark_of("default"), f"default {default!r} is not one of the choices "
                                              + ", ".join(choices))
        if default is not None and "pattern" in var and not re.fullmatch(var["pattern"], default):
            r.problem(var.mark_of("default"), f"default {default!r} does not match the pattern "
                                              f"{var['pattern']}")
    for name in raw.get("host_groups", {}):
        group = raw["host_groups"][name]
        if "hosts" not in group and "inventory_group" not in group:
            r.problem((group.line, group.column), f"host group {name!r} needs hosts or "
                                                  "inventory_group")
        members = group.get("hosts")
        if isinstance(members, LocatedList):
            for member, mark in zip(members, members.marks, strict=False):
                check_host(member, mark, set(raw.get("hosts", {})))
        if "inventory_group" in group and "inventory" not in raw:
            r.problem(group.mark_of("inventory_group"), "inventory_group needs a top-level "
                                                         "'inventory' file")
    roles: dict[str, int] = {}
    for signoff in raw.get("signoffs", []):
        role = signoff.get("role")
        if role in roles:
            r.problem(signoff.mark_of("role"), f"duplicate sign-off role {role!r} "
                                               f"(first on line {roles[role]})")
        elif role is not None:
            roles[role] = signoff.mark_of("role")[0]


def _variable_refs(value: Any, r: Reader, variables: set[str], mark: tuple[int, int] = (0, 0)) \
        -> None:
    if isinstance(value, LocatedDict):
        for key, child in value.items():
            _variable_refs(child, r, variables, value.mark_of(key))
    elif isinstance(value, LocatedList):
        for child, child_mark in zip(value, value.marks, strict=False):
            _variable_refs(child, r, variables, child_mark)
    elif isinstance(value, str):
        for match in VARIABLE_REF.finditer(value):
            name = match.group(1)
            if name.startswith("env:"):
                if not re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*", name):
                    r.problem(mark, f"${{{name}}} is not a valid environment reference "
                                    "(expected ${env:NAME})")
                continue
            if name not in variables:
                r.problem(mark, f"unknown variable ${{{name}}}{suggest(name, sorted(variables))}; "
                                "declare it under 'variables'")


def _cycles(graph: dict[str, list[str]], edges: dict[tuple[str, str], tuple[int, int]],
            r: Reader) -> None:
    """Report each dependency cycle once, at the depends_on entry where it starts."""
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def dfs(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    first_edge = (cycle[0], cycle[1] if len(cycle) > 1 else nxt)
                    r.problem(edges[first_edge], "depends_on forms a cycle: "
                                                 + " -> ".join([*cycle, nxt]))
            elif state.get(nxt) is None:
                dfs(nxt, trail)
        trail.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            dfs(node, [])
