"""Provides the sign-off screen: each role of the checklist, signed with a name, time and comment."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from predeploy_tui.core import integrity
from predeploy_tui.core.checklist import SignoffRole
from predeploy_tui.core.session import Session
from predeploy_tui.tui.look import local_time
from predeploy_tui.tui.screens.dialogs import DISCARD_WARNING, DiscardGuard

Sign = Callable[[str, str, str], str | None]
"""Records a sign-off (role, name, comment) and returns why it was refused, or None."""


def role_status(session: Session, role: SignoffRole, stale: list[str]) -> Text:
    """Who signed a role and when, or that it is missing; stale sign-offs say so."""
    required = role.is_required(session.flags)
    signed = session.signoff(role.role)
    text = Text(role.title, style="bold")
    text.append("  required" if required else "  optional", style="red" if required else "dim")
    if signed is None:
        text.append("\n  not signed", style="yellow" if required else "dim")
        return text
    text.append(f"\n  signed by {signed.name} at {local_time(signed.at, with_date=True)}",
                style="green")
    if signed.comment:
        text.append(f": {signed.comment}")
    if role.role in stale:
        changed = integrity.changed_parts(signed.covered, session) if signed.covered else []
        text.append("\n  STALE: the session changed after this sign-off", style="bold yellow")
        if changed:
            text.append(" (" + ", ".join(changed[:4]) + ("..." if len(changed) > 4 else "") + ")",
                        style="yellow")
    return text


class SignoffScreen(Screen[None]):
    """Every sign-off role, with its state and a way to sign."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back", id="signoff.back",
                        tooltip="Back to the checklist (asks first when something was typed)")]

    def __init__(self, session: Session, person: str, sign: Sign, can_sign: bool,
                 why_not: str = "") -> None:
        super().__init__()
        self.why_not = why_not
        """Why signing is not possible here, shown at the top when it is not."""
        self.session = session
        self.person = person
        self.sign = sign
        self.can_sign = can_sign
        self.guard = DiscardGuard()

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="signoffs"):
            yield Static(Text("Sign-offs", style="bold"), classes="form-title")
            if not self.can_sign and self.why_not:
                yield Static(Text(self.why_not, style="bold"), id="signoff-why")
            for role in self.session.signoff_roles:
                rid = role.role
                with Vertical(classes="signoff", id=f"role-{rid}"):
                    yield Static(id=f"state-{rid}")
                    with Horizontal(classes="form-row"):
                        yield Label("Name", classes="form-label")
                        yield Input(self.person, id=f"name-{rid}", disabled=not self.can_sign)
                    with Horizontal(classes="form-row"):
                        yield Label("Comment", classes="form-label")
                        yield Input(id=f"comment-{rid}", placeholder="optional",
                                    disabled=not self.can_sign)
                    yield Button(f"Sign: {role.title}", id=f"sign-{rid}", variant="success",
                                 disabled=not self.can_sign, compact=True)
                    yield Static(id=f"error-{rid}", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.show()
        names = self.query(".signoff Input")
        if names and self.can_sign:
            names.first().focus()

    def show(self) -> None:
        """Redraw every role's state."""
        stale = integrity.stale_signoffs(self.session)
        for role in self.session.signoff_roles:
            self.query_one(f"#state-{role.role}", Static).update(
                role_status(self.session, role, stale))

    @on(Button.Pressed, ".signoff Button")
    def _sign(self, event: Button.Pressed) -> None:
        rid = (event.button.id or "").removeprefix("sign-")
        error = self.sign(rid, self.query_one(f"#name-{rid}", Input).value,
                          self.query_one(f"#comment-{rid}", Input).value)
        self.query_one(f"#error-{rid}", Static).update(Text(error or ""))
        self.show()

    async def action_dismiss(self, result: None = None) -> None:
        """Back to the checklist."""
        self.dismiss(result)

    def action_back(self) -> None:
        """Back to the checklist; a comment or name typed and not signed goes only on a second Esc."""
        typed = self.can_sign and any(self._unsigned(role.role)
                                      for role in self.session.signoff_roles)
        if self.guard.may_close(typed):
            self.dismiss(None)
            return
        self.notify(DISCARD_WARNING, severity="warning")

    def _unsigned(self, rid: str) -> bool:
        """Whether the role's name or comment holds text that no sign-off recorded."""
        signed = self.session.signoff(rid)
        name = self.query_one(f"#name-{rid}", Input).value
        comment = self.query_one(f"#comment-{rid}", Input).value
        if signed is not None:
            return comment.strip() != signed.comment.strip() or name.strip() != signed.name
        return bool(comment.strip()) or name != self.person
