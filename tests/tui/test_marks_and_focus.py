"""Pilot tests: choices are marked by glyph (NO_COLOR), and dialogs start on the right field."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RadioButton, RadioSet, TextArea

from predeploy_tui.tui.screens.decision import DecisionScreen

from .conftest import AppFactory

pytestmark = pytest.mark.tui


async def test_no_color_decision_marks_the_chosen_verdict_by_glyph_and_starts_on_it(
        session_file: Path, open_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DecisionScreen)
        assert isinstance(app.focused, RadioSet)
        assert app.focused.id == "choice"
        await pilot.press("down", "down", "enter")  # choose the third: NO GO
        await pilot.pause()
        shown = {str(b.label): b.render().plain  # type: ignore[union-attr]
                 for b in app.screen.query_one("#choice").query(RadioButton)}
        assert "●" in shown["NO GO"]
        assert "●" not in shown["GO"]
        assert "●" not in shown["CONDITIONAL GO"]


async def test_typing_q_in_the_decision_notes_never_quits(session_file: Path,
                                                         open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        app.screen.query_one("#notes", TextArea).focus()
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, DecisionScreen)
        assert app.screen.query_one("#notes", TextArea).text == "q"
