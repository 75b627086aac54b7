"""Provides the item detail: what the item is, the check as it will run, output, result, note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Label, Log, Static, TextArea

from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.terminal import printable
from predeploy_tui.core.vocab import ItemKind, Role
from predeploy_tui.tui.look import (
    duration_text,
    local_time,
    status_text,
    update_sized,
    update_static,
)
from predeploy_tui.tui.widgets.description import description as description_renderable

if TYPE_CHECKING:
    from predeploy_tui.tui.runs import OutputBuffer

OUTPUT_LINES = 1000
"""Lines the output widget keeps; the full (capped) output is in the session."""


def tail_lines(text: str, count: int = OUTPUT_LINES) -> str:
    """The last ``count`` lines of ``text``: the log would drop the rest after paying for them."""
    end = len(text) - 1 if text.endswith("\n") else len(text)
    cut = end
    for _ in range(count):
        cut = text.rfind("\n", 0, cut)
        if cut < 0:
            return text
    return text[cut + 1:]


def result_text(result: CheckResult, label: str = "") -> Text:
    """One result: status, summary, duration, who and when."""
    text = Text(f"{label}" if label else "")
    if result.cut_short:  # judged nothing: said in words, never shown as the item's error
        text.append(f"{Status.ERROR.glyph} {result.summary.partition(':')[0]}", style="bold")
        text.append(" (judged nothing)\n")
        text.append(f"  {duration_text(result.duration)} · {result.by or '?'} · "
                    f"{local_time(result.finished, with_date=True)}", style="dim")
        return text
    text.append_text(status_text(result.status))
    text.append(f"  {printable(result.summary)}\n")
    who = f"{result.by} ({result.role})" if result.role != Role.DEPLOYER else result.by
    text.append(f"  {duration_text(result.duration)} · {who or '?'} · "
                f"{local_time(result.finished, with_date=True)}", style="dim")
    if result.exit_code is not None:
        text.append(f" · exit {result.exit_code}", style="dim")
    for host in result.hosts:
        text.append(f"\n    {host.host or 'local'}: ")
        text.append_text(status_text(host.status))
        text.append(f" {printable(host.summary)}")
    return text


def _lines(text: str) -> list[str]:
    """The lines of output as the box shows them: control sequences are shown, not obeyed (a
    check printing ``\\e[2J`` must not clear the screen); empty lines are left out, as
    ``Log.write_lines`` leaves them."""
    return [line for line in printable(text).splitlines() if line]


class OutputLog(Log):
    """The output box: a Log whose lines are replaced or added in one batch, measured at once.

    ``Log.clear`` then ``write_lines`` changes the virtual size twice and measures the width on a
    new worker thread, which changes it once more: each change is a layout of the whole screen.
    The box shows another item's output at every key press and grows at every tick while checks
    print, so here the width of the new lines is measured in the call and the virtual size is set
    once, changing (and laying out) only when it differs.
    """

    def replace_lines(self, lines: list[str]) -> None:
        """Show exactly ``lines`` (the last ``max_lines`` of them), scrolled to the end."""
        if self.max_lines is not None:
            lines = lines[-self.max_lines:]
        self._lines = list(lines)
        self._width = self._measure(self._lines)
        self._render_line_cache.clear()
        self._updates += 1
        self._clear_y = 0
        self._sized()
        if self.auto_scroll:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def add_lines(self, lines: list[str]) -> None:
        """Add ``lines`` after the others (older ones beyond ``max_lines`` go), following the end
        when the box was at the end, as ``Log.write_lines`` does."""
        if not lines:
            return
        at_end = self.is_vertical_scroll_end
        self._lines.extend(lines)
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            self._prune_max_lines()
        self._width = max(self._width, self._measure(lines))
        self._sized()
        if self.auto_scroll and not self.is_vertical_scrollbar_grabbed and at_end:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _measure(self, lines: list[str]) -> int:
        process = self._process_line
        return max((cell_len(process(line)) for line in lines), default=0)

    def _sized(self) -> None:
        """Set the virtual size to the lines held, without a layout when the box's height is
        fixed: then only its scrollbars follow (one appearing or going lays out by itself)."""
        size = Size(self._width, len(self._lines))
        if self.virtual_size == size:
            return
        height = self.styles.height
        if not self.is_mounted or not self.container_size or height is None or height.is_auto:
            self.virtual_size = size  # the reactive's layout: the box's size follows its lines
            return
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        self.refresh()


def _show(widget: Widget, shown: bool) -> None:
    """Change ``display`` only when it differs: each change costs a layout pass."""
    if widget.display != shown:
        widget.display = shown


class ItemDetail(VerticalScroll):
    """The right-hand pane for one item."""

    @dataclass
    class NoteEdited(Message):
        """The person changed the note of an item."""

        detail: ItemDetail
        """The pane that announced it."""
        key: str
        """The item key."""
        text: str
        """The whole note."""

        @property
        def control(self) -> ItemDetail:
            """The pane, for ``@on`` selectors."""
            return self.detail

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.key: str | None = None
        """The item shown, None for a section or nothing."""
        self.review = False
        """The note editor holds the reviewer's note."""
        self.shown_chunks = 0
        """How many output chunks of the running item the log already holds."""
        self.shown_run: OutputBuffer | CheckResult | None = None
        """Whose output the log holds: the live run's buffer or the result in the headline."""

    def compose(self) -> ComposeResult:
        yield Static(id="item-title")
        yield Static(id="item-description")
        yield Static(id="item-meta")
        yield Static(id="item-check")
        with Horizontal(id="item-controls"):
            yield Button("Run", id="run", action="screen.run_item", compact=True)
            yield Button("Cancel", id="cancel", action="screen.cancel", compact=True)
            yield Button("Done", id="done", action="screen.manual('done')", compact=True)
            yield Button("Fail", id="fail", action="screen.manual('fail')", compact=True)
            yield Button("N/A", id="na", action="screen.manual('n/a')", compact=True)
            yield Button("Waive", id="waive", action="screen.waive", compact=True)
        yield Static(id="item-result")
        yield OutputLog(id="item-output", max_lines=OUTPUT_LINES, auto_scroll=True)
        yield Static(id="item-history")
        yield Label("Note", id="note-label")
        yield TextArea(id="item-note", soft_wrap=True, show_line_numbers=False)

    def show(self, session: Session, key: str | None, now: datetime, *, target: str,
             live: OutputBuffer | None, can_run: bool, can_edit: bool, running: bool,
             review: bool) -> None:
        """Show an item (or a section's summary when ``key`` is not an item).

        The output box holds the output of exactly one run: the one running now (``live``),
        else the one the result line names; another run's output is never appended to it.
        """
        changed_item = key != self.key
        self.key = key if key in session.items else None
        self.review = review
        title = self.query_one("#item-title", Static)
        if self.key is None:
            update_static(title, Text(key.split(":", 1)[-1] if key else "", style="bold"))
            for selector in ("#item-description", "#item-meta", "#item-check", "#item-result",
                             "#item-history"):
                update_static(self.query_one(selector, Static), "")
            if not self.has_class("-no-item"):
                self.add_class("-no-item")
            return
        if self.has_class("-no-item"):
            self.remove_class("-no-item")
        state = session.items[self.key]
        status = state.effective_status(now)
        head = Text(printable(state.title), style="bold")
        update_sized(title, head)
        description = self.query_one("#item-description", Static)
        if changed_item:  # rich's Markdown imported only for text that needs it (see there)
            update_static(description, description_renderable(printable(state.description))
                          if state.description else "")
        _show(description, bool(state.description))
        update_sized(self.query_one("#item-meta", Static), self._meta(session, state, status, now))
        check = self.query_one("#item-check", Static)
        update_sized(check, Text(printable(target), style="") if target else "")
        _show(check, bool(target))
        named = self._named_run(state)
        update_sized(self.query_one("#item-result", Static), self._result(state, status, named))
        update_sized(self.query_one("#item-history", Static), self._history(state, named))
        manual = state.kind == ItemKind.MANUAL
        _show(self.query_one("#run", Button), not manual and can_run and not running)
        _show(self.query_one("#cancel", Button), running)
        for button in ("#done", "#fail", "#na"):
            _show(self.query_one(button, Button), manual and can_edit)
        _show(self.query_one("#waive", Button),
              can_edit and not status.passed and status is not Status.WAIVED)
        source = live if running and live is not None else named
        log = self.query_one("#item-output", OutputLog)
        if changed_item or source is not self.shown_run:
            # One replacement of the box's lines, not a clear and a write: each is a layout.
            self.shown_run, self.shown_chunks = source, 0
            if isinstance(source, CheckResult):
                log.replace_lines(_lines(tail_lines(source.output)))
            elif source is not None:
                text, _ = source.since(0)
                self.shown_chunks = source.count
                log.replace_lines(_lines(tail_lines(text)))
            else:
                log.replace_lines([])
        if source is not None and not isinstance(source, CheckResult):
            self.follow(source)
        _show(log, source is not None)
        note = self.query_one("#item-note", TextArea)
        update_static(self.query_one("#note-label", Label), "Reviewer note" if review else "Note")
        wanted = state.review_note if review else state.note
        if changed_item and not wanted and not note.text:
            # Both empty (most items): reloading would rebuild and repaint the box and post a
            # Changed message at every key press; only the undo history belongs to the last item.
            note.history.clear()
        elif changed_item or (note.text != wanted and not note.has_focus):
            note.load_text(wanted)
        if note.read_only != (not (review or can_edit)):
            note.read_only = not (review or can_edit)

    def follow(self, buffer: OutputBuffer) -> None:
        """Add the live run's new output, when the box shows that run (batched by the caller)."""
        if buffer is not self.shown_run or buffer.count == self.shown_chunks:
            return
        text, _ = buffer.since(self.shown_chunks)
        self.shown_chunks = buffer.count
        if text:
            log = self.query_one("#item-output", OutputLog)
            log.add_lines(_lines(tail_lines(text)))
            _show(log, True)

    def shown_output(self) -> tuple[str, str]:
        """Which run the output box holds, in words, and its whole text (for the full view)."""
        run = self.shown_run
        if isinstance(run, CheckResult):
            return f"{self.key}: output of the run at {local_time(run.finished, True)}", run.output
        if run is not None:
            return f"{self.key}: output so far of the run in progress", run.since(0)[0]
        return f"{self.key}: no run yet", ""

    def _named_run(self, state: ItemState) -> CheckResult | None:
        """The run the result line names: in review, the reviewer's latest re-run if any."""
        if self.review and state.reviewer_runs:
            return state.reviewer_runs[-1]
        return state.result

    def _meta(self, session: Session, state: ItemState, status: Status, now: datetime) -> Text:
        text = status_text(status)
        text.append(f"  {state.kind}", style="reverse" if state.kind == ItemKind.ACTION else "bold")
        if state.critical:
            text.append("  critical", style="bold red")
        text.append(f"  {state.key}", style="dim")
        if status is Status.STALE:
            text.append("\n  passed more than the freshness window ago: run it again", style="yellow")
        if state.depends_on:
            text.append("\n  needs: ")
            for i, dep in enumerate(state.depends_on):
                other = session.items.get(dep)
                if i:
                    text.append(", ")
                if other is None:
                    text.append(dep)
                    continue
                text.append_text(status_text(other.effective_status(now), words=False))
                text.append(f" {other.title}")
        if state.waiver is not None and state.status is Status.WAIVED:
            w = state.waiver
            text.append(f"\n  waived: {w.reason} (approved by {w.approver}"
                        + (f", until {local_time(w.expires, with_date=True)}" if w.expires else "")
                        + ")", style="blue")
        return text

    def _result(self, state: ItemState, status: Status, named: CheckResult | None) -> Text:
        if status is Status.RUNNING:
            return Text(f"running since {local_time(state.at)} ({state.by})", style="cyan")
        if named is None:
            if state.by and state.at is not None and status.settled:
                return Text(f"{status.value} by {state.by} at {local_time(state.at, True)}")
            last = state.last_run
            if last is not None and last.cut_short:
                return Text(f"not judged yet: the last run was {last.summary.partition(':')[0]}",
                            style="dim")
            return Text("not run yet" if state.kind != ItemKind.MANUAL else "not ticked yet", style="dim")
        if named.role == Role.REVIEWER:
            text = result_text(named, label="your re-run: ")
            if state.result is not None:
                text.append("\n")
                text.append_text(result_text(state.result, label="deployer: "))
            return text
        return result_text(named)

    def _history(self, state: ItemState, named: CheckResult | None) -> Text:
        text = Text()
        earlier = [r for r in state.runs if r is not named and r is not state.result]
        if earlier:
            text.append("Runs\n", style="bold")
            for run in reversed(earlier[-8:]):
                text.append("  ")
                text.append_text(result_text(run, label="reviewer: " if run.role == Role.REVIEWER
                                             else ""))
                text.append("\n")
        if state.history:
            text.append("History\n", style="bold")
            for entry in reversed(state.history[-8:]):
                text.append(f"  {local_time(entry.at, True)} {entry.by}: ")
                text.append_text(status_text(entry.status))
                if entry.note:
                    text.append(f" - {entry.note}")
                text.append("\n")
        return text

    @on(TextArea.Changed, "#item-note")
    def _note_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self.key is not None and event.text_area.has_focus:
            self.post_message(self.NoteEdited(self, self.key, event.text_area.text))
