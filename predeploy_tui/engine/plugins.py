"""Provides site plugins: check types written as Python files under ``checks/`` of a checklist.

A checklist names them under ``plugins:`` (type name -> file, relative to the checklist's folder).
The file defines ``async def run(ctx: CheckContext) -> Observation`` and may define
``def describe(check, host) -> str``; ``ctx`` is the narrow context (variables, transports,
output callback), never the app.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path

from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.checks import CheckType, builtin, from_module

_cache: dict[tuple[str, float], CheckType] = {}


def load_plugin(name: str, path: Path) -> CheckType:
    """Import the plugin file at ``path`` as check type ``name`` (CheckError says why not)."""
    try:
        stamp = path.stat().st_mtime
    except OSError as exc:
        raise CheckError(f"plugin {name!r}: cannot read {path}: {exc.strerror}") from None
    key = (str(path.resolve()), stamp)
    if key in _cache:
        return _cache[key]
    digest = hashlib.sha256(key[0].encode()).hexdigest()[:12]
    module_name = f"predeploy_plugin_{name.replace('-', '_')}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CheckError(f"plugin {name!r}: {path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise CheckError(f"plugin {name!r} ({path.name}) failed to load: "
                         f"{type(exc).__name__}: {exc}") from None
    check_type = from_module(name, module)
    if not inspect.iscoroutinefunction(check_type.run):
        raise CheckError(f"plugin {name!r} ({path.name}): run must be `async def run(ctx)`")
    _cache[key] = check_type
    return check_type


class CheckTypes:
    """Finds the implementation of a check type: the checklist's plugins first, then built-ins."""

    def __init__(self, plugins: Mapping[str, str], folder: Path) -> None:
        self._plugins = {name: (folder / file) for name, file in plugins.items()}

    def get(self, name: str) -> CheckType:
        """The check type ``name``; CheckError when it cannot be loaded."""
        if name in self._plugins:
            return load_plugin(name, self._plugins[name])
        return builtin(name)
