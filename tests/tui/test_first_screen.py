"""Pilot tests: the first screen paints before the engine is made; the check line follows."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

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
