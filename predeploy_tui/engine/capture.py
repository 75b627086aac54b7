"""Provides the one output-capping policy: keep the head and the tail, say exactly what was cut.

Every place that holds output within a limit uses it: what a command prints on this machine or
over SSH (:class:`Capture`, while it streams), an HTTP body, and the output saved with a result
(:func:`cap`). Matchers judge the output as it was held; when part of it could not be held, a
matcher that reads the output cannot judge it and the check is ``error`` (see
:attr:`predeploy_tui.engine.base.Observation.complete`).
"""

from __future__ import annotations

HOLD_LIMIT = 4_000_000
"""Characters of a stream a transport holds for the matchers (head and tail halves)."""


def marker(cut: int | None) -> str:
    """The line that stands where text was cut: how many characters, or that the rest was not read."""
    if cut is None:
        return "\n… [output cut here: the rest was not read] …\n"
    return f"\n… [{cut} characters cut] …\n"


def cap(text: str, limit: int) -> tuple[str, int]:
    """``text`` within ``limit`` characters (head and tail halves, the marker between) and how
    many characters were cut (0: the text is whole; a limit of 0 or less keeps everything)."""
    if limit <= 0 or len(text) <= limit:
        return text, 0
    half = limit // 2
    cut = len(text) - 2 * half
    return text[:half] + marker(cut) + text[len(text) - half:], cut


class Capture:
    """Holds a stream's text as it arrives, within a limit: ``text()`` equals ``cap`` of it all."""

    def __init__(self, limit: int = HOLD_LIMIT) -> None:
        self._limit = limit
        self._half = limit // 2
        self._keep = limit - self._half
        """The tail holds at least this much, so a stream within the limit is held whole."""
        self._head: list[str] = []
        self._head_len = 0
        self._tail: list[str] = []
        self._tail_len = 0
        self._dropped = 0

    def feed(self, text: str) -> None:
        """Hold the next piece of the stream (already decoded)."""
        if not text:
            return
        half = self._half
        if self._limit <= 0:
            self._head.append(text)
            return
        if self._head_len < half:
            take = text[: half - self._head_len]
            self._head.append(take)
            self._head_len += len(take)
            text = text[len(take):]
        if text:
            self._tail.append(text)
            self._tail_len += len(text)
            # Whole pieces are kept until the oldest is not needed: appends stay cheap.
            while len(self._tail) > 1 and self._tail_len - len(self._tail[0]) >= self._keep:
                gone = self._tail.pop(0)
                self._tail_len -= len(gone)
                self._dropped += len(gone)

    def text(self) -> str:
        """The stream as held: whole, or head, marker and tail as :func:`cap` gives them."""
        head = "".join(self._head)
        tail = "".join(self._tail)
        cut = self.cut
        if not cut:
            return head + tail
        return head + marker(cut) + tail[len(tail) - self._half:]

    @property
    def cut(self) -> int:
        """Characters of the stream not held (0: it is whole)."""
        total = self._head_len + self._tail_len + self._dropped
        if self._limit <= 0 or total <= self._limit:
            return 0
        return total - 2 * self._half
