"""The one output-capping policy: head and tail kept, the cut counted, the same however it streams."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from predeploy_tui.engine.capture import Capture, cap, marker


def test_text_within_the_limit_is_kept_whole() -> None:
    assert cap("abcdef", 6) == ("abcdef", 0)
    assert cap("abcdef", 0) == ("abcdef", 0)


def test_longer_text_keeps_head_and_tail_and_says_how_much_was_cut() -> None:
    assert cap("0123456789", 4) == ("01" + marker(6) + "89", 6)
    assert marker(6) == "\n… [6 characters cut] …\n"


@given(st.text(alphabet="ab\né", max_size=120), st.integers(min_value=0, max_value=40),
       st.lists(st.integers(min_value=1, max_value=15), max_size=40))
def test_a_stream_held_piece_by_piece_is_held_as_cap_holds_it_whole(
        text: str, limit: int, sizes: list[int]) -> None:
    capture = Capture(limit)
    at = 0
    for size in [*sizes, len(text)]:
        capture.feed(text[at:at + size])
        at += size
    assert (capture.text(), capture.cut) == cap(text, limit)
