"""Pilot tests: the output box shows the output of the one run its result line names."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Log

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.tui import messages

from .conftest import AppFactory, Clock, RecordingApp, saved, settle

pytestmark = pytest.mark.tui


def box(app: RecordingApp) -> list[str]:
    return list(app.screen.query_one("#item-output", Log).lines)


def text_of(app: RecordingApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_a_rerun_replaces_the_output_instead_of_appending(session_file: Path, clock: Clock,
                                                                open_app: AppFactory) -> None:
    session = store.load(session_file)
    session.record_result("infra.ok", CheckResult(
        Status.PASS, "exit 0", output="ok from the last session\n", started=clock(),
        finished=clock(), by="Dana"), clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert box(app) == ["ok from the last session"]
        await pilot.press("r")
        await settle(pilot, app)
        assert box(app) == ["ok"]
        await pilot.press("r")
        await app.until(lambda: len(app.seen(messages.CheckFinished)) == 2)
        await settle(pilot, app)
        assert box(app) == ["ok"]
        assert len(saved(session_file).items["infra.ok"].runs) == 3


async def test_cancel_keeps_the_earlier_pass_and_its_output(session_file: Path, clock: Clock,
                                                            open_app: AppFactory) -> None:
    # Given a slow check that passed earlier
    session = store.load(session_file)
    session.record_result("infra.slow", CheckResult(
        Status.PASS, "exit 0", output="earlier evidence\n", started=clock(),
        finished=clock() + timedelta(seconds=1), by="Dana"), clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.slow")
        await pilot.pause()
        assert box(app) == ["earlier evidence"]
        # When it runs again, the box follows the new run alone
        await pilot.press("r")
        await app.until(lambda: "infra.slow" in app.started())
        await app.until(lambda: app.runs.output["infra.slow"].count > 0)
        app.screen.redraw()
        app.screen.flush_output()
        await pilot.pause()
        assert box(app) == ["started"]
        assert "running since" in text_of(app, "#item-result")
        # and is cancelled
        await pilot.press("c")
        await settle(pilot, app)
        # Then the pass stands, with its own output, and history lists the cancelled run
        state = saved(session_file).items["infra.slow"]
        assert state.status is Status.PASS
        assert state.runs[-1].summary == "cancelled"
        assert "started" in state.runs[-1].output
        assert box(app) == ["earlier evidence"]
        assert "pass" in text_of(app, "#item-result")
        assert "cancelled (judged nothing)" in text_of(app, "#item-history")


async def test_output_of_a_check_that_streams_nothing_shows_when_it_finishes(
        session_file: Path, open_app: AppFactory, clock: Clock) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert box(app) == []
        # An HTTP or DNS check sends no output chunks: its output comes with its result
        app.runs.recorder.record("infra.ok", CheckResult(
            Status.PASS, "HTTP 200", output="HTTP/1.1 200 OK\n", started=clock(),
            finished=clock(), by="Dana"))
        app.post_message(messages.SessionChanged())
        await settle(pilot, app)
        assert box(app) == ["HTTP/1.1 200 OK"]
