"""Pilot tests: the new-session form, manual items, waivers, notes, filter and search, reopening."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea

from predeploy_tui import paths
from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.tui.app import NewSessionRequest
from predeploy_tui.tui.launch import open_session, session_maker
from predeploy_tui.tui.screens.dialogs import WaiveDialog
from predeploy_tui.tui.screens.main import MainScreen
from predeploy_tui.tui.screens.new_session import NewSessionScreen
from predeploy_tui.tui.state import Mode

from .conftest import AppFactory, Clock, RecordingApp, demo_form_app, saved, settle

pytestmark = pytest.mark.tui


async def test_new_demo_session_from_the_form(tmp_path: Path, clock: Clock) -> None:
    app = demo_form_app(clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        form = app.screen
        assert isinstance(form, NewSessionScreen)
        assert form.query_one("#date", Input).value == "2025-06-02"
        assert form.query_one("#deployer", Input).value == "Dana"
        # Given a version that does not match the pattern and no reviewer...
        form.query_one("#var-version", Input).value = "one"
        await pilot.press("ctrl+s")
        await pilot.pause()
        # ...the form stays, saying why under the field.
        assert app.screen is form
        assert "must match" in str(form.query_one("#err-var-version", Static).render())
        form.query_one("#var-version", Input).value = "1.4.0"
        form.query_one("#reviewer", Input).value = "Rui"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        path = app.opened.path
        assert path == tmp_path / "sessions" / "demo-1.4.0-staging.toml"
        on_disk = saved(path)
        assert on_disk.header == {"date": "2025-06-02", "version": "1.4.0", "deployer": "Dana",
                                  "reviewer": "Rui"}
        assert on_disk.variables["demo_url"] == "http://127.0.0.1:9/h"
        assert app.opened.lock is not None
        await pilot.press("q")


async def test_secret_variables_are_masked_and_never_saved(tmp_path: Path, clock: Clock) -> None:
    small = Path(__file__).parent / "data" / "small.yaml"
    checklist = load_checklist(small)
    request = NewSessionRequest(checklist, session_maker(checklist, small, session_path=None,
                                                         clock=clock), deployer="Dana")
    app = RecordingApp(new=request, clock=clock)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        token = app.screen.query_one("#var-token", Input)
        assert token.password
        token.value = "hunter2-secret"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.opened.variables["token"] == "hunter2-secret"  # the runner gets it
        text = app.opened.path.read_text()  # type: ignore[union-attr]
        assert "hunter2" not in text
        assert saved(app.opened.path).variables["token"] == "***"  # type: ignore[arg-type]


async def test_manual_done_and_waive(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("release.notes")
        await pilot.pause()
        await pilot.press("t")
        await settle(pilot, app)
        notes = saved(session_file).items["release.notes"]
        assert notes.status is Status.DONE
        assert notes.history[-1].by == "Dana"
        app.screen.items_tree.select_key("infra.broken")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, WaiveDialog)
        dialog.query_one("#reason", Input).value = "one replica is enough for staging"
        dialog.query_one("#approver", Input).value = "dana"  # the deployer: refused
        dialog.query_one("#expires", Input).value = "7d"
        await pilot.click("#ok")
        await pilot.pause()
        assert app.screen is dialog
        assert "someone other than the deployer" in str(
            dialog.query_one("#waive-error", Static).render())
        dialog.query_one("#approver", Input).value = "Priya"
        dialog.query_one("#expires", Input).focus()
        await pilot.press("enter")  # Enter in the last field waives
        await pilot.pause()
        assert app.screen is not dialog, dialog.query_one("#waive-error", Static).render()
        await settle(pilot, app)
        state = saved(session_file).items["infra.broken"]
        assert state.status is Status.WAIVED
        assert state.waiver is not None
        assert state.waiver.approver == "Priya"
        assert state.waiver.expires is not None
        assert (state.waiver.expires - app.clock()).days == 7


async def test_note_is_saved_as_typed(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        assert isinstance(app.focused, TextArea)
        await pilot.press(*"db ok")
        # The autosave writes it: awaited as saves happen, not for a fixed time.
        await app.until(lambda: saved(session_file).items["infra.ok"].note == "db ok")
        await pilot.press("escape")
        assert app.focused is app.screen.items_tree


async def test_filter_and_search(session_file: Path, open_app: AppFactory, clock: Clock) -> None:
    session = store.load(session_file)
    session.record_result("infra.broken", CheckResult(Status.FAIL, "replicas ready 1 < 3",
                                                      started=clock(), finished=clock()), clock())
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.items_tree
        assert len(tree.visible_keys) == 8
        await pilot.press("v")  # failing
        assert tree.visible_keys == ["infra.broken"]
        await pilot.press("v")  # pending
        assert "infra.broken" not in tree.visible_keys
        assert "infra.ok" in tree.visible_keys
        await pilot.press("v")  # manual
        assert tree.visible_keys == ["release.notes", "release.comms", "release.comms.users"]
        await pilot.press("v")  # all again
        await pilot.press("slash")
        await pilot.press(*"users")
        assert tree.visible_keys == ["release.comms", "release.comms.users"]  # parent kept
        await pilot.press("enter")
        assert tree.current_key == "release.comms"
        await pilot.press("escape")
        assert len(tree.visible_keys) == 8


async def test_the_search_box_is_mounted_when_first_opened_and_reused(
        session_file: Path, open_app: AppFactory) -> None:
    # The first screen has no search box to mount and style (nor Input's styles to parse): it
    # comes with the first "/", and later ones reuse it.
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert not screen.query("#search")
        await pilot.press("escape")  # closing a search never opened is harmless
        await pilot.press("slash", *"notes")
        assert screen.items_tree.visible_keys == ["release.notes"]
        assert screen.search_box is not None
        assert screen.search_box.has_focus
        await pilot.press("escape")
        assert not screen.search_box.display
        await pilot.press("slash")
        assert len(screen.query("#search")) == 1
        assert screen.search_box.display
        assert screen.search_box.value == ""


async def test_quit_and_reopen_keeps_everything(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        app.screen.items_tree.select_key("release.notes")
        await pilot.pause()
        await pilot.press("t", "e", *"read it")
        await pilot.press("escape", "q")  # no wait: quitting writes what is pending
        await pilot.pause()
    assert app.return_code == 0
    again = open_app(session_file)
    async with again.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        session = again.opened.session
        assert session.items["infra.ok"].status is Status.PASS
        assert session.items["release.notes"].status is Status.DONE
        assert session.items["release.notes"].note == "read it"
        assert again.opened.mode is Mode.EDIT


async def test_reopen_after_a_crash_marks_running_checks_interrupted(
        session_file: Path, open_app: AppFactory, clock: Clock) -> None:
    session = store.load(session_file)
    session.mark_running("infra.ok", "Dana", clock())
    store.save(session, session_file)
    app = open_app(session_file)
    state = saved(session_file).items["infra.ok"]
    assert state.status is Status.PENDING  # it judged nothing: not an error, never a pass
    assert state.result is None
    assert state.runs[-1].summary.startswith("interrupted")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        headline = app.screen.query_one("#headline")
        assert "1 check(s) were interrupted" in str(headline.render())
        # Once it ran again, the notice goes
        await pilot.press("r")
        await settle(pilot, app)
        assert "interrupted" not in str(headline.render())


async def test_quitting_with_checks_running_asks(session_file: Path, open_app: AppFactory) -> None:
    from predeploy_tui.tui.screens.dialogs import ConfirmQuit

    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("infra.slow")
        await pilot.press("r")
        await app.until(lambda: "infra.slow" in app.runs.running)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        await pilot.pause()
        assert "infra.slow" in app.runs.running
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await app.until(lambda: app.return_code is not None)  # saved, unlocked, exiting
    state = saved(session_file).items["infra.slow"]
    assert state.status is Status.PENDING  # recorded as cancelled, and judged nothing
    assert state.last_run is not None
    assert state.last_run.summary == "cancelled"


async def test_a_redraw_due_while_the_app_shuts_down_is_dropped(session_file: Path,
                                                                 open_app: AppFactory) -> None:
    # Given a redraw pending when the app exits, and a refresh tick that fires after shutdown
    # began taking the screens' widgets away (the tick's timer stops only later)
    app = open_app(session_file)
    close_all = app._close_all
    ticked: list[bool] = []

    async def widgets_gone_then_tick() -> None:
        main = app.screen_stack[1]
        assert isinstance(main, MainScreen)
        await main.header.remove_children()
        app._view_dirty = True
        app._tick()
        ticked.append(True)
        await close_all()

    app._close_all = widgets_gone_then_tick  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("q")
    # Then the tick left the half-dismantled screen alone, and the app closed cleanly
    assert ticked == [True]
    assert app.return_code == 0


async def test_a_locked_session_opens_read_only(session_file: Path, clock: Clock) -> None:
    with store.locked(session_file):
        opened = open_session(session_file, clock=clock)
    assert opened.mode is Mode.READ_ONLY
    assert "read-only" in opened.notice
    assert "being edited by" in opened.notice
    before = session_file.read_bytes()
    app = RecordingApp(opened, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.check_action("run_item", ()) is False
        assert app.screen.check_action("manual", ()) is False
        app.screen.items_tree.select_key("release.notes")
        await pilot.press("t", "r")
        await pilot.pause()
        assert not app.runs.runs  # no run was started...
        await app.workers.wait_for_complete()
        assert app.opened.session.items["release.notes"].status is Status.PENDING
    assert session_file.read_bytes() == before


async def test_keymap_remaps_a_binding(session_file: Path, open_app: AppFactory) -> None:
    from predeploy_tui.tui.keymap import load_keymap

    config = paths.keymap_file()
    config.parent.mkdir(parents=True)
    config.write_text('[keys]\n"run.item" = "ctrl+t"\n')
    app = open_app(session_file)
    app.keymap = load_keymap()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("r")  # no longer bound
        await pilot.pause()
        assert not app.runs.runs  # not even queued
        await pilot.press("ctrl+t")
        await settle(pilot, app)
        assert saved(session_file).items["infra.ok"].status is Status.PASS


async def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from predeploy_tui.tui.app import PredeployApp
    from predeploy_tui.tui.screens import decision, dialogs, new_session, plan, signoff

    classes = [PredeployApp, MainScreen, dialogs.ConfirmAction, dialogs.ConfirmQuit,
               dialogs.WaiveDialog, plan.PlanScreen, signoff.SignoffScreen,
               decision.DecisionScreen, new_session.NewSessionScreen]
    for cls in classes:
        for binding in cls.BINDINGS:
            assert binding.id, f"{cls.__name__} {binding.key}"  # type: ignore[union-attr]
            assert binding.tooltip, f"{cls.__name__} {binding.key}"  # type: ignore[union-attr]


async def test_moving_between_items_without_notes_leaves_the_note_box_alone(
        session_file: Path, open_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The note box is reloaded only when the note differs: reloading an empty box with nothing
    repaints it at every key press. The last item's undo history never follows the cursor."""
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        note = app.screen.query_one("#item-note", TextArea)
        await pilot.press("e")
        await pilot.press(*"x", "backspace", "escape")
        assert note.text == ""
        loaded: list[str] = []
        monkeypatch.setattr(note, "load_text", loaded.append)
        await pilot.press("down")
        await pilot.pause()
        assert loaded == []
        assert note.text == ""
        assert not note.history._undo_stack
