"""Provides the main screen: header, checklist tree, item detail, and the keys that work on items."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual import getters, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Input, TextArea

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import SessionRuleError
from predeploy_tui.core.verdict import Verdict
from predeploy_tui.core.vocab import ItemKind, Mode
from predeploy_tui.tui.state import Clock, OpenSession
from predeploy_tui.tui.widgets.checklist_tree import FILTERS, ChecklistTree
from predeploy_tui.tui.widgets.footer import KeysFooter
from predeploy_tui.tui.widgets.header import SessionHeader
from predeploy_tui.tui.widgets.item_detail import ItemDetail

# The dialogs and the output screen are imported when first opened: start-up imports only what
# this screen shows.
if TYPE_CHECKING:
    from predeploy_tui.engine.recorder import SessionSaver
    from predeploy_tui.tui.runs import RunControl

_FAILED = (Status.FAIL, Status.ERROR, Status.BLOCKED, Status.STALE)


class Desk(Protocol):
    """What the main screen works with: the open session, its runs and saves, and a few verbs.

    The app provides it; the screen never imports the app.
    """

    @property
    def opened(self) -> OpenSession:
        """The open session."""

    @property
    def runs(self) -> RunControl:
        """The runs in progress and their output."""

    @property
    def stale_approvals(self) -> tuple[list[str], bool]:
        """Roles whose sign-off is stale, and whether the decision is."""

    @property
    def saver(self) -> SessionSaver:
        """When the session was last saved, and why a save failed."""

    @property
    def clock(self) -> Clock:
        """Where the time is read."""

    @property
    def section_titles(self) -> dict[str, str]:
        """Section titles by id."""

    def verdict(self, now: datetime) -> Verdict:
        """The suggestion at ``now``."""

    def target(self, key: str) -> str:
        """The item's check as it will run."""

    def target_if_ready(self, key: str) -> str | None:
        """The item's check if it costs nothing now."""

    def changed(self) -> None:
        """The session changed: save soon, redraw."""

    def edit_note(self, key: str, text: str) -> None:
        """Save the item's note as it is typed."""

    def start_run(self, keys: Sequence[str], label: str) -> None:
        """Run ``keys`` now."""

    def show_plan(self, keys: Sequence[str] | None, title: str) -> None:
        """Show what would run, then run what is chosen."""


class MainScreen(Screen[None]):
    """The checklist tree beside the selected item's detail."""

    items_tree = getters.query_one("#tree", ChecklistTree)
    detail = getters.query_one("#detail", ItemDetail)
    header = getters.query_one("#header", SessionHeader)
    note_box = getters.query_one("#item-note", TextArea)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_item", "Run", id="run.item", tooltip="Run the selected item's check"),
        Binding("R", "run_section", "Run section", id="run.section", show=False,
                tooltip="Run every check of the selected item's section"),
        Binding("a", "run_all", "All", id="run.all",
                tooltip="Show the plan of every check, then run it"),
        Binding("c", "cancel", "Cancel", id="run.cancel", tooltip="Cancel the selected item's run"),
        Binding("C", "cancel_all", "Cancel all", id="run.cancel_all", show=False,
                tooltip="Cancel every running check"),
        Binding("n", "next('pending')", "Next pending", id="go.pending", show=False,
                tooltip="Move to the next item not yet settled"),
        Binding("f", "next('failed')", "Next failed", id="go.failed", show=False,
                tooltip="Move to the next failed, errored, blocked or stale item"),
        Binding("v", "filter", "Filter", id="view.filter",
                tooltip="Show all / failing / pending / manual items"),
        Binding("slash", "search", "Search", id="view.search", tooltip="Find items by title"),
        Binding("o", "output", "Output", id="item.output",
                tooltip="The shown run's output full screen: scroll, search, wrap"),
        Binding("e", "note", "Note", id="item.note", show=False, tooltip="Edit the selected item's note"),
        Binding("t", "manual('done')", "Done", id="manual.done",
                tooltip="Mark the manual item done"),
        Binding("x", "manual('fail')", "Fail", id="manual.fail", show=False,
                tooltip="Mark the manual item failed"),
        Binding("minus", "manual('n/a')", "N/A", id="manual.na", show=False,
                tooltip="Mark the manual item not applicable"),
        Binding("w", "waive", "Waive", id="item.waive", show=False,
                tooltip="Accept an item that did not pass, with a reason and an approver"),
        Binding("escape", "leave", "Back", id="view.back", show=False,
                tooltip="Leave the search or the note"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.next_change: datetime | None = None
        """When a status next changes by itself (a pass goes stale): the app redraws then."""
        self._built = False
        """The tree is built (keys apply to its cursor's item from then on, before mounting ends)."""

    def compose(self) -> ComposeResult:
        opened = self.desk.opened
        yield SessionHeader(id="header")
        with Horizontal(id="body"):
            with Vertical(id="tree-pane"):
                yield ChecklistTree(opened.session, self.desk.section_titles, id="tree",
                                    selected=self._selected)
            yield ItemDetail(id="detail")
        yield KeysFooter(compact=True)

    async def on_mount(self) -> None:
        self._applies: tuple[object, ...] = ()
        self.items_tree.build(self.desk.clock())
        self._built = True
        # Now, not on the next turn as ``focus()`` does: the footer draws the tree's keys once.
        self.set_focus(self.items_tree, scroll_visible=False)
        self._first_item()
        await self.query_one(KeysFooter).draw_now()

    def _first_item(self) -> None:
        """Select the first item and draw everything before the first paint: drawing after it
        laid out and painted the whole screen a second time."""
        keys = self.items_tree.visible_keys
        if keys:
            self.items_tree.select_key(keys[0], scroll=False)
        self.redraw(full=True)

    # -- drawing -------------------------------------------------------------------------------

    def redraw(self, full: bool = False) -> None:
        """Bring header, tree labels and detail up to date with the session."""
        desk = self.desk
        now = desk.clock()
        opened = desk.opened
        done, total = desk.runs.progress
        verdict = desk.verdict(now)
        cut = opened.still_interrupted  # the notice goes once they ran again
        notice = "; ".join(filter(None, [f"{len(cut)} check(s) were interrupted" if cut else "",
                                         opened.notice]))
        self.header.show(opened.session, now, verdict, path=opened.path,
                         saved=desk.saver.last_saved, mode=opened.mode, notice=notice,
                         run_done=done, run_total=total, save_error=desk.saver.error,
                         stale=desk.stale_approvals, view=self.items_tree.view,
                         person=opened.person)
        self.items_tree.stale = desk.stale_approvals
        self.items_tree.refresh_labels(now)
        self.next_change = opened.session.next_change(now)
        self.show_detail(full)
        self._bindings_for_item()

    def show_detail(self, full: bool = False) -> None:
        """Redraw the detail of the item under the cursor, following a running check's output."""
        desk = self.desk
        key = self.items_tree.current_key
        running = key in desk.runs.running
        target = ""
        if key is not None and key in desk.opened.session.items:
            ready = desk.target_if_ready(key)
            if ready is None:
                self.call_after_refresh(self._target_later, key)
            else:
                target = ready
        self.detail.show(desk.opened.session, key, desk.clock(), target=target,
                         live=desk.runs.output.get(key) if key is not None else None,
                         can_run=desk.opened.can_run, can_edit=desk.opened.can_edit, running=running,
                         review=desk.opened.mode == Mode.REVIEW)

    def _target_later(self, key: str) -> None:
        """Show the check line once the first screen is up (the engine is made here)."""
        if self.items_tree.current_key == key:
            self.desk.target(key)
            self.show_detail()

    def flush_output(self) -> None:
        """Append output that arrived for the shown item (called on the UI's short timer)."""
        key = self.detail.key
        buffer = self.desk.runs.output.get(key) if key else None
        if buffer is None:
            return
        if buffer is not self.detail.shown_run and key in self.desk.runs.running:
            self.show_detail()  # a new run began: the box switches to it before the next redraw
        else:
            self.detail.follow(buffer)

    def jump_to(self, key: str) -> None:
        """Select an item, showing every item first when the filter or search hides it."""
        if not self.items_tree.select_key(key):
            self.items_tree.view, self.items_tree.search = "all", ""
            self.items_tree.build(self.desk.clock())
            self.call_after_refresh(self.items_tree.select_key, key)
        self.items_tree.focus()

    def _selected(self, key: str) -> None:
        """The cursor moved onto ``key``: the detail follows in the same frame."""
        self.show_detail()
        self._bindings_for_item()

    def _bindings_for_item(self) -> None:
        """Refresh the footer only when what applies changed: a refresh recomposes it."""
        desk = self.desk
        key = self.items_tree.current_key
        state = desk.opened.session.items.get(key or "")
        # Not whether this item runs: while a big run ends, the cursor crosses running and
        # finished items at every key, and each recompose of the footer lays out the screen.
        applies = (state.kind if state else None, bool(desk.runs.running))
        if applies != self._applies:
            self._applies = applies
            self.refresh_bindings()

    # -- which keys apply ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that do not apply to the selected item or the mode."""
        desk = self.desk
        key = self.items_tree.current_key if self._built else None
        state = desk.opened.session.items.get(key or "")
        if action in ("run_item", "run_section", "run_all"):
            if not desk.opened.can_run:
                return False
            return None if action == "run_item" and (state is None or state.kind == ItemKind.MANUAL) \
                else True
        if action == "cancel":
            return bool(desk.runs.running)
        if action == "cancel_all":
            return bool(desk.runs.running)
        if action == "manual":
            return desk.opened.can_edit and state is not None and state.kind == ItemKind.MANUAL
        if action == "waive":
            return (desk.opened.can_edit and state is not None) or None
        if action == "note":
            return state is not None and desk.opened.mode != Mode.READ_ONLY
        return True

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Show a toast once: a key held down must not queue the same toast for seconds."""
        if any(shown.message == message for shown in self.app._notifications):
            return
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    # -- actions -------------------------------------------------------------------------------

    def action_run_item(self) -> None:
        """Run the selected item's check."""
        key = self.items_tree.current_key
        if key and key in self.desk.opened.session.items:
            self.desk.start_run([key], key)

    def action_run_section(self) -> None:
        """Run every check in the selected item's section (actions only when chosen in the plan)."""
        key = self.items_tree.current_key or ""
        items = self.desk.opened.session.items
        section = key.removeprefix("section:") if key.startswith("section:") \
            else key.split(":")[1] if key.startswith("group:") \
            else items[key].section if key in items else ""
        keys = [s.key for s in items.values() if s.section == section and s.kind != ItemKind.MANUAL]
        self.desk.show_plan(keys, f"Run section {self.desk.section_titles.get(section, section)}")

    def action_run_all(self) -> None:
        """Show the plan, then run what was chosen."""
        self.desk.show_plan(None, "Run all")

    def action_cancel(self) -> None:
        """Cancel the selected item's run."""
        key = self.items_tree.current_key
        if key and self.desk.runs.cancel([key]):
            self.notify(f"Cancelling {key}")
        elif key and not any(key in r.keys and key not in r.finished
                             for r in self.desk.runs.runs.values()):
            self.notify(f"{key} is not running", timeout=2)

    def action_cancel_all(self) -> None:
        """Cancel every run."""
        count = self.desk.runs.cancel()
        self.notify(f"Cancelling {count} check(s)")

    def action_next(self, which: str) -> None:
        """Move to the next pending or failed item."""
        statuses = (Status.PENDING, Status.RUNNING) if which == "pending" else _FAILED
        key = self.items_tree.next_matching(statuses, self.desk.clock())
        if key is None:
            self.notify(f"No {which} items" + ("" if self.items_tree.view == "all" else
                                               f" in the {self.items_tree.view} view"))
        else:
            self.items_tree.select_key(key)

    def action_output(self) -> None:
        """Open the output of the run in the result line full screen."""
        if self.detail.key is not None:
            from predeploy_tui.tui.screens.output import OutputScreen

            self.app.push_screen(OutputScreen(*self.detail.shown_output()))

    def action_filter(self) -> None:
        """Cycle the tree filter."""
        self.items_tree.view = FILTERS[(FILTERS.index(self.items_tree.view) + 1) % len(FILTERS)]
        self.items_tree.build(self.desk.clock())
        view = self.items_tree.view
        self.items_tree.border_title = None if view == "all" else f"showing: {view}"
        self.redraw()  # the header's status line names the filter: no toast queue on repeats

    @property
    def search_box(self) -> Input | None:
        """The title search, once it was first opened (None before: the first screen has one
        widget fewer to mount and style, and Input's styles to parse)."""
        found = self.query("#search").results(Input)
        return next(found, None)

    async def action_search(self) -> None:
        """Open the title search, mounting it above the tree the first time."""
        box = self.search_box
        if box is None:
            box = Input(placeholder="Search titles", id="search")
            await self.query_one("#tree-pane").mount(box, before=self.items_tree)
        box.display = True
        box.focus()

    @on(Input.Changed, "#search")
    def _search(self, event: Input.Changed) -> None:
        self.items_tree.search = event.value.strip()
        self.items_tree.build(self.desk.clock())

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        keys = self.items_tree.visible_keys
        if keys:
            self.items_tree.select_key(keys[0])
        self.items_tree.focus()

    def action_leave(self) -> None:
        """Close the search (clearing it) or leave the note editor."""
        box = self.search_box
        if box is not None and (box.has_focus or box.display):
            box.value = ""
            box.display = False
        self.items_tree.focus()

    def action_note(self) -> None:
        """Focus the note editor of the selected item."""
        self.note_box.focus()

    @on(ItemDetail.NoteEdited)
    def _note(self, event: ItemDetail.NoteEdited) -> None:
        self.desk.edit_note(event.key, event.text)

    def action_manual(self, status: str) -> None:
        """Tick the manual item done, failed or not applicable."""
        key = self.items_tree.current_key
        if key is None or key not in self.desk.opened.session.items:
            return
        if status == Status.FAIL:
            from predeploy_tui.tui.screens.dialogs import FailNote

            def failed(note: str | None) -> None:
                if note:
                    self._tick(key, status, note)

            self.app.push_screen(FailNote(self.desk.opened.session.items[key].title), failed)
            return
        self._tick(key, status)

    def _tick(self, key: str, status: str, note: str = "") -> None:
        try:
            self.desk.opened.session.set_manual(key, Status(status), self.desk.opened.person,
                                               self.desk.clock(), note)
        except SessionRuleError as exc:
            self.notify(str(exc), severity="error")
            return
        self.desk.changed()

    def action_waive(self) -> None:
        """Ask for the waiver's reason, approver and expiry."""
        key = self.items_tree.current_key
        session = self.desk.opened.session
        if key is None or key not in session.items:
            return
        from predeploy_tui.tui.screens.dialogs import WaiveDialog, parse_expiry

        def apply(reason: str, approver: str, expires: str) -> str | None:
            now = self.desk.clock()
            try:
                session.waive(key, reason, approver, self.desk.opened.person, now,
                              parse_expiry(expires, now))
            except (SessionRuleError, ValueError) as exc:
                return str(exc)
            self.desk.changed()
            return None

        self.app.push_screen(WaiveDialog(session.items[key].title, apply))
