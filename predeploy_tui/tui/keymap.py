"""Provides the keymap file: ``[keys]`` binding id = key, read from ``paths.keymap_file()``."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
