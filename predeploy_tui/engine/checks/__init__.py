"""Provides the registry of check types: built-in ones by name, imported on first use.

Starting the app must not pay for asyncssh, httpx, boto3, psycopg, kubernetes or pynvml, so a
type's module (and the client library it uses) is imported only when a check of that type runs
or is described.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType

from predeploy_tui.core.checkspec import CHECK_TYPES
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck

BUILTIN: dict[str, str] = {name: f"predeploy_tui.engine.checks.{name}" for name in CHECK_TYPES}
"""Built-in check type name -> module that implements it (the names are core's registry)."""


@dataclass(frozen=True)
class CheckType:
    """A loaded check type: how to run it and how to describe one run in one line."""

    name: str
    """The type name used in checklists."""
    run: Callable[[CheckContext], Awaitable[Observation]]
    """Measures and reports what it saw."""
    describe: Callable[[ResolvedCheck, str | None], str]
    """One line for the plan and the detail view (secrets masked)."""


def generic_description(check: ResolvedCheck, host: str | None) -> str:
    """A description for a type without its own: the masked fields, plus where it runs."""
    fields = " ".join(f"{k}={v}" for k, v in check.shown.items() if k not in ("host", "need"))
    return f"{check.type} {fields}".strip() + (f" on {host}" if host else "")


def from_module(name: str, module: ModuleType) -> CheckType:
    """The check type a module provides: ``run`` (required) and ``describe`` (optional)."""
    run = getattr(module, "run", None)
    if not callable(run):
        raise CheckError(f"check type {name!r} ({module.__name__}) has no run(ctx) function")
    describe = getattr(module, "describe", None)
    return CheckType(name, run, describe if callable(describe) else generic_description)


_loaded: dict[str, CheckType] = {}


def builtin(name: str) -> CheckType:
    """The built-in check type ``name``, importing its module now (CheckError if unavailable)."""
    if name in _loaded:
        return _loaded[name]
    if name not in BUILTIN:
        raise CheckError(f"unknown check type {name!r}")
    try:
        module = importlib.import_module(BUILTIN[name])
    except ImportError as exc:
        raise CheckError(f"check type {name!r} is not available: {exc}") from None
    _loaded[name] = from_module(name, module)
    return _loaded[name]
