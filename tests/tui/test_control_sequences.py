"""A check's output and an item's title are shown with control sequences visible, not obeyed."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Log, Static

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import ItemState
from predeploy_tui.tui.runs import OutputBuffer
from predeploy_tui.tui.screens.dialogs import ConfirmAction
from predeploy_tui.tui.widgets.checklist_tree import item_label, section_label
from predeploy_tui.tui.widgets.item_detail import ItemDetail

REPAINT = "\x1b[1G\x1b[2K✔ pass"


class DetailOnly(App[None]):
    def compose(self) -> ComposeResult:
        yield ItemDetail()


async def test_detail_output_shows_escape_sequences_instead_of_running_them() -> None:
    app = DetailOnly()
    async with app.run_test():
        detail = app.query_one(ItemDetail)
        live = OutputBuffer()
        live.add(f"before\n{REPAINT}\nafter\n")
        detail.shown_run = live
        detail.follow(live)
        lines = list(app.query_one("#item-output", Log).lines)
    assert lines == ["before", "␛[1G␛[2K✔ pass", "after"]


def test_tree_labels_show_escape_sequences() -> None:
    state = ItemState(key="s.i", title=f"title {REPAINT}", kind="check", section="s")
    assert "\x1b" not in item_label(state, Status.PASS).plain
    assert "␛[2K" in item_label(state, Status.PASS).plain
    assert "\x1b" not in section_label("section \x1b]0;x\x07", [Status.PASS]).plain


class ConfirmOnly(App[None]):
    def on_mount(self) -> None:
        self.push_screen(ConfirmAction("Tag \x1b[2J release", "s.tag", None,
                                       "git tag v1 \x1b]0;owned\x07"))


async def test_the_action_dialog_shows_the_exact_command_with_controls_visible() -> None:
    app = ConfirmOnly()
    async with app.run_test() as pilot:
        await pilot.pause()
        command = app.screen.query_one("#confirm-command", Static)
        shown = str(command.render())
    assert shown == "git tag v1 ␛]0;owned␇"
