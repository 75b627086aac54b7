"""Pilot tests: running checks from the app, cancelling, actions, and what reaches the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.core.results import Status
from predeploy_tui.tui import messages
from predeploy_tui.tui.screens.dialogs import ConfirmAction
from predeploy_tui.tui.screens.plan import PlanScreen

from .conftest import AppFactory, saved, settle

pytestmark = pytest.mark.tui


async def test_run_one_item_saves_the_result(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.items_tree.current_key == "infra.ok"
        await pilot.press("r")
        await settle(pilot, app)
        state = saved(session_file).items["infra.ok"]
        assert state.status is Status.PASS
        assert state.result is not None
        assert state.result.by == "Dana"
        assert "ok" in state.result.output
        assert [m.key for m in app.seen(messages.CheckStarted)] == ["infra.ok"]
        assert [m.key for m in app.seen(messages.CheckFinished)] == ["infra.ok"]
        assert app.seen(messages.RunFinished)
        assert "pass" in str(app.screen.query_one("#item-meta").render())


async def test_failed_check_shows_its_summary(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "r")
        await settle(pilot, app)
        state = saved(session_file).items["infra.broken"]
        assert state.status is Status.FAIL
        assert "replicas ready" in state.result.summary  # type: ignore[union-attr]
        await pilot.press("home", "f")
        assert app.screen.items_tree.current_key == "infra.broken"


async def test_run_section_through_the_plan(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        planned = {p.key for p in app.screen.planned}
        assert planned == {"infra.ok", "infra.broken", "infra.slow", "infra.after"}
        await pilot.press("escape")
        await pilot.pause()
        assert not app.seen(messages.CheckStarted)  # cancelling the plan runs nothing


async def test_run_all_leaves_actions_out_unless_ticked(session_file: Path,
                                                        open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PlanScreen)
        assert "release.tag" in {p.key for p in app.screen.planned if p.kind == "action"}
        await pilot.press("ctrl+r")
        await app.until(lambda: {"infra.ok", "infra.broken", "infra.slow"} <= app.started())
        assert app.runs.progress[1] == 4
        app.runs.cancel(["infra.slow"])
        await settle(pilot, app)
        on_disk = saved(session_file)
        assert on_disk.items["infra.ok"].status is Status.PASS
        assert on_disk.items["infra.after"].status is Status.PASS
        assert on_disk.items["infra.slow"].status is Status.PENDING
        assert on_disk.items["infra.slow"].runs[-1].summary == "cancelled"
        assert on_disk.items["release.tag"].status is Status.PENDING
        assert not on_disk.items["release.tag"].runs


async def test_cancel_a_running_check(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.slow")
        await pilot.press("r")
        await app.until(lambda: "infra.slow" in app.started())
        assert "infra.slow" in app.runs.running
        await app.until(app.everything_saved)  # spaced while checks run, so awaited
        assert saved(session_file).items["infra.slow"].status is Status.RUNNING
        await pilot.press("c")
        await settle(pilot, app)
        state = saved(session_file).items["infra.slow"]
        assert state.status is Status.PENDING  # never judged: a cancel is not a result
        assert state.last_run is not None
        assert state.last_run.summary == "cancelled"
        assert "started" in state.last_run.output


@pytest.mark.parametrize(("answer", "status"), [("y", Status.PASS), ("n", Status.SKIPPED)])
async def test_an_action_asks_first(session_file: Path, open_app: AppFactory, answer: str,
                                    status: Status) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("release.tag")
        await pilot.pause()
        await pilot.press("r")
        await app.until(lambda: isinstance(app.screen, ConfirmAction))
        assert app.screen.command == "echo tagged 2.0.0"
        assert app.screen.host is None
        assert not app.seen(messages.CheckStarted)  # nothing runs before the answer
        await pilot.press(answer)
        await settle(pilot, app)
        state = saved(session_file).items["release.tag"]
        assert state.status is status
        if answer == "y":
            assert "tagged 2.0.0" in state.result.output  # type: ignore[union-attr]


async def test_live_output_reaches_the_log_in_batches(session_file: Path,
                                                      open_app: AppFactory) -> None:
    from textual.widgets import Log

    from predeploy_tui.engine.base import ItemStarted, OutputChunk

    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.slow")
        await pilot.pause()
        app.runs._listen(ItemStarted("infra.slow", None, app.clock()))
        for i in range(3000):
            app.runs._listen(OutputChunk("infra.slow", None, f"line {i}\n"))
        assert len(app.seen(messages.OutputArrived)) == 1  # one notice for 3000 chunks
        await pilot.pause()
        app.screen.flush_output()  # what the short timer does, now rather than in 0.1 s
        log = app.screen.query_one("#item-output", Log)
        assert log.line_count <= 1000 + 1
        assert "line 2999" in log.lines[-2] or "line 2999" in log.lines[-1]
