"""Pilot tests: the output of the shown run opens full screen, wraps, scrolls and searches."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TextArea

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.tui.screens.main import MainScreen
from predeploy_tui.tui.screens.output import OutputScreen, find_next, location, offset

from .conftest import AppFactory, Clock

pytestmark = pytest.mark.tui

LONG = "x" * 300 + " END-OF-A-LONG-LINE"
OUTPUT = "\n".join([f"line {i:03d}" for i in range(200)] + [LONG, "needle here", "tail"]) + "\n"


def with_long_output(path: Path, clock: Clock) -> None:
    session = store.load(path)
    session.record_result("infra.ok", CheckResult(Status.PASS, "exit 0", output=OUTPUT,
                                                  started=clock(), finished=clock(), by="Dana"),
                          clock())
    store.save(session, path)


def test_find_next_wraps_to_the_start() -> None:
    assert find_next("ab ab", "ab", 1) == 3
    assert find_next("ab ab", "AB", 4) == 0
    assert find_next("ab", "zz", 0) == -1


async def test_o_opens_the_whole_output_wrapped_and_search_finds_a_line(
        session_file: Path, clock: Clock, open_app: AppFactory) -> None:
    with_long_output(session_file, clock)
    app = open_app(session_file)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, OutputScreen)
        area = app.screen.query_one("#output-text", TextArea)
        assert area.text == OUTPUT  # every line, the long one uncut
        assert area.soft_wrap
        await pilot.press("w")
        assert not area.soft_wrap
        await pilot.press("slash", *"needle", "enter")
        await pilot.pause()
        assert area.selected_text == "needle"
        assert area.selection.start[0] == 201
        assert area.scroll_offset.y > 100  # scrolled to the match
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


def test_location_and_offset_agree() -> None:
    text = "ab\ncde\n\nf"
    for index in range(len(text) + 1):
        assert offset(text, location(text, index)) == index
    assert location(text, 4) == (1, 1)
