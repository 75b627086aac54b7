"""Snapshot tests: the main screen mid-run, a failed check, the plan, sign-offs, decision, review.

Clocks are frozen, cursors do not blink, and the run is fed engine events directly, so every
frame is the same on every machine. Regenerate with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.base import ItemStarted, OutputChunk

from .conftest import AppFactory, Clock, RecordingApp, saved_and_drawn

pytestmark = pytest.mark.tui

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


async def _still(pilot: Pilot[Any]) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    assert isinstance(pilot.app, RecordingApp)
    await saved_and_drawn(pilot, pilot.app)


def _with_results(path: Path, clock: Clock) -> None:
    session = store.load(path)
    session.record_result("infra.ok", CheckResult(
        Status.PASS, "output contains 'ok'", output="ok\n", exit_code=0, started=clock(),
        finished=clock(), by="Dana"), clock())
    session.record_result("infra.broken", CheckResult(
        Status.FAIL, "replicas ready 1, expected >= 3", output="replicas ready: 1 of 3\n",
        exit_code=1, started=clock(), finished=clock(), by="Dana"), clock())
    store.save(session, path)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen_mid_run(snap_compare: Any, session_file: Path, open_app: AppFactory,
                             clock: Clock, size: tuple[int, int]) -> None:
    _with_results(session_file, clock)
    app = open_app(session_file)

    async def mid_run(pilot: Pilot[Any]) -> None:
        app.screen.items_tree.select_key("infra.slow")
        # The engine's events, given to its two listeners: the recorder and the app's screen side.
        for event in (ItemStarted("infra.slow", None, clock()), ItemStarted("infra.after", None, clock()),
                      *(OutputChunk("infra.slow", None, f"migrating table {i:02d} ... done\n")
                        for i in range(40))):
            app.runs.recorder(event)
            app.runs._listen(event)
        # The header shows the autosave's time: wait for that save, not a fixed time (slow CI).
        await app.until(lambda: app.saver.last_saved is not None and app.everything_saved())
        await _still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=mid_run)


@pytest.mark.parametrize("size", SIZES)
def test_failed_check(snap_compare: Any, session_file: Path, open_app: AppFactory, clock: Clock,
                      size: tuple[int, int]) -> None:
    _with_results(session_file, clock)
    app = open_app(session_file)

    async def on_failure(pilot: Pilot[Any]) -> None:
        await pilot.press("f")
        await _still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=on_failure)


@pytest.mark.parametrize("size", SIZES)
def test_plan(snap_compare: Any, session_file: Path, open_app: AppFactory,
              size: tuple[int, int]) -> None:
    assert snap_compare(open_app(session_file), terminal_size=size, press=["a"],
                        run_before=_still)


@pytest.mark.parametrize("size", SIZES)
def test_signoffs(snap_compare: Any, session_file: Path, open_app: AppFactory,
                  size: tuple[int, int]) -> None:
    app = open_app(session_file)

    async def signed_then_changed(pilot: Pilot[Any]) -> None:
        await pilot.press("s")
        await pilot.pause()
        await pilot.click("#sign-engineering")
        await pilot.press("escape")
        app.screen.items_tree.select_key("release.notes")
        await pilot.press("t", "s")
        await _still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=signed_then_changed)


@pytest.mark.parametrize("size", SIZES)
def test_decision(snap_compare: Any, session_file: Path, open_app: AppFactory, clock: Clock,
                  size: tuple[int, int]) -> None:
    _with_results(session_file, clock)
    assert snap_compare(open_app(session_file), terminal_size=size, press=["d"],
                        run_before=_still)


@pytest.mark.parametrize("size", SIZES)
def test_review_mode(snap_compare: Any, session_file: Path, open_app: AppFactory, clock: Clock,
                     size: tuple[int, int]) -> None:
    _with_results(session_file, clock)
    session = store.load(session_file)
    session.record_result("infra.ok", CheckResult(
        Status.PASS, "output contains 'ok'", output="ok\n", exit_code=0, started=clock(),
        finished=clock(), by="Rui", role="reviewer"), clock())
    session.items["infra.ok"].review_note = "re-ran: same result"
    store.save(session, session_file)
    app: RecordingApp = open_app(session_file, review=True)
    assert snap_compare(app, terminal_size=size, run_before=_still)
