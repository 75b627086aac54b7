"""Provides the start-up baseline: a bare Textual app that shows one widget."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static


class BareApp(App[None]):
    """One Static widget, nothing else."""

    def compose(self) -> ComposeResult:
        """The one widget."""
        yield Static("predeploy bench: bare Textual app")


if __name__ == "__main__":
    BareApp().run()
