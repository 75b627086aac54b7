"""Pilot tests: what changes by itself (a pass going stale) shows when it happens; one progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ProgressBar

from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status

from .conftest import AppFactory, Clock, RecordingApp

pytestmark = pytest.mark.tui


def tree_label(app: RecordingApp, key: str) -> str:
    return str(app.screen.items_tree._item_nodes[key].label)


async def test_a_pass_turns_stale_in_the_tree_and_header_when_its_window_ends(
        session_file: Path, clock: Clock, open_app: AppFactory) -> None:
    # Given a pass that stays fresh for a minute
    session = store.load(session_file)
    session.items["infra.ok"].fresh_for = 60
    session.record_result("infra.ok", CheckResult(Status.PASS, "exit 0", output="ok\n",
                                                  started=clock(), finished=clock(), by="Dana"),
                          clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert Status.PASS.glyph in tree_label(app, "infra.ok")
        # When two minutes pass with nobody touching anything
        clock.advance(120)
        app._tick()  # what the refresh timer does every tenth of a second
        await pilot.pause()
        # Then tree, header and detail say stale
        assert Status.STALE.glyph in tree_label(app, "infra.ok")
        assert f"{Status.STALE.glyph}1" in str(app.screen.query_one("#standing").render())
        assert "stale" in str(app.screen.query_one("#item-meta").render())


async def test_the_progress_bar_counts_settled_items_of_the_session_even_during_a_run(
        session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.slow")
        await pilot.press("r")
        await app.until(lambda: "infra.slow" in app.runs.running)
        app.screen.redraw()
        await pilot.pause()
        bar = app.screen.query_one("#progress", ProgressBar)
        assert bar.total == len(app.opened.session.items)
        assert bar.progress == 0
        assert "running 0/1" in str(app.screen.query_one("#standing").render())
        app.runs.cancel()
        await app.workers.wait_for_complete()


async def test_a_reviewer_rerun_that_disagrees_is_marked_in_the_tree(
        session_file: Path, clock: Clock, open_app: AppFactory) -> None:
    session = store.load(session_file)
    for key, by, role, status in (("infra.ok", "Dana", "deployer", Status.PASS),
                                  ("infra.ok", "Rui", "reviewer", Status.FAIL),
                                  ("infra.after", "Dana", "deployer", Status.PASS),
                                  ("infra.after", "Rui", "reviewer", Status.PASS)):
        session.record_result(key, CheckResult(status, "exit 0", started=clock(), finished=clock(),
                                               by=by, role=role), clock())  # type: ignore[arg-type]
    store.save(session, session_file)
    app = open_app(session_file, review=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "≠ reviewer ✘ fail" in tree_label(app, "infra.ok")
        assert "reviewer" not in tree_label(app, "infra.after")  # they agree: nothing to see


async def test_the_header_marks_stale_approvals_the_filter_and_who_is_acting(
        session_file: Path, clock: Clock, open_app: AppFactory) -> None:
    from predeploy_tui.core import integrity
    from predeploy_tui.core.session import Decision, SignOff

    # Given a sign-off and a decision, then a change to what they approved
    session = store.load(session_file)
    session.sign(integrity.seal_signoff(session, SignOff("engineering", "Engineering", "Ed",
                                                         clock())), clock())
    suggested = "NO GO"
    session.decide(integrity.seal_decision(session, Decision(status=suggested,
                                                             suggested=suggested)), clock())
    session.set_manual("release.notes", Status.DONE, "Dana", clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        standing = str(app.screen.query_one("#standing").render())
        assert "stale sign-off: engineering" in standing
        assert "decided NO GO ◷ stale" in standing
        # and the tree marks them too, beside the items, by glyph and words (not colour alone)
        approvals = {str(n.data): n.label.plain for n in  # type: ignore[attr-defined]
                     app.screen.items_tree.root.children[-1].children}
        assert approvals["signoff:engineering"] == \
            "◷ STALE: Engineering lead approval (Ed), changed since signed"
        assert approvals["decision"] == "◷ STALE: decision NO GO, changed since made"
        assert approvals["signoff:product"].startswith("○ not signed: ")
        headline = str(app.screen.query_one("#headline").render())
        assert "[review] as Rui" in headline  # decided: review mode, as the session's reviewer
        assert "review mode: the session is decided" in headline
        assert "no --as: Rui is the session's reviewer" in headline
        # When the filter changes, the status line says so (not only a toast)
        app.screen.items_tree.focus()
        await pilot.press("v")
        await pilot.pause()
        assert "view: failing" in str(app.screen.query_one("#standing").render())
        assert not app._notifications
