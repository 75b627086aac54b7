"""Provides the garbage collector held off while a session file is read or written whole.

Reading a session of thousands of items makes tens of thousands of tables, runs and items, all
kept: the collector's young generations fill again and again while they are made, and each time
it walks what was made so far (a full pass now and then walks the whole parsed document too),
freeing nothing, since nothing made there is garbage until the read is over. Writing one makes
as many lists and tuples (each run's lines, kept for the next save). So both run with the
collector off, and it is turned back on after, as it was found.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def held() -> Iterator[None]:
    """No collection inside the block; the collector back on after only if it was on before.

    Safe from several threads: a thread that finds the collector already off (another is
    inside a block, or the app holds it while it starts) leaves it as it is at the end, and the
    one that turned it off turns it back on. Collection is only put off, never lost: what the
    block left as garbage is found by the next collection after it.
    """
    was_on = gc.isenabled()
    if was_on:
        gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
