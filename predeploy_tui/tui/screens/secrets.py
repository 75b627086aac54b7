"""Provides the secrets dialog: values of secret variables, which a session file never holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from predeploy_tui.core.checklist import Variable


class SecretsDialog(ModalScreen[dict[str, str] | None]):
    """Ask for the secret variables a reopened session needs. Dismisses with the values given."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Skip", id="secrets.skip",
                tooltip="Go on without them: checks that use them end as errors"),
    ]

    def __init__(self, variables: Sequence[Variable]) -> None:
        super().__init__(classes="dialog")
        self.variables = list(variables)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label("Secret values for this session's checks", classes="dialog-title")
            yield Static("The session file never holds them; give them again to run checks "
                         "(or set PREDEPLOY_VAR_<name> in the environment).")
            for var in self.variables:
                yield Label(Text(f"{var.prompt} ({var.name})"))
                yield Input(password=True, id=f"secret-{var.name}", placeholder=var.description)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use these", id="ok", variant="primary")
                yield Button("Skip (esc)", id="skip", action="screen.dismiss(None)")

    def on_mount(self) -> None:
        if self.variables:
            self.query_one(f"#secret-{self.variables[0].name}", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self._done()

    @on(Button.Pressed, "#ok")
    def _done(self) -> None:
        values = {var.name: self.query_one(f"#secret-{var.name}", Input).value
                  for var in self.variables}
        self.dismiss({k: v for k, v in values.items() if v})
