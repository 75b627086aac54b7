"""Provides choice widgets whose state is told by a glyph, not colour alone (NO_COLOR, e-ink)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import RadioButton


class MarkedRadioButton(RadioButton):
    """A radio button drawn ``(●)`` when chosen and ``( )`` when not, in any colour scheme."""

    @property
    def _button(self) -> Content:
        # Textual draws the same dot for both states and tells them apart by colour only.
        self.BUTTON_INNER = "●" if self.value else " "
        return super()._button
