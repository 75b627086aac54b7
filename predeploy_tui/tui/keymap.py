"""Provides the keymap file: ``[keys]`` binding id = key, read from ``paths.keymap_file()``, and
what is wrong with one (an id no key has, two keys of one screen on the same key)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

from predeploy_tui import paths


class KeymapError(Exception):
    """The keymap file is unreadable or malformed: one line saying where and why."""


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """The remapped keys by binding id; an absent file means no remapping."""
    path = path or paths.keymap_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise KeymapError(f"{path}: cannot read the keymap: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(f"{path}: {exc}") from None
    keys = doc.get("keys", {})
    if not isinstance(keys, dict):
        raise KeymapError(f"{path}: [keys] should be a table of binding id = \"key\"")
    out: dict[str, str] = {}
    for binding_id, key in keys.items():
        if not isinstance(key, str) or not key.strip():
            raise KeymapError(f"{path}: keys.{binding_id} should be a key name such as \"ctrl+r\"")
        out[str(binding_id)] = key.strip()
    return out


def _binding_sets() -> dict[str, list[Binding]]:
    """Every class of the app that declares keys, by name, with its own bindings."""
    import importlib
    import pkgutil

    from predeploy_tui.tui import screens, widgets

    for package in (screens, widgets):
        for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    found: dict[str, list[Binding]] = {}
    todo: list[type[DOMNode]] = [DOMNode]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        own = cls.__dict__.get("BINDINGS")
        if cls.__module__.startswith("predeploy_tui.") and own:
            found[cls.__name__] = [b for b in own if isinstance(b, Binding)]
    return found


def keymap_problems(keymap: dict[str, str]) -> list[str]:
    """What is wrong with a keymap: ids no key has, and two keys of one screen on the same key."""
    sets = _binding_sets()
    app_level = [b for name, bs in sets.items() if name.endswith("App") for b in bs]
    known = {b.id for bs in sets.values() for b in bs if b.id}
    problems = [f"keymap: no key has the id {bid!r} (the ids are in the command palette)"
                for bid in keymap if bid not in known]
    for name, bindings in sorted(sets.items()):
        taken: dict[str, str] = {}
        for binding in bindings + ([] if name.endswith("App") else app_level):
            if not binding.id:
                continue
            keys = keymap.get(binding.id, binding.key)
            for key in (k.strip() for k in keys.split(",")):
                other = taken.setdefault(key, binding.id)
                if other != binding.id and (binding.id in keymap or other in keymap):
                    problems.append(f"keymap: {key!r} is both {other} and {binding.id} "
                                    f"on {name}")
    return list(dict.fromkeys(problems))
