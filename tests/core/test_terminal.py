"""Tests that text for a terminal shows control sequences instead of obeying them."""

from __future__ import annotations

import pytest

from predeploy_tui.core.terminal import printable


@pytest.mark.parametrize(("raw", "shown"), [
    ("\x1b[1G\x1b[2K✔ pass", "␛[1G␛[2K✔ pass"),
    ("\x1b]0;owned\x07title", "␛]0;owned␇title"),
    ("one\r\ntwo\rthree", "one\ntwo␍three"),
    ("csi \x9b2J and del \x7f", "csi \\x9b2J and del ␡"),
    ("bidi \u202eevil\u2066", "bidi \\u202eevil\\u2066"),
    ("back\bspace \x00nul", "back␈space ␀nul"),
])
def test_control_characters_become_visible(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in printable(raw))


def test_ordinary_text_lines_and_tabs_are_unchanged() -> None:
    text = "ok\tready — 3 of 3 nodes ✔\nnext line\n"
    assert printable(text) is text
