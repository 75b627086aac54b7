"""Snapshot tests: the output full screen, NO_COLOR screens, a cancelled re-run.

Clocks are frozen and cursors do not blink. Regenerate with ``pytest tests/tui --snapshot-update``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from predeploy_tui.core import store
from predeploy_tui.core.results import CANCELLED, CheckResult, Status

from .conftest import AppFactory, Clock
from .test_snapshots import SIZES, _still, _with_results

pytestmark = pytest.mark.tui

LONG_OUTPUT = "".join(f"step {i:02d}: " + "applied migration " * (i % 9) + "ok\n" for i in range(60))


def _long_output(path: Path, clock: Clock) -> None:
    session = store.load(path)
    session.record_result("infra.ok", CheckResult(
        Status.PASS, "output contains 'ok'", output=LONG_OUTPUT, exit_code=0, started=clock(),
        finished=clock() + timedelta(seconds=2), by="Dana"), clock())
    store.save(session, path)


def _cancelled_rerun(path: Path, clock: Clock) -> None:
    session = store.load(path)
    session.record_result("infra.slow", CheckResult(
        Status.PASS, "exit 0", output="finished in 12 s\n", exit_code=0, started=clock(),
        finished=clock(), by="Dana"), clock())
    session.mark_running("infra.slow", "Dana", clock())
    session.record_result("infra.slow", CheckResult(
        Status.ERROR, CANCELLED, output="started\n", started=clock(),
        finished=clock() + timedelta(seconds=4), by="Dana"), clock())
    store.save(session, path)


@pytest.mark.parametrize("size", SIZES)
def test_output_full_screen(snap_compare: Any, session_file: Path, open_app: AppFactory,
                            clock: Clock, size: tuple[int, int]) -> None:
    _long_output(session_file, clock)
    assert snap_compare(open_app(session_file), terminal_size=size, press=["o"], run_before=_still)


@pytest.mark.parametrize("size", SIZES)
def test_no_color_failed_check(snap_compare: Any, session_file: Path, open_app: AppFactory,
                               clock: Clock, size: tuple[int, int],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    _with_results(session_file, clock)

    async def on_failure(pilot: Pilot[Any]) -> None:
        await pilot.press("f")
        await _still(pilot)

    assert snap_compare(open_app(session_file), terminal_size=size, run_before=on_failure)


@pytest.mark.parametrize("size", SIZES)
def test_no_color_decision(snap_compare: Any, session_file: Path, open_app: AppFactory,
                           clock: Clock, size: tuple[int, int],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    _with_results(session_file, clock)
    assert snap_compare(open_app(session_file), terminal_size=size,
                        press=["d", "down", "down", "enter"], run_before=_still)


@pytest.mark.parametrize("size", SIZES)
def test_cancelled_rerun_keeps_the_pass(snap_compare: Any, session_file: Path,
                                        open_app: AppFactory, clock: Clock,
                                        size: tuple[int, int]) -> None:
    _cancelled_rerun(session_file, clock)
    app = open_app(session_file)

    async def on_slow(pilot: Pilot[Any]) -> None:
        app.screen.items_tree.select_key("infra.slow")
        await _still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=on_slow)


@pytest.mark.parametrize("size", SIZES)
def test_keys_of_the_main_screen(snap_compare: Any, session_file: Path, open_app: AppFactory,
                                 size: tuple[int, int]) -> None:
    assert snap_compare(open_app(session_file), terminal_size=size, press=["question_mark"],
                        run_before=_still)


@pytest.mark.parametrize(("size", "tick"), [pytest.param((120, 40), False, id="120x40-unticked"),
                                            pytest.param((80, 24), True, id="80x24-ticked")])
def test_no_color_plan(snap_compare: Any, session_file: Path, open_app: AppFactory,
                       size: tuple[int, int], tick: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import SelectionList

    monkeypatch.setenv("NO_COLOR", "1")

    async def ticked(pilot: Pilot[Any]) -> None:
        await pilot.press("a")
        await pilot.pause()
        if tick:
            pilot.app.screen.query_one("#plan-actions", SelectionList).select_all()
        await _still(pilot)

    assert snap_compare(open_app(session_file), terminal_size=size, run_before=ticked)


@pytest.mark.parametrize("size", SIZES)
def test_description_in_the_detail_pane(snap_compare: Any, tmp_path: Path, clock: Clock,
                                        open_app: AppFactory, size: tuple[int, int]) -> None:
    from .conftest import SMALL, make_session

    checklist = tmp_path / "small.yaml"
    checklist.write_text(SMALL.read_text(encoding="utf-8").replace(
        "            title: Echo says ok\n",
        "            title: Echo says ok\n"
        "            description: |\n"
        "              Run it from the **bastion**, not a laptop; expect `ok` back.\n\n"
        "              - if it says anything else, page the on-call\n"
        "              - a timeout means the bastion lost its route\n"), encoding="utf-8")
    path, _ = make_session(tmp_path, clock, checklist=checklist)
    assert snap_compare(open_app(path), terminal_size=size, run_before=_still)
