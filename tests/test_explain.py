"""``predeploy explain``: each check type says what it exposes, and the README says the same."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.commands.explain import README_HEADING, markdown
from predeploy_tui.engine.checks import BUILTIN

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_type_is_explained_from_its_own_module(capsys: pytest.CaptureFixture[str]) -> None:
    for name, module in BUILTIN.items():
        data = importlib.import_module(module).DATA
        assert main(["explain", name]) == 0
        printed = capsys.readouterr().out
        assert printed.startswith(f"{name}: ")
        assert printed.endswith(data)
        for part in ("value", "output", "example:\n  expect: "):
            assert part in data, (name, part)


def test_the_readme_section_is_the_explained_text() -> None:
    # The README's section, from its heading to the next "## ", is `predeploy explain --markdown`
    text = README.read_text(encoding="utf-8")
    start = text.index(README_HEADING)
    end = text.index("\n## ", start + len(README_HEADING))
    assert text[start:end].rstrip("\n") == markdown().rstrip("\n"), \
        "README out of date: paste the output of predeploy explain --markdown"


def test_named_figures_are_documented() -> None:
    postgres = importlib.import_module(BUILTIN["postgres"]).DATA
    assert "max_rows (default 100)" in postgres
    kube = importlib.import_module(BUILTIN["kubernetes"]).DATA
    assert "cpu_free_percent" in kube
    assert "unrounded" in kube
    redis = importlib.import_module(BUILTIN["redis"]).DATA
    assert "link_idle_seconds" in redis
    assert "lag_bytes" in redis


def test_an_unknown_type_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "postgress"]) == 2
    err = capsys.readouterr().err
    assert err == "predeploy: explain: unknown check type 'postgress'; did you mean postgres?\n"
