"""Provides the host names a checklist may use without declaring them, for ``predeploy validate``.

Those are the ``Host`` aliases of the user's ssh_config (``paths.ssh_config_file``, following
``Include``) and the hosts and groups of the checklist's inventory. Nothing here connects or
resolves a name: validation stays offline.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
from pathlib import Path

from predeploy_tui import paths
from predeploy_tui.core.crosscheck import KnownHosts
from predeploy_tui.engine.inventory import InventoryError, load_inventory

MAX_INCLUDE_DEPTH = 16
"""OpenSSH's limit on nested ``Include``; deeper ones are not read."""

_KEYWORD = re.compile(r"^\s*(\w+)\s*(?:=\s*|\s+)(.*)$")


def ssh_config_hosts(path: Path) -> tuple[set[str], list[str]]:
    """The ``Host`` names of an ssh_config and its patterns with wildcards (not bare ``*``).

    A negated pattern (``!bastion``) names no host. An unreadable file gives nothing, as ssh
    treats a missing config.
    """
    names: set[str] = set()
    patterns: list[str] = []
    _read(path, names, patterns, 0)
    return names, patterns


def _read(path: Path, names: set[str], patterns: list[str], depth: int) -> None:
    if depth > MAX_INCLUDE_DEPTH:
        return
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        match = _KEYWORD.match(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        keyword, rest = match.group(1).lower(), match.group(2)
        try:
            words = shlex.split(rest, comments=True)
        except ValueError:
            words = rest.split()
        if keyword == "host":
            for word in words:
                if word.startswith("!") or word == "*":
                    continue
                if any(c in word for c in "*?"):
                    patterns.append(word)
                else:
                    names.add(word)
        elif keyword == "include":
            for word in words:
                expanded = os.path.expanduser(word)
                if not os.path.isabs(expanded):
                    expanded = str(Path.home() / ".ssh" / expanded)
                for found in sorted(glob.glob(expanded)):
                    _read(Path(found), names, patterns, depth + 1)


def known_hosts(inventory: Path | None, config: Path | None = None) -> KnownHosts | None:
    """The ssh_config's aliases and the inventory's hosts and groups, as the validator takes them.

    None when the inventory cannot be read: its names are unknown, so no name can be called a
    typo (``inventory_problem`` says why, and a run makes every check on its groups an error).
    """
    config = config if config is not None else paths.ssh_config_file()
    names, patterns = ssh_config_hosts(config)
    if inventory is not None:
        try:
            found = load_inventory(inventory)
        except InventoryError:
            return None
        names |= set(found.hosts) | set(found.groups) | {"all"}
    return KnownHosts(frozenset(names), tuple(patterns), f"the ssh_config {config}")


def inventory_problem(inventory: Path) -> str | None:
    """Why the inventory cannot be read (the located message), or None when it can."""
    try:
        load_inventory(inventory)
    except InventoryError as exc:
        return str(exc)
    return None
