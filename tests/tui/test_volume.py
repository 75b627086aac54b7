"""Tests what keeps the app answering under heavy output: bounded buffers, batched log writes,
redraws that skip what did not change, and saves only on real changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Log, Static

from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.session import new_session
from predeploy_tui.engine.recorder import BUSY_GAP, SessionSaver
from predeploy_tui.tui.runs import OutputBuffer
from predeploy_tui.tui.widgets.item_detail import OUTPUT_LINES, tail_lines

from .conftest import SMALL, AppFactory, Clock, saved, settle

pytestmark = pytest.mark.tui

CHATTY = """\
id: chatty
title: Chatty
variables:
  token: {prompt: API token, secret: true}
sections:
  - id: load
    title: Load
    groups:
      - title: Noise
        items:
          - id: noisy
            title: Prints a lot
            check: {type: shell, run: 'seq 1 30000', expect: {contains: '30000'}}
          - id: quiet
            title: Prints little
            check: {type: shell, run: 'echo hi'}
"""


def test_output_buffer_is_bounded_in_characters() -> None:
    buffer = OutputBuffer(limit=1000)
    for n in range(500):
        buffer.add(f"{n:09d}\n")
    assert buffer.size <= 1000
    assert buffer.count == 500
    text, dropped = buffer.since(0)
    assert dropped
    assert text.endswith("000000499\n")
    assert buffer.since(498) == ("000000498\n000000499\n", False)
    assert buffer.since(500) == ("", False)
    big = OutputBuffer(limit=10)
    big.add("x" * 100)  # the newest chunk always stays, whatever its size
    assert big.since(0) == ("x" * 100, False)


def test_tail_lines_keeps_the_last_lines() -> None:
    text = "".join(f"{n}\n" for n in range(5000))
    tail = tail_lines(text)
    assert tail.splitlines() == [str(n) for n in range(5000 - OUTPUT_LINES, 5000)]
    assert tail_lines("a\nb", 1) == "b"
    assert tail_lines("short\n") == "short\n"


def test_saves_are_spaced_while_checks_run(tmp_path: Path, clock: Clock) -> None:
    session = new_session(load_checklist(SMALL), {"token": "t"}, {"deployer": "Dana"}, clock())
    saver = SessionSaver(session, tmp_path / "s.toml", clock=clock)
    assert not saver.due(busy=False, now=100.0)  # nothing changed
    saver.changed()
    assert saver.due(busy=True, now=100.0)
    saver.flush()
    saver.changed()
    started = saver.last_started
    assert saver.due(busy=False, now=started + 0.01)  # idle: at once
    assert not saver.due(busy=True, now=started + BUSY_GAP / 2)  # busy: spaced out...
    assert saver.due(busy=True, now=started + BUSY_GAP)  # ...but never longer than the gap


async def test_heavy_output_reaches_the_log_in_batches_and_never_the_saver(
        tmp_path: Path, clock: Clock, open_app: AppFactory) -> None:
    from .conftest import make_session

    checklist = tmp_path / "chatty.yaml"
    checklist.write_text(CHATTY)
    path, _ = make_session(tmp_path, clock, checklist=checklist)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("load.noisy")
        await pilot.pause()
        meta = app.screen.query_one("#item-meta", Static)
        await pilot.press("r")
        await settle(pilot, app)
        log = app.screen.query_one("#item-output", Log)
        # The widget holds the tail; the session holds the output.
        assert log.line_count <= OUTPUT_LINES + 1
        assert "30000" in log.lines[-1] or "30000" in log.lines[-2]
        # Output chunks never marked the session changed: started + finished, at most.
        assert app.saver.renders <= 2
        # A redraw with nothing new leaves the widgets alone.
        before = meta.visual
        app.screen.redraw()
        assert meta.visual is before
    state = saved(path).items["load.noisy"]
    assert state.result is not None
    assert state.result.output.splitlines()[-1] == "30000"


async def test_update_static_skips_equal_content() -> None:
    from textual.app import App, ComposeResult

    from predeploy_tui.tui.look import update_static

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(id="one")

    async with One().run_test() as pilot:
        widget = pilot.app.query_one("#one", Static)
        update_static(widget, Text("same", style="bold"))
        first = widget.visual
        update_static(widget, Text("same", style="bold"))
        assert widget.visual is first
        update_static(widget, Text("other"))
        assert widget.visual is not first


async def test_a_burst_of_results_relabels_the_tree_in_one_repaint(
        session_file: Path, clock: Clock, open_app: AppFactory) -> None:
    from predeploy_tui.core.results import CheckResult, Status

    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.items_tree
        keys = [k for k, s in app.opened.session.items.items() if s.kind != "manual"]
        for key in keys:  # every check's result lands at once, as when a big run ends
            app.opened.session.record_result(key, CheckResult(Status.PASS, "ok", started=clock(),
                                                              finished=clock()), clock())
        queued = tree._message_queue.qsize()
        tree.refresh_labels(clock())
        # No message per node (set_label queues one each): the keys stay first in line.
        assert tree._message_queue.qsize() <= queued + 1
        for key in keys:
            node = tree._item_nodes.get(key)
            if node is not None:
                assert str(node.label).startswith(Status.PASS.glyph)
        await pilot.pause()
        # ...and the screen shows them: the batch's one refresh repainted the lines.
        title = app.opened.session.items[keys[0]].title
        shown = [s.text for s in tree.render_lines(tree.region.reset_offset)]
        line = next(s for s in shown if title in s)
        assert Status.PASS.glyph in line
        # ...and each section's new counts (its own line renders anew, not the lines below).
        for label in tree._section_drawn.values():
            assert any(label.plain in s for s in shown)


async def test_full_collections_wait_while_checks_run(session_file: Path,
                                                      open_app: AppFactory) -> None:
    import gc

    from predeploy_tui.tui.pauses import RUNNING_THRESHOLD

    before = gc.get_threshold()
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert gc.get_freeze_count() > 0  # startup's objects are out of every scan
        app.screen.items_tree.select_key("infra.slow")
        await pilot.press("r")
        await app.until(lambda: "infra.slow" in app.started())
        assert gc.get_threshold()[2] == RUNNING_THRESHOLD
        app.runs.cancel()
        await settle(pilot, app)
        assert gc.get_threshold() == before  # the last run's end restores the default


async def test_output_box_holds_what_a_log_would_and_grows_without_a_layout() -> None:
    from textual.app import App, ComposeResult

    from predeploy_tui.tui.widgets.item_detail import OutputLog

    class Boxes(App[None]):
        CSS = "Log { height: 4; width: 30; }"

        def compose(self) -> ComposeResult:
            yield Log(id="log", max_lines=6)
            yield OutputLog(id="out", max_lines=6)

    lines = [f"line {n} " + "x" * (n % 7) for n in range(20)]
    async with Boxes().run_test(size=(60, 12)) as pilot:
        log, out = pilot.app.query_one("#log", Log), pilot.app.query_one("#out", OutputLog)
        log.write_lines(lines[:5])
        out.replace_lines(lines[:5])
        await pilot.pause()
        assert out.lines == log.lines
        log.write_lines(lines[5:9])
        out.add_lines(lines[5:9])
        await pilot.pause()
        await pilot.pause()  # the Log measures its width on a worker thread
        assert out.lines == log.lines == lines[3:9]
        assert out.virtual_size == log.virtual_size
        assert out.scroll_y == out.max_scroll_y > 0  # it follows the end
        # Growing inside a box of fixed height moves its scrollbar only: no layout of the screen.
        out.replace_lines(lines[:5])
        await pilot.pause()
        out.add_lines(lines[5:6])
        assert not pilot.app.screen._layout_required
        await pilot.pause()
        assert out.lines == lines[:6]
        assert out.scroll_y == out.max_scroll_y
        log.clear()
        out.replace_lines([])
        await pilot.pause()
        assert out.lines == log.lines == []
        assert out.virtual_size == log.virtual_size


async def test_a_static_laid_out_only_when_its_height_changes_still_gets_its_lines() -> None:
    from textual.app import App, ComposeResult

    from predeploy_tui.tui.look import update_sized

    class One(App[None]):
        CSS = "Static { width: 20; }"

        def compose(self) -> ComposeResult:
            yield Static("short", id="one")
            yield Static("below", id="two")

    async with One().run_test(size=(40, 10)) as pilot:
        one = pilot.app.query_one("#one", Static)
        two = pilot.app.query_one("#two", Static)
        await pilot.pause()
        update_sized(one, Text("other"))  # the same one line: no layout
        assert not pilot.app.screen._layout_required
        update_sized(one, Text("a title long enough to wrap over three lines"))
        await pilot.pause()
        assert one.size.height == 3
        assert two.region.y == one.region.bottom  # what follows moved down
        update_sized(one, Text("short again"))
        await pilot.pause()
        assert one.size.height == 1
        assert two.region.y == one.region.bottom


async def test_the_detail_follows_the_cursor_in_the_same_frame(session_file: Path,
                                                               open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        tree = app.screen.items_tree
        keys = tree.visible_keys
        tree.select_key(keys[0])
        await pilot.pause()
        tree.action_cursor_down()
        # No message hop (the screen would paint the tree first and the pane a frame or two
        # later): the pane already shows the item under the cursor.
        assert tree.current_key == app.screen.detail.key == keys[1]


def test_a_render_that_fails_keeps_the_change_pending(tmp_path: Path, clock: Clock,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from predeploy_tui.core import store

    session = new_session(load_checklist(SMALL), {"token": "t"}, {"deployer": "Dana"}, clock())
    saver = SessionSaver(session, tmp_path / "s.toml", clock=clock)
    saver.changed()

    def broken(_: object) -> str:
        raise RuntimeError("dictionary changed size during iteration")

    with monkeypatch.context() as patch:
        patch.setattr(store, "dumps", broken)
        with pytest.raises(RuntimeError):
            saver.render()
    assert saver.dirty  # not lost: the next tick saves it
    assert saver.flush()
    assert not saver.dirty


async def test_the_app_snapshots_the_session_on_the_loop_and_renders_it_on_a_thread(
        session_file: Path, open_app: AppFactory) -> None:
    import threading

    from predeploy_tui.core import store

    app = open_app(session_file)
    taken: list[bool] = []
    rendered: list[bool] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        take, render = app.saver.take, app.saver.render_copy

        def on_which_thread_take() -> object:
            taken.append(threading.current_thread() is threading.main_thread())
            return take()

        def on_which_thread_render(copied: object) -> str:
            rendered.append(threading.current_thread() is threading.main_thread())
            return render(copied)  # type: ignore[arg-type]

        app.saver.take = on_which_thread_take  # type: ignore[method-assign,assignment]
        app.saver.render_copy = on_which_thread_render  # type: ignore[method-assign,assignment]
        app.edit_note(next(iter(app.opened.session.items)), "a note")
        await app.until(lambda: rendered and app.everything_saved())
        # One moment of the session, taken where it changes; rendered and written elsewhere.
        assert taken
        assert all(taken)
        assert rendered == [False]
        assert session_file.read_text() == store.dumps(app.opened.session)


def test_a_snapshot_renders_as_the_session_did_when_taken(tmp_path: Path, clock: Clock) -> None:
    from predeploy_tui.core import store
    from predeploy_tui.core.results import CheckResult, Status
    from predeploy_tui.engine.recorder import snapshot

    session = new_session(load_checklist(SMALL), {"token": "t"}, {"deployer": "Dana"}, clock())
    keys = list(session.items)
    session.mark_running(keys[0], "Dana", clock())
    session.note_output(keys[0], "half way\n", clock())
    session.record_review("Rita", "looked", clock())
    before = store.dumps(session)
    copied = snapshot(session)
    assert store.dumps(copied) == before  # byte for byte
    # The session goes on changing; the snapshot does not.
    session.note_output(keys[0], "more\n", clock())
    session.record_result(keys[0], CheckResult(Status.PASS, "ok", output="done",
                                               started=clock(), finished=clock()), clock())
    session.record_review("Rita", "again", clock())
    session.set_header("version", "9.9", clock())
    assert store.dumps(copied) == before
    assert store.dumps(session) != before
