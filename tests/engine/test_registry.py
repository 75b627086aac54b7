"""The check-type registry: one entry per built-in type, one module per entry, nothing else."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest

from predeploy_tui.core.checklist import json_schema
from predeploy_tui.core.checkspec import CHECK_TYPES, HOST_TYPES
from predeploy_tui.engine import checks
from predeploy_tui.engine.checks import BUILTIN


def test_every_module_under_checks_is_a_registered_type_and_every_type_has_its_module() -> None:
    modules = {m.name for m in pkgutil.iter_modules(checks.__path__) if not m.name.startswith("_")}
    assert modules == set(CHECK_TYPES) == set(BUILTIN)


@pytest.mark.parametrize("name", sorted(CHECK_TYPES))
def test_a_registered_type_runs_from_its_module(name: str) -> None:
    assert callable(getattr(importlib.import_module(BUILTIN[name]), "run", None))


def test_host_capable_types_are_those_with_a_host_field() -> None:
    assert HOST_TYPES == ("ssh", "disk", "memory", "gpu")


def test_the_schema_lists_exactly_the_registered_types() -> None:
    text = json.dumps(json_schema())
    named = set(re.findall(r'"properties": \{"type": \{"const": "([a-z_]+)"\}\}', text))
    assert named == set(CHECK_TYPES)
