"""The detail pane shows an item's instructions (its description) as markdown, from the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from predeploy_tui.tui.screens.main import MainScreen

from .conftest import SMALL, AppFactory, Clock, make_session

pytestmark = pytest.mark.tui


async def test_the_detail_pane_shows_the_description_even_without_the_checklist(
        tmp_path: Path, clock: Clock, open_app: AppFactory) -> None:
    checklist = tmp_path / "small.yaml"
    checklist.write_text(SMALL.read_text(encoding="utf-8").replace(
        "            title: Echo says ok\n",
        "            title: Echo says ok\n"
        "            description: 'Run it from the **bastion**; expect `ok` back.'\n"),
        encoding="utf-8")
    path, _ = make_session(tmp_path, clock, checklist=checklist)
    checklist.unlink()  # the session file alone holds what the reviewer reads
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        assert screen.items_tree.current_key == "infra.ok"
        pane = screen.query_one("#item-description", Static)
        assert pane.display
        shown = "".join(strip.text for strip in pane.render_lines(pane.region.reset_offset))
        assert "Run it from the bastion; expect ok back." in " ".join(shown.split())
        await pilot.press("down")
        await pilot.pause()
        assert screen.items_tree.current_key == "infra.broken"
        assert not pane.display


async def test_the_tree_names_sections_by_their_titles_even_without_the_checklist(
        tmp_path: Path, clock: Clock, open_app: AppFactory) -> None:
    checklist = tmp_path / "small.yaml"
    checklist.write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    path, session = make_session(tmp_path, clock, checklist=checklist)
    checklist.unlink()
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MainScreen)
        labels = [str(node.label) for node in screen.items_tree.root.children]
        titles = list(session.section_titles.values())
        assert titles
        assert all(any(t in label for label in labels) for t in titles), labels
