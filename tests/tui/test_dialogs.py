"""Pilot tests: dialogs take fast typing field by field, ask before discarding, ask why it failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.core.results import Status
from predeploy_tui.tui.screens.dialogs import FailNote, WaiveDialog
from predeploy_tui.tui.screens.main import MainScreen

from .conftest import AppFactory, Clock, demo_form_app, saved, settle

pytestmark = pytest.mark.tui


async def test_waive_typed_fast_lands_reason_then_approver(session_file: Path,
                                                           open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.broken")
        await pilot.pause()
        await pilot.press("w", *"flaky", "enter", *"Olga", "enter", "enter")
        await settle(pilot, app)
        state = saved(session_file).items["infra.broken"]
        assert state.status is Status.WAIVED
        assert state.waiver is not None
        assert (state.waiver.reason, state.waiver.approver) == ("flaky", "Olga")


async def test_esc_on_a_filled_waiver_asks_before_discarding(session_file: Path,
                                                             open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.broken")
        await pilot.pause()
        await pilot.press("w", *"a long reason", "escape")
        await pilot.pause()
        assert isinstance(app.screen, WaiveDialog)
        assert "Esc again discards" in str(app.screen.query_one("#waive-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_fail_asks_for_a_note(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("release.notes")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, FailNote)
        await pilot.press("enter")  # nothing said: refused
        assert isinstance(app.screen, FailNote)
        await pilot.press(*"notes q missing", "enter")
        await settle(pilot, app)
        state = saved(session_file).items["release.notes"]
        assert state.status is Status.FAIL
        assert state.history[-1].note == "notes q missing"


async def test_the_review_sign_off_screen_says_why_it_is_read_only(session_file: Path,
                                                                   open_app: AppFactory) -> None:
    from predeploy_tui.tui.screens.signoff import SignoffScreen

    app = open_app(session_file, review=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SignoffScreen)
        assert "Review mode: sign-offs are the deployer's record" in str(
            app.screen.query_one("#signoff-why").render())


async def test_a_repeated_key_shows_its_toast_once(session_file: Path,
                                                   open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f", "f", "f", "f", "f")  # nothing failed: "No failed items" each time
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages.count("No failed items") == 1, messages


@pytest.mark.parametrize(("key", "screen_name", "field"), [
    ("d", "DecisionScreen", "#notes"), ("s", "SignoffScreen", "#comment-engineering")])
async def test_esc_on_a_filled_decision_or_sign_off_form_asks_before_discarding(
        session_file: Path, open_app: AppFactory, key: str, screen_name: str, field: str) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        # An empty form closes on one Esc
        await pilot.press(key)
        await pilot.pause()
        assert type(app.screen).__name__ == screen_name
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        # A form holding typed text warns on the first Esc and closes on the second
        await pilot.press(key)
        await pilot.pause()
        app.screen.query_one(field).focus()
        await pilot.press(*"rollback plan checked")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == screen_name
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_esc_on_a_filled_new_session_form_asks_before_leaving(tmp_path: Path,
                                                                    clock: Clock) -> None:
    from predeploy_tui.tui.screens.new_session import NewSessionScreen

    app = demo_form_app(clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NewSessionScreen)
        form.query_one("#reviewer").focus()
        await pilot.press(*"Rui")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is form  # warned, still there with what was typed
        assert app.is_running
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code in (0, None)
    assert not (tmp_path / "sessions").exists() or not any((tmp_path / "sessions").iterdir())
