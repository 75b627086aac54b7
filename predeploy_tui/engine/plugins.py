"""Provides site plugins: check types written as Python files under ``checks/`` of a checklist.

A checklist names them under ``plugins:`` (type name -> file, relative to the checklist's folder).
The file defines ``async def run(ctx: CheckContext) -> Observation`` and may define a
``DESCRIPTION = "count words of: {run}"`` string (filled with the check's masked fields);
``ctx`` is the narrow context (variables, transports, output callback), never the app.

Looking is never running: a plugin file is imported only to run one of its checks. Plans and the
app's detail pane describe a plugin check from the checklist and from the plugin's module
docstring, read with :mod:`ast` (which executes nothing).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from predeploy_tui.engine.base import CheckError, ResolvedCheck
from predeploy_tui.engine.checks import CheckType, builtin, from_module, generic_description

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


class _Blank(dict[str, str]):
    """Fields a description names but the check lacks read as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def static_text(path: Path) -> tuple[str, str]:
    """The plugin file's ``DESCRIPTION`` string and the first line of its docstring, read with ast.

    Nothing of the file runs: only a module-level ``DESCRIPTION = "..."`` string literal counts.
    """
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return "", ""
    template = ""
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str) \
                and any(isinstance(t, ast.Name) and t.id == "DESCRIPTION" for t in node.targets):
            template = node.value.value
    doc = (ast.get_docstring(tree) or "").strip()
    return template, doc.splitlines()[0].strip() if doc else ""


def static_description(path: Path) -> Callable[[ResolvedCheck, str | None], str]:
    """How a plugin check is described without running any of it.

    The plugin's ``DESCRIPTION`` template filled with the check's masked fields
    (``"count words of: {run}"``), else the type and its fields with the docstring's first line.
    """
    template, doc = static_text(path)

    def describe(check: ResolvedCheck, host: str | None) -> str:
        where = f" on {host}" if host else ""
        if template:
            try:
                return template.format_map(_Blank({k: str(v) for k, v in check.shown.items()})) \
                    + where
            except (ValueError, IndexError, AttributeError, KeyError):
                pass  # a malformed template: fall back to the fields
        line = generic_description(check, host)
        return f"{line}  [plugin {path.name}{': ' + doc if doc else ''}]"

    return describe


class CheckTypes:
    """Finds the implementation of a check type: the checklist's plugins first, then built-ins."""

    def __init__(self, plugins: Mapping[str, str], folder: Path) -> None:
        self._plugins = {name: (folder / file) for name, file in plugins.items()}

    def get(self, name: str) -> CheckType:
        """The check type ``name``, to run it (a plugin file is imported now); CheckError if not."""
        if name in self._plugins:
            return load_plugin(name, self._plugins[name])
        return builtin(name)

    def plugin_file(self, name: str) -> Path | None:
        """The file of plugin type ``name``; None for a built-in type."""
        return self._plugins.get(name)

    def describer(self, name: str) -> Callable[[ResolvedCheck, str | None], str]:
        """How to describe a check of type ``name`` in one line, executing nothing of the checklist."""
        if name in self._plugins:
            return static_description(self._plugins[name])
        try:
            return builtin(name).describe
        except CheckError:
            return generic_description
