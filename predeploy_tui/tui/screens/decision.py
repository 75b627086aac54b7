"""Provides the decision screen: the suggested verdict and its reasons, the choice, risk, review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    OptionList,
    RadioSet,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from predeploy_tui.core.session import Decision
from predeploy_tui.core.verdict import Verdict
from predeploy_tui.core.vocab import VerdictStatus
from predeploy_tui.tui.look import VERDICT_STYLE, local_time
from predeploy_tui.tui.screens.dialogs import DISCARD_WARNING, DiscardGuard
from predeploy_tui.tui.widgets.marks import MarkedRadioButton

CHOICES = tuple(VerdictStatus)
"""The decision options."""
RISKS = ("low", "medium", "high")
"""The risk levels."""


def _id(choice: str) -> str:
    return choice.lower().replace(" ", "-")


@dataclass
class DecisionForm:
    """What the person chose."""

    status: str
    """GO, CONDITIONAL GO or NO GO."""
    risk: str
    """low, medium or high."""
    notes: str
    """Notes and issues."""
    justification: str
    """Why the choice differs from the suggestion."""
    completed_by: str
    """Who completed the checklist."""


Decide = Callable[[DecisionForm], str | None]
"""Records the decision and returns why it was refused, or None."""
Review = Callable[[str], str | None]
"""Records the review (notes) and returns why it was refused, or None."""


class DecisionScreen(Screen[str | None]):
    """Suggested verdict with reasons (each jumps to its item) and the decision form.

    Dismisses with the reference of a reason to jump to (an item key or ``signoff:<role>``).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="decision.back",
                tooltip="Back to the checklist (asks first when something was typed)"),
        Binding("ctrl+s", "record", "Record", id="decision.record",
                tooltip="Record the decision (or the review)"),
    ]

    def __init__(self, verdict: Verdict, decision: Decision, person: str, *, can_decide: bool,
                 review: bool, decide: Decide, record_review: Review) -> None:
        super().__init__()
        self.verdict = verdict
        self.decision = decision
        self.person = person
        self.can_decide = can_decide
        self.review = review
        self.decide = decide
        self.record_review = record_review
        self.guard = DiscardGuard()

    def compose(self) -> ComposeResult:
        v, d = self.verdict, self.decision
        chosen = d.status or v.status
        risk = d.risk or v.risk
        with VerticalScroll(id="decision"):
            head = Text("Suggested: ", style="bold")
            head.append(v.label, style=VERDICT_STYLE.get(v.status, "dim"))
            head.append(f" (risk: {v.risk})")
            yield Static(head, id="suggested")
            if v.reasons:
                yield OptionList(*(Option(Text(f"{'✘' if r.verdict == 'NO GO' else '▲'} {r.text}"),
                                          id=r.ref) for r in v.reasons), id="reasons")
            else:
                yield Static("Everything required passed.", id="reasons-none")
            with Horizontal(classes="form-row"):
                yield Label("Decision", classes="form-label")
                with RadioSet(id="choice", disabled=not self.can_decide):
                    for c in CHOICES:
                        yield MarkedRadioButton(c, value=c == chosen, id=f"choice-{_id(c)}")
            with Horizontal(classes="form-row"):
                yield Label("Risk", classes="form-label")
                with RadioSet(id="risk", disabled=not self.can_decide):
                    for r in RISKS:
                        yield MarkedRadioButton(r, value=r == risk, id=f"risk-{r}")
            yield Label("Notes / issues")
            yield TextArea(d.notes, id="notes", read_only=not self.can_decide)
            with Horizontal(classes="form-row"):
                yield Label("Justification", classes="form-label")
                yield Input(d.justification, id="justification", disabled=not self.can_decide,
                            placeholder="required when the decision differs from the suggestion")
            with Horizontal(classes="form-row"):
                yield Label("Completed by", classes="form-label")
                yield Input(d.completed_by or self.person, id="completed-by",
                            disabled=not self.can_decide)
            if d.status:
                yield Static(Text(f"Decided {d.status} by {d.completed_by} at "
                                  f"{local_time(d.completed_at, with_date=True)}"
                                  + (f" (suggested {d.suggested})" if d.suggested != d.status
                                     else "")), id="decided")
            if self.can_decide:
                yield Button("Record decision (ctrl+s)", id="record", variant="success",
                             action="screen.record")
            if self.review:
                yield Label("Review notes")
                yield TextArea(d.review_notes, id="review-notes")
                if d.reviewed_by:
                    yield Static(Text(f"Reviewed by {d.reviewed_by} at "
                                      f"{local_time(d.reviewed_at, with_date=True)}"), id="reviewed")
                yield Button("Record review (ctrl+s)", id="record-review", variant="success",
                             action="screen.record")
            yield Static(id="decision-error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        """Start on what this screen is for: the verdict choice (the review notes in review)."""
        first = "#review-notes" if self.review else "#choice" if self.can_decide else None
        if first is not None:
            self.query_one(first).focus()

    def form(self) -> DecisionForm:
        """The choices as they stand."""
        choice = self.query_one("#choice", RadioSet).pressed_button
        risk = self.query_one("#risk", RadioSet).pressed_button
        return DecisionForm(
            status=str(choice.label) if choice is not None else "",
            risk=str(risk.label) if risk is not None else "",
            notes=self.query_one("#notes", TextArea).text,
            justification=self.query_one("#justification", Input).value,
            completed_by=self.query_one("#completed-by", Input).value)

    def action_record(self) -> None:
        """Record the decision, or the review in review mode."""
        if self.review:
            error = self.record_review(self.query_one("#review-notes", TextArea).text)
        elif self.can_decide:
            error = self.decide(self.form())
        else:
            error = "this session is read-only"
        self.query_one("#decision-error", Static).update(Text(error or ""))
        if not error:
            self.notify("Review recorded" if self.review else "Decision recorded")
            self.dismiss(None)

    @on(OptionList.OptionSelected, "#reasons")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    async def action_dismiss(self, result: str | None = None) -> None:
        """Back to the checklist."""
        self.dismiss(result)

    def _typed(self) -> bool:
        """Whether the form holds text that recording would keep and Esc would lose."""
        d = self.decision
        if self.review:
            return self.query_one("#review-notes", TextArea).text != d.review_notes
        if not self.can_decide:
            return False
        return (self.query_one("#notes", TextArea).text != d.notes
                or self.query_one("#justification", Input).value != d.justification)

    def action_back(self) -> None:
        """Back to the checklist; what was typed is discarded only on a second Esc."""
        if self.guard.may_close(self._typed()):
            self.dismiss(None)
            return
        self.query_one("#decision-error", Static).update(Text(f"{DISCARD_WARNING}; ctrl+s records"))
