"""Provides ``printable``: text from a check or a checklist made safe to put on a terminal.

A check's output (or a title) may hold terminal control sequences: ``\\e[1G\\e[2K✔ pass`` would
move the cursor and repaint the line a result was printed on, an OSC sequence can set the
window title or a clipboard. Every such character is shown as a visible picture instead
(``␛[1G␛[2K✔ pass``), so a person sees what the check printed and the terminal does nothing.
The session file keeps the output byte-faithful; only what goes to a screen passes through here.
"""

from __future__ import annotations

import re

_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
"""C0 controls as their Unicode control pictures (ESC -> ␛, CR -> ␍, BEL -> ␇)."""
_PICTURES[0x7F] = "\u2421"  # DEL -> ␡
del _PICTURES[0x0A]  # a line break stays a line break
del _PICTURES[0x09]  # so does a tab

_UNSAFE = re.compile(
    "\r\n|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f"
    # Bidirectional overrides and isolates reorder what a person reads ("Trojan Source").
    "\u202a-\u202e\u2066-\u2069]")


def _picture(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r\n":
        return "\n"  # CRLF output reads as lines, not as lines ending in ␍
    code = ord(char)
    if code in _PICTURES:
        return _PICTURES[code]
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def printable(text: str) -> str:
    """``text`` with every terminal control character shown as a visible picture.

    Line breaks and tabs stay; CRLF becomes a line break; a lone CR, ESC, BEL, backspace, C1
    controls (``\\x9b`` is a one-byte CSI) and bidirectional overrides become visible text.
    """
    return _UNSAFE.sub(_picture, text) if _UNSAFE.search(text) else text
