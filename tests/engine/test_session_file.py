"""Tests opening and creating session files: the lock first, one naming policy, nothing overwritten."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from predeploy_tui.core import store
from predeploy_tui.core.atomic import write_new
from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.lock import SessionLock, SessionLocked, holder_of
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.base import ItemStarted
from predeploy_tui.engine.recorder import SessionRecorder
from predeploy_tui.engine.session_file import (
    SessionExists,
    checklist_file,
    create,
    open_existing,
)

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
Make = Callable[..., Checklist]
Items = Callable[..., str]


@pytest.fixture
def checklist(make_checklist: Make, items: Items) -> Checklist:
    return make_checklist(items("{id: a, title: A, check: {type: shell, run: 'echo a'}}"))


def _create(checklist: Checklist, path: Path | None = None) -> Path:
    opened = create(checklist, Path(checklist.path), variables={}, header={"deployer": "ann",
                                                                     "version": "1.0.0"},
                    now=T0, path=path)
    assert holder_of(opened.path) is not None  # created locked...
    opened.release()
    return opened.path


def test_a_default_name_that_is_taken_gets_the_first_free_suffix(
        checklist: Checklist, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDEPLOY_SESSIONS_DIR", str(tmp_path / "sessions"))
    first = _create(checklist)
    before = first.read_bytes()
    second = _create(checklist)
    assert second == first.with_name(f"{first.stem}-2.toml")
    # A name being created by someone else right now (locked, not yet written) is skipped too.
    with SessionLock(first.with_name(f"{first.stem}-3.toml")):
        third = _create(checklist)
    assert third == first.with_name(f"{first.stem}-4.toml")
    assert first.read_bytes() == before
    assert store.load(third).checklist_path == "../" + Path(checklist.path).name


def test_an_explicit_path_is_never_overwritten_nor_taken_while_another_creates_it(
        checklist: Checklist, tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    _create(checklist, path)
    before = path.read_bytes()
    with pytest.raises(SessionExists, match=r"open it with `predeploy open .*mine\.toml`"):
        _create(checklist, path)
    assert path.read_bytes() == before
    other = tmp_path / "other.toml"
    with SessionLock(other), pytest.raises(SessionLocked, match="being edited by"):
        _create(checklist, other)
    assert not other.exists()


def test_write_new_creates_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    assert write_new(path, "one\n")
    assert not write_new(path, "two\n")
    assert path.read_text() == "one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.toml"]  # no temporary file left


def test_open_takes_the_lock_before_reading_and_interrupts_a_dead_writers_checks(
        checklist: Checklist, tmp_path: Path) -> None:
    path = _create(checklist, tmp_path / "s.toml")
    session = store.load(path)
    session.mark_running("s.a", "ann", T0)
    store.save(session, path)
    with SessionLock(path), pytest.raises(SessionLocked):
        open_existing(path, now=lambda: T0)
    assert store.load(path).items["s.a"].status is Status.RUNNING  # untouched while refused
    opened = open_existing(path, now=lambda: T0)
    try:
        assert opened.interrupted == ["s.a"]
        reopened = store.load(path).items["s.a"]
        assert reopened.status is Status.PENDING  # never judged: not a pass, not an error
        assert reopened.runs[-1].summary.startswith("interrupted")
    finally:
        opened.release()
    assert holder_of(path) is None


def test_a_sessions_checklist_is_found_beside_the_session_file(tmp_path: Path) -> None:
    (tmp_path / "sessions").mkdir()
    link = tmp_path / "elsewhere.toml"
    link.symlink_to(tmp_path / "sessions" / "s.toml")
    def found(session: Path, stored: str) -> Path:
        path = checklist_file(session, stored)
        assert path is not None
        return path.resolve()

    assert found(tmp_path / "sessions" / "s.toml", "../c.yaml") == (tmp_path / "c.yaml").resolve()
    # The stored path is relative to the real file's folder, as it was written.
    assert found(link, "../c.yaml") == (tmp_path / "c.yaml").resolve()
    assert checklist_file(link, "/abs/c.yaml") == Path("/abs/c.yaml")
    assert checklist_file(link, "") is None


def test_the_recorder_never_breaks_a_run_on_an_item_the_session_lacks(
        checklist: Checklist, tmp_path: Path) -> None:
    path = _create(checklist, tmp_path / "s.toml")
    session = store.load(path)
    changes: list[str] = []
    recorder = SessionRecorder(session, clock=lambda: T0, by="ann",
                               changed=lambda: changes.append("x"))
    assert recorder.status_of("s.gone") is Status.PENDING
    recorder(ItemStarted("s.gone", None, T0))
    assert not recorder.record("s.gone", CheckResult(Status.PASS, "ok", started=T0, finished=T0))
    assert changes == []
    recorder(ItemStarted("s.a", None, T0))
    recorder(ItemStarted("s.a", "host-2", T0))  # a second host of the same item
    assert changes == ["x"]
    reviewer = SessionRecorder(session, clock=lambda: T0, by="rui", role="reviewer")
    session.record_result("s.a", CheckResult(Status.PASS, "ok", started=T0, finished=T0), T0)
    reviewer(ItemStarted("s.a", None, T0))
    assert session.items["s.a"].status is Status.PASS  # a reviewer's re-run leaves it alone
