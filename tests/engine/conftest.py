"""Provides fixtures for the engine tests: checklists written to temp folders, event capture."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from predeploy_tui.core.checklist import Checklist, load_checklist


@pytest.fixture
def make_checklist(tmp_path: Path) -> Callable[[str], Checklist]:
    """Write a checklist body (the ``sections:`` part and anything above) and load it."""

    def make(body: str, head: str = "") -> Checklist:
        path = tmp_path / "checklist.yaml"
        path.write_text("id: t\ntitle: T\n" + textwrap.dedent(head) + textwrap.dedent(body))
        return load_checklist(path)

    return make


def one_section(*specs: str) -> str:
    """A one-section checklist body from item YAML snippets (each a mapping on one line)."""
    lines = ["sections:", "  - id: s", "    title: S", "    groups:", "      - title: G",
             "        items:"]
    lines += [f"          - {spec}" for spec in specs]
    return "\n".join(lines) + "\n"


@pytest.fixture
def items() -> Callable[..., str]:
    """Builds a one-section checklist body from item YAML snippets."""
    return one_section
