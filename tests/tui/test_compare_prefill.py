"""Pilot test: the compare dialog accepts the path it pre-fills, however the session was opened."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from predeploy_tui.tui.screens.compare import CompareAsk, CompareScreen

from .conftest import AppFactory

pytestmark = pytest.mark.tui


async def test_compare_accepts_its_own_suggestion_for_a_session_opened_by_a_relative_path(
        session_file: Path, open_app: AppFactory, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(session_file, session_file.with_name("earlier.toml"))
    monkeypatch.chdir(tmp_path)
    app = open_app(session_file.relative_to(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, CompareAsk)
        await pilot.press("enter")
        await app.until(lambda: isinstance(app.screen, CompareScreen))
