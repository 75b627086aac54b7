"""Provides the plan screen: what "run all" would run, where, before anything runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from predeploy_tui.core.vocab import ItemKind

if TYPE_CHECKING:
    from predeploy_tui.engine.plan import PlannedCheck


class PlanScreen(ModalScreen[list[str] | None]):
    """The dry-run plan; actions are left out unless ticked. Dismisses with the keys to run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "start", "Run", id="plan.run", tooltip="Run the planned checks"),
        Binding("escape", "dismiss(None)", "Cancel", id="plan.cancel", tooltip="Run nothing"),
    ]

    def __init__(self, planned: Sequence[PlannedCheck], title: str = "Run all") -> None:
        super().__init__(classes="dialog")
        self.planned = list(planned)
        self.heading = title

    def compose(self) -> ComposeResult:
        checks = [p for p in self.planned if p.kind != ItemKind.ACTION]
        actions = [p for p in self.planned if p.kind == ItemKind.ACTION]
        keys = {p.key for p in checks}
        with Vertical(classes="dialog-box", id="plan-box"):
            yield Label(f"{self.heading}: {len(keys)} check(s) would run", classes="dialog-title")
            table: DataTable[str | Text] = DataTable(id="plan-table", cursor_type="row",
                                                     zebra_stripes=True)
            table.add_columns("item", "type", "where", "what")
            for p in checks:
                table.add_row(p.key, p.type, p.host or "local", Text(p.does, no_wrap=True))
            yield table
            if actions:
                yield Static(Text(f"{len(actions)} action(s) change things; tick those to include "
                                  "(each still asks before it runs):", style="bold"))
                yield SelectionList[str](
                    *(Selection(f"{p.title} ({p.host or 'local'}): {p.does}", p.key, False)
                      for p in actions), id="plan-actions")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run (ctrl+r)", id="run", variant="success", action="screen.start")
                yield Button("Cancel (esc)", id="cancel", action="screen.dismiss(None)")

    def on_mount(self) -> None:
        self.query_one("#run", Button).focus()

    def action_start(self) -> None:
        """Close with the checks plus the ticked actions."""
        keys = list(dict.fromkeys(p.key for p in self.planned if p.kind != ItemKind.ACTION))
        chosen = self.query("#plan-actions")
        if chosen:
            picked = set(self.query_one("#plan-actions", SelectionList).selected)
            keys += [k for k in dict.fromkeys(p.key for p in self.planned if p.kind == ItemKind.ACTION)
                     if k in picked]
        self.dismiss(keys)
