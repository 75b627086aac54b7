"""Provides the small dialogs: confirm an action, confirm quitting, waive an item, why it failed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from predeploy_tui.core.quantity import QuantityError, parse_duration
from predeploy_tui.core.terminal import printable


class ConfirmAction(ModalScreen[bool]):
    """Ask before a mutating action runs, showing the exact command and host."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Run it", id="confirm.yes", tooltip="Run this action now"),
        Binding("n,escape", "answer(False)", "Don't run", id="confirm.no",
                tooltip="Skip this action; it is recorded as skipped"),
    ]

    def __init__(self, title: str, key: str, host: str | None, command: str) -> None:
        super().__init__(classes="dialog")
        self.item_title = title
        self.key = key
        self.host = host
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Run this action?", classes="dialog-title")
            yield Static(Text(printable(f"{self.item_title}  ({self.key})")))
            yield Static(Text(f"on {self.host or 'this machine (local)'}", style="bold"))
            # The exact command, a control character in it shown rather than acted on.
            yield Static(Text(printable(self.command)), id="confirm-command", classes="command")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run it (y)", id="yes", variant="warning", action="screen.answer(True)")
                yield Button("Don't run (n)", id="no", variant="primary",
                             action="screen.answer(False)")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


class ConfirmChangedCode(ConfirmAction):
    """Ask a reviewer before re-running checks whose site code changed since the deployer ran it
    (the same yes / no as an action, "no" focused)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Re-run", id="changed-code.yes",
                tooltip="Re-run with the code as it is now"),
        Binding("n,escape", "answer(False)", "Don't run", id="changed-code.no",
                tooltip="Run nothing; the deployer's evidence stays as it is"),
    ]

    def __init__(self, lines: list[str]) -> None:
        super().__init__("", "", None, "\n".join(lines))
        self.lines = lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("The code behind these results changed since the deployer ran it",
                        classes="dialog-title")
            yield Static(Text(printable(self.command)), id="changed-code", classes="command")
            yield Static("A re-run now runs the new code, not what the deployer's evidence came from.")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Re-run (y)", id="yes", variant="warning", action="screen.answer(True)")
                yield Button("Don't run (n)", id="no", variant="primary",
                             action="screen.answer(False)")


class ConfirmQuit(ModalScreen[bool]):
    """Ask before quitting while checks run (they are cancelled and recorded as such)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit", id="quit.yes", tooltip="Cancel the running checks and quit"),
        Binding("n,escape", "answer(False)", "Stay", id="quit.no", tooltip="Keep the checks running"),
    ]

    def __init__(self, running: int) -> None:
        super().__init__(classes="dialog")
        self.running = running

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(f"{self.running} check(s) are still running.", classes="dialog-title")
            yield Static("Quitting cancels them; they are saved as cancelled.")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit (y)", id="yes", variant="error", action="screen.answer(True)")
                yield Button("Stay (n)", id="no", variant="primary", action="screen.answer(False)")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """An expiry as a duration from now (``24h``, ``7d``) or a local date/time; "" for none."""
    text = text.strip()
    if not text:
        return None
    try:
        return now + timedelta(seconds=parse_duration(text))
    except QuantityError:
        pass
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).astimezone(now.tzinfo)
        except ValueError:
            continue
    raise ValueError(f"expiry {text!r}: give a duration (24h, 7d) or a date (YYYY-MM-DD [HH:MM])")


WaiveApply = Callable[[str, str, str], str | None]
"""Records a waiver (reason, approver, expiry text) and returns why it was refused, or None."""


DISCARD_WARNING = "Esc again discards what you typed"
"""Said when Esc is pressed on a form holding something typed."""


class DiscardGuard:
    """Esc on a form that holds something typed warns once; the second Esc discards it."""

    def __init__(self) -> None:
        self.warned = False
        """Esc was pressed once on a filled form: the next one discards it."""

    def may_close(self, typed: bool) -> bool:
        """Whether Esc closes the form now (nothing typed, or the warning was given)."""
        if self.warned or not typed:
            return True
        self.warned = True
        return False


class WaiveDialog(ModalScreen[bool]):
    """Waive an item: reason, approver (not the deployer), optional expiry."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Cancel", id="waive.cancel",
                        tooltip="Close without waiving (asks first when something was typed)")]

    def __init__(self, title: str, apply: WaiveApply) -> None:
        super().__init__(classes="dialog")
        self.item_title = title
        self.apply = apply
        self.guard = DiscardGuard()

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def action_close(self) -> None:
        """Close; what was typed is discarded only on a second Esc."""
        if self.guard.may_close(any(i.value.strip() for i in self.query(Input))):
            self.dismiss(False)
            return
        self.query_one("#waive-error", Static).update(
            Text(f"{DISCARD_WARNING}; Enter in the last field waives"))

    @on(Input.Submitted, "#reason")
    @on(Input.Submitted, "#approver")
    def _next_field(self, event: Input.Submitted) -> None:
        # Enter moves on, so a reason typed fast never lands in the approver or submits half a form.
        event.stop()
        self.query_one("#approver" if event.input.id == "reason" else "#expires", Input).focus()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(printable(f"Waive: {self.item_title}")), classes="dialog-title")
            yield Input(placeholder="Why this is acceptable for this release", id="reason")
            yield Input(placeholder="Approver (someone other than the deployer)", id="approver")
            yield Input(placeholder="Expires (optional: 24h, 7d or YYYY-MM-DD)", id="expires")
            yield Static(id="waive-error", classes="error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Waive", id="ok", variant="warning")
                yield Button("Cancel", id="cancel", action="screen.dismiss(False)")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#expires")
    def _submit(self) -> None:
        error = self.apply(self.query_one("#reason", Input).value,
                           self.query_one("#approver", Input).value,
                           self.query_one("#expires", Input).value)
        if error:
            self.query_one("#waive-error", Static).update(Text(error))
        else:
            self.dismiss(True)


class FailNote(ModalScreen[str | None]):
    """Ask why a manual item failed before it is marked failed (the note goes in its history)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel",
                                                     id="fail.cancel", tooltip="Do not mark it failed")]

    def __init__(self, title: str) -> None:
        super().__init__(classes="dialog")
        self.item_title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(Text(printable(f"Failed: {self.item_title}")), classes="dialog-title")
            yield Input(placeholder="What is wrong (required)", id="fail-note")
            yield Static(id="fail-error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#fail-note", Input).focus()

    @on(Input.Submitted, "#fail-note")
    def _submit(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            self.query_one("#fail-error", Static).update(Text("say what is wrong, or Esc"))
            return
        self.dismiss(event.value.strip())
