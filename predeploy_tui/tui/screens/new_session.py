"""Provides the new-session form: header (date, version, deployer, reviewer, major) and variables."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static, Switch

from predeploy_tui.core.checklist import Checklist, Variable
from predeploy_tui.tui.screens.dialogs import DISCARD_WARNING, DiscardGuard
from predeploy_tui.tui.state import NewSessionAnswers as NewSessionAnswers
from predeploy_tui.tui.state import NewSessionRequest as NewSessionRequest


def check_answers(checklist: Checklist, answers: NewSessionAnswers) -> dict[str, str]:
    """Every problem with the answers, by field name (``var:<name>`` for variables)."""
    problems: dict[str, str] = {}
    try:
        date.fromisoformat(answers.header.get("date", ""))
    except ValueError:
        problems["date"] = "Date must be YYYY-MM-DD"
    if not answers.header.get("deployer", "").strip():
        problems["deployer"] = "Deployer is required"
    if checklist.variable("version") is None and not answers.header.get("version", "").strip():
        problems["version"] = "Deployment version is required"
    for var in checklist.variables:
        problem = var.problem(answers.variables.get(var.name, ""))
        if problem:
            problems[f"var:{var.name}"] = problem
    return problems


class NewSessionScreen(Screen[NewSessionAnswers]):
    """The form a new session starts with; dismisses with valid answers only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "Start session", id="new.start",
                tooltip="Check the answers and start the session"),
        Binding("escape", "leave", "Quit", id="new.quit",
                tooltip="Leave without a session (asks first when something was typed)"),
    ]

    def __init__(self, checklist: Checklist, today: date, deployer: str, reviewer: str = "",
                 variables: dict[str, str] | None = None, major: bool = False) -> None:
        super().__init__()
        self.checklist = checklist
        self.today = today
        self.deployer = deployer
        self.reviewer = reviewer
        self.given = dict(variables or {})
        self.major = major
        self.guard = DiscardGuard()
        self._filled: dict[str, str] = {}
        """Each field as the form opened with it: what the person typed is what differs."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(Text(f"New session: {self.checklist.title}", style="bold"), classes="form-title")
            yield from self._field("date", "Date", Input(self.today.isoformat(), id="date"))
            if self.checklist.variable("version") is None:
                yield from self._field("version", "Deployment version", Input(id="version"))
            yield from self._field("deployer", "Deployer", Input(self.deployer, id="deployer"))
            yield from self._field("reviewer", "Reviewer", Input(self.reviewer, id="reviewer"))
            with Horizontal(classes="form-row"):
                yield Label("Major release (product owner must sign)", classes="form-label")
                yield Switch(self.major, id="major")
            for var in self.checklist.variables:
                yield from self._field(f"var:{var.name}", var.prompt + (" *" if var.required else ""),
                                       self._input(var), var.description)
            yield Button("Start session (ctrl+s)", id="start", variant="success",
                         action="screen.start")
        yield Footer()

    def on_mount(self) -> None:
        self._filled = {i.id or "": i.value for i in self.query(Input)}

    async def action_leave(self) -> None:
        """Leave without a session; answers typed are discarded only on a second Esc."""
        typed = any(i.value != self._filled.get(i.id or "", "") for i in self.query(Input))
        if self.guard.may_close(typed):
            await self.app.run_action("quit")
            return
        self.notify(f"{DISCARD_WARNING} and leaves without a session", severity="warning")

    def _input(self, var: Variable) -> Input | Select[str]:
        value = self.given.get(var.name, var.default or "")
        if var.choices:
            return Select([(c, c) for c in var.choices], value=value if value in var.choices
                          else Select.NULL, id=f"var-{var.name}", allow_blank=not var.required)
        return Input(value, id=f"var-{var.name}", password=var.secret,
                     placeholder=var.pattern or "")

    def _field(self, name: str, label: str, widget: Input | Select[str], help_text: str = "") \
            -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget
        if help_text:
            yield Static(Text(help_text, style="dim"), classes="form-help")
        yield Static(id=f"err-{name.replace(':', '-')}", classes="error")

    def answers(self) -> NewSessionAnswers:
        """The form as it stands."""
        header = {"date": self.query_one("#date", Input).value.strip(),
                  "deployer": self.query_one("#deployer", Input).value.strip(),
                  "reviewer": self.query_one("#reviewer", Input).value.strip(), "version": ""}
        if self.checklist.variable("version") is None:
            header["version"] = self.query_one("#version", Input).value.strip()
        variables: dict[str, str] = {}
        for var in self.checklist.variables:
            widget = self.query_one(f"#var-{var.name}")
            if isinstance(widget, Select):
                variables[var.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                variables[var.name] = widget.value if var.secret else widget.value.strip()
        if "version" in variables:
            header["version"] = variables["version"]
        answers = NewSessionAnswers(header, variables, self.query_one("#major", Switch).value)
        answers.problems = check_answers(self.checklist, answers)
        return answers

    @on(Input.Submitted)
    def action_start(self) -> None:
        """Validate; show each problem under its field, or start the session."""
        answers = self.answers()
        for error in self.query(".error").results(Static):
            error.update("")
        for name, problem in answers.problems.items():
            self.query_one(f"#err-{name.replace(':', '-')}", Static).update(Text(problem))
        if answers.problems:
            self.notify(f"{len(answers.problems)} answer(s) need fixing", severity="error")
            return
        self.dismiss(answers)
