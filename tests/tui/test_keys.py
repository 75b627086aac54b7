"""Pilot tests: keymap mistakes are reported on start; the palette shows each key and its id."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.tui.keymap import keymap_problems
from predeploy_tui.tui.launch import open_session

from .conftest import AppFactory, Clock, RecordingApp

pytestmark = pytest.mark.tui


def test_an_unknown_id_and_a_conflict_are_problems() -> None:
    problems = keymap_problems({"no.such": "z", "run.all": "r", "go.pending": "q"})
    assert "keymap: no key has the id 'no.such' (the ids are in the command palette)" in problems
    assert "keymap: 'r' is both run.item and run.all on MainScreen" in problems
    assert "keymap: 'q' is both go.pending and app.quit on MainScreen" in problems
    assert keymap_problems({"run.item": "ctrl+r"}) == []


async def test_keymap_problems_are_shown_on_start(session_file: Path, clock: Clock) -> None:
    opened = open_session(session_file, clock=clock)
    app = RecordingApp(opened, clock=clock, keymap={"no.such": "z"})
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            shown = [n.message for n in app._notifications]
            assert any("no key has the id 'no.such'" in m for m in shown), shown
    finally:
        if opened.lock is not None:
            opened.lock.release()


async def test_the_palette_names_each_key_and_its_id(session_file: Path,
                                                     open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert "Run (r)" in commands
        assert "id run.item" in commands["Run (r)"]


async def test_question_mark_lists_the_screens_own_keys_first(session_file: Path,
                                                              open_app: AppFactory) -> None:
    from predeploy_tui.tui.screens.keys import KeysScreen

    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysScreen)
        text = app.screen.text.plain
        assert text.index("Run the selected item's check  (run.item)") \
            < text.index("Keys of the focused ChecklistTree") < text.index("Cursor Up")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, KeysScreen)
