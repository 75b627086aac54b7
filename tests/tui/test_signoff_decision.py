"""Pilot tests: sign-offs (and a stale one), the decision with and without justification, review."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, RadioButton, Static, TextArea

from predeploy_tui.core import integrity, store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.tui.screens.decision import DecisionScreen
from predeploy_tui.tui.screens.signoff import SignoffScreen
from predeploy_tui.tui.state import Mode

from .conftest import AppFactory, Clock, saved, settle

pytestmark = pytest.mark.tui


async def test_sign_off_then_a_change_makes_it_stale(session_file: Path, open_app: AppFactory,
                                                     clock: Clock) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SignoffScreen)
        assert screen.query_one("#name-engineering", Input).value == "Dana"
        screen.query_one("#comment-engineering", Input).value = "looks fine"
        await pilot.click("#sign-engineering")
        await settle(pilot, app)
        on_disk = saved(session_file)
        signed = on_disk.signoff("engineering")
        assert signed is not None
        assert signed.comment == "looks fine"
        assert signed.at == clock()
        assert signed.content_sha256 == integrity.content_hash(on_disk)
        assert "signed by Dana" in str(screen.query_one("#state-engineering", Static).render())
        assert "not signed" in str(screen.query_one("#state-product", Static).render())
        assert "optional" in str(screen.query_one("#state-product", Static).render())
        await pilot.press("escape")
        app.screen.items_tree.select_key("release.notes")
        await pilot.press("t")  # a change after the sign-off
        await pilot.press("s")
        await pilot.pause()
        state = str(app.screen.query_one("#state-engineering", Static).render())
        assert "STALE" in state
        assert "item:release.notes" in state
        assert integrity.stale_signoffs(app.opened.session) == ["engineering"]


async def test_product_sign_off_required_only_for_major(tmp_path: Path, clock: Clock,
                                                        open_app: AppFactory) -> None:
    from .conftest import make_session

    path, _ = make_session(tmp_path, clock, major=True)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#state-product", Static).render())


def _decided_ready(path: Path, clock: Clock) -> None:
    """Everything passed or done, engineering signed: GO is suggested."""
    session = store.load(path)
    for state in session.items.values():
        if state.kind == "manual":
            session.set_manual(state.key, Status.DONE, "Dana", clock())
        else:
            session.record_result(state.key, CheckResult(Status.PASS, "ok", started=clock(),
                                                         finished=clock(), by="Dana"), clock())
    store.save(session, path)


async def test_decision_needs_a_justification_to_differ(session_file: Path, open_app: AppFactory,
                                                        clock: Clock) -> None:
    # One manual item ticked: something was observed, so a verdict (NO GO) is suggested.
    session = store.load(session_file)
    manual = next(s.key for s in session.items.values() if s.kind == "manual")
    session.set_manual(manual, Status.DONE, "Dana", clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DecisionScreen)
        assert screen.verdict.status == "NO GO"
        assert screen.query_one("#choice-no-go", RadioButton).value  # the suggestion preselected
        assert screen.query_one("#risk-high", RadioButton).value
        # Given GO chosen against a NO GO suggestion, without a justification...
        screen.query_one("#choice-go", RadioButton).value = True
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "needs a written justification" in str(
            screen.query_one("#decision-error", Static).render())
        assert saved(session_file).decision.status == ""
        # ...then with one, it is recorded with who, when and what was suggested.
        screen.query_one("#justification", Input).value = "pending items are not needed today"
        screen.query_one("#notes", TextArea).load_text("watch the replicas")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        decision = saved(session_file).decision
        assert decision.status == "GO"
        assert decision.suggested == "NO GO"
        assert decision.justification == "pending items are not needed today"
        assert decision.notes == "watch the replicas"
        assert decision.completed_by == "Dana"
        assert decision.completed_at == clock()
        assert decision.content_sha256


async def test_decision_as_suggested_needs_no_justification(session_file: Path,
                                                            open_app: AppFactory,
                                                            clock: Clock) -> None:
    _decided_ready(session_file, clock)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        await pilot.click("#sign-engineering")
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause()
        assert app.screen.verdict.status == "GO"
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        decision = saved(session_file).decision
        assert (decision.status, decision.suggested, decision.risk) == ("GO", "GO", "low")
        assert decision.justification == ""


async def test_a_reason_jumps_to_its_item(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        reasons = app.screen.query_one("#reasons")
        reasons.focus()
        index = [r.ref for r in app.screen.verdict.reasons].index("release.notes")
        reasons.highlighted = index  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.items_tree.current_key == "release.notes"


async def test_review_mode_reviewer_reruns_and_notes(session_file: Path, open_app: AppFactory,
                                                     clock: Clock) -> None:
    session = store.load(session_file)
    session.record_result("infra.ok", CheckResult(Status.PASS, "deployer's run", started=clock(),
                                                  finished=clock(), by="Dana"), clock())
    store.save(session, session_file)
    app = open_app(session_file, review=True)
    assert app.opened.mode is Mode.REVIEW
    assert app.opened.person == "Rui"
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("manual", ()) is False
        await pilot.press("r")
        await settle(pilot, app)
        await pilot.press("e", *"checked again")
        await pilot.press("escape", "d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DecisionScreen)
        assert screen.query_one("#choice").disabled
        screen.query_one("#review-notes", TextArea).load_text("evidence complete")
        await pilot.press("ctrl+s")
        await settle(pilot, app)
    state = saved(session_file).items["infra.ok"]
    assert state.result is not None
    assert state.result.summary == "deployer's run"  # the deployer's evidence stays
    assert [r.role for r in state.runs] == ["deployer", "reviewer"]
    assert state.runs[-1].by == "Rui"
    assert state.review_note == "checked again"
    assert state.note == ""
    decision = saved(session_file).decision
    assert (decision.reviewed_by, decision.reviewed_at) == ("Rui", clock())
    assert decision.review_notes == "evidence complete"


async def test_a_decided_session_opens_in_review(session_file: Path, open_app: AppFactory,
                                                 clock: Clock) -> None:
    from predeploy_tui.core.session import Decision

    session = store.load(session_file)
    session.decide(Decision(status="NO GO", suggested="NO GO", completed_by="Dana",
                            completed_at=clock()), clock())
    store.save(session, session_file)
    app = open_app(session_file)
    assert app.opened.mode is Mode.REVIEW
