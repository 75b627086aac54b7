"""Pilot tests: the first screen paints before the engine is made; the check line follows; the
first layout already holds the first item and the footer's keys."""

from __future__ import annotations

import argparse
import gc
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey

from predeploy_tui.tui import pauses
from predeploy_tui.tui.screens.main import MainScreen
from predeploy_tui.tui.widgets.item_detail import ItemDetail

from .conftest import AppFactory


async def test_first_item_shows_its_command_after_the_first_paint(
        session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    shown: list[tuple[str | None, str, bool]] = []
    original = ItemDetail.show

    def spy(self: ItemDetail, *args: object, **kw: object) -> None:
        shown.append((args[1] if len(args) > 1 else None,  # type: ignore[arg-type]
                      str(kw["target"]), app.runs.engine_made))
        original(self, *args, **kw)  # type: ignore[arg-type]

    ItemDetail.show = spy  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            await pilot.pause()
            text = str(app.screen.query_one("#item-check", Static).render())
    finally:
        ItemDetail.show = original  # type: ignore[method-assign]
    first = next(s for s in shown if s[0] is not None)
    # The first detail of an item is drawn without the engine (its import waits)...
    assert first[1] == ""
    assert not first[2]
    # ...and the command line arrives right after, once the first screen is up.
    assert "echo ok" in text
    assert any(s[0] == first[0] and "echo ok" in s[1] for s in shown)


async def test_the_first_layout_holds_the_first_item_and_the_footer_draws_its_keys_once(
        session_file: Path, open_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first item and the footer's keys were drawn after the first paint, laying out and
    # painting the whole screen again; the footer recomposed five times while opening.
    app = open_app(session_file)
    at_first_layout: list[str | None] = []
    recomposes: list[int] = []
    layout = MainScreen._refresh_layout
    recompose = Footer.recompose

    def first_layout(screen: MainScreen, *args: Any, **kw: Any) -> None:
        if not at_first_layout:
            at_first_layout.append(screen.detail.key)
        layout(screen, *args, **kw)

    async def counted(footer: Footer) -> None:
        recomposes.append(1)
        await recompose(footer)

    monkeypatch.setattr(MainScreen, "_refresh_layout", first_layout)
    monkeypatch.setattr(Footer, "recompose", counted)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        keys = _keys(screen)
        assert at_first_layout == ["infra.ok"] == [screen.items_tree.current_key]
        assert screen.items_tree.scroll_offset.y == 0
        assert len(recomposes) == 1
        assert keys["Run"]
        assert "Done" not in keys
        # The keys still follow the item: a manual item has its own, and Run greyed out.
        screen.items_tree.select_key("release.notes")
        await pilot.pause()
        await pilot.pause()
        keys = _keys(screen)
        assert keys["Done"]
        assert not keys["Run"]
        # Moving between items of one kind draws the same keys: no recompose.
        before = len(recomposes)
        screen.items_tree.select_key("release.comms")
        await pilot.pause()
        await pilot.pause()
        assert len(recomposes) == before


def _keys(screen: MainScreen) -> dict[str, bool]:
    """The footer's keys by description: enabled or greyed out."""
    return {k.description: not k.has_class("-disabled") for k in screen.query(FooterKey)}


def test_the_app_module_leaves_the_later_screens_unimported() -> None:
    # Only the first screen is imported with the app; the others (the new-session form too, which
    # `predeploy open` never shows) when first opened.
    code = ("import sys, predeploy_tui.tui.app; "
            "print(' '.join(m for m in sys.modules if m.startswith('predeploy_tui.tui.screens.')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[2])
    loaded = set(proc.stdout.split())
    later = {"compare", "decision", "keys", "new_session", "output", "plan", "secrets", "signoff"}
    assert not {f"predeploy_tui.tui.screens.{name}" for name in later} & loaded
    assert "predeploy_tui.tui.screens.main" in loaded


async def test_the_collector_waits_for_the_first_screen_then_collects_again(
        session_file: Path, open_app: AppFactory) -> None:
    # Starting makes objects by the hundred thousand, all kept: collections scanned them for
    # nothing. The app's first refresh turns the collector back on.
    app = open_app(session_file)
    assert gc.isenabled()
    pauses.hold_startup_collections()
    try:
        assert not gc.isenabled()
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
    finally:
        pauses.release_startup_collections()
    assert gc.isenabled()


def test_open_collects_again_when_it_fails_before_the_app_starts(tmp_path: Path) -> None:
    from predeploy_tui.commands import UsageError
    from predeploy_tui.commands import open as open_command

    args = argparse.Namespace(session=str(tmp_path / "missing.toml"), review=False,
                              read_only=False, var=[], vars=None, person="")
    with pytest.raises(UsageError):
        open_command.main(args)
    assert gc.isenabled()


def test_a_collector_stopped_by_someone_else_stays_stopped() -> None:
    gc.disable()
    try:
        pauses.hold_startup_collections()
        pauses.release_startup_collections()
        assert not gc.isenabled()
    finally:
        gc.enable()
