"""A whole session is read and written with the garbage collector held off, and left as found."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from predeploy_tui.core import collector, store
from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session

from .builders import T0, all_green, result, tiny_session


def _big() -> Session:
    """The tiny session with 400 runs on each item: enough objects for many young collections."""
    session = all_green(tiny_session())
    for state in session.items.values():
        state.runs = [replace(result(Status.PASS, T0 + timedelta(seconds=i)), host=f"h{i}")
                      for i in range(400)]
    return session


@pytest.fixture
def collections() -> Iterator[list[str]]:
    """Every collection that starts while the test runs (gc.callbacks)."""
    seen: list[str] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(f"generation {info['generation']}")

    gc.callbacks.append(note)
    try:
        yield seen
    finally:
        gc.callbacks.remove(note)


def test_no_collection_runs_while_a_session_is_read_or_written(
        collections: list[str]) -> None:
    session = _big()
    assert gc.isenabled()
    collections.clear()
    text = store.dumps(session)
    loaded = store.loads(text)
    # At most the one collection each block put off, when the collector is on again after it.
    assert len(collections) <= 2, collections
    assert gc.isenabled()  # on again after
    assert len(loaded.items) == len(session.items)
    assert store.dumps(loaded) == text
    # The same work with the collector on does collect: the test would see it.
    gc.collect()
    collections.clear()
    [replace(r) for state in session.items.values() for r in state.runs]
    assert collections


def test_the_collector_is_left_off_when_it_was_off_and_on_after_an_error() -> None:
    gc.disable()
    try:
        store.loads(store.dumps(tiny_session()))
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(store.SessionFileError):
        store.loads("schema = 1\n[session\n")
    assert gc.isenabled()


def test_two_threads_leave_the_collector_on() -> None:
    """Whatever the order the blocks end in, the one that turned it off turns it on."""
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        with collector.held():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)
    with collector.held():  # finds it off: leaves it off
        pass
    assert not gc.isenabled()
    release.set()
    thread.join(5)
    assert gc.isenabled()
