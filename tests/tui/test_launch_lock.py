"""Opening a session reads it under the lock, so a save made just before the lock was free is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.session import new_session
from predeploy_tui.tui.launch import open_session

T0 = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
DEMO = Path(__file__).resolve().parents[2] / "checklists" / "demo.yaml"


def test_open_reads_the_session_again_once_it_holds_the_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a saved session, and a previous holder that saves a note just before releasing the
    # lock, i.e. after our first read and before our acquire...
    path = tmp_path / "s.toml"
    store.save(new_session(load_checklist(DEMO), {}, {"deployer": "ann"}, T0), path)
    original_acquire = store.SessionLock.acquire

    def acquire_after_a_late_save(lock: store.SessionLock) -> None:
        late = store.load(path)
        late.set_note("local.python", "saved by the previous holder", T0)
        store.save(late, path)
        original_acquire(lock)

    monkeypatch.setattr(store.SessionLock, "acquire", acquire_after_a_late_save)
    # ...when the app opens it, then it works on the state that includes that save.
    opened = open_session(path, person="ann")
    try:
        assert opened.lock is not None
        assert opened.session.items["local.python"].note == "saved by the previous holder"
    finally:
        opened.lock.release()
