"""Fixtures for the app's tests: a small shell-only checklist, frozen clocks, opened sessions."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.message import Message

from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.session import Session, new_session
from predeploy_tui.tui.app import PredeployApp
from predeploy_tui.tui.launch import open_session

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.yaml"
START = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)


class Clock:
    """A clock that stands still unless a test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def _utc_and_quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Local time is UTC (times on screen are stable) and no user keymap leaks in."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("PREDEPLOY_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PREDEPLOY_SESSIONS_DIR", str(tmp_path / "sessions"))
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_session(folder: Path, clock: Clock, *, major: bool = False,
                 checklist: Path = SMALL) -> tuple[Path, Session]:
    """A fresh session of ``checklist`` saved under ``folder``."""
    cl = load_checklist(checklist)
    path = folder / "sessions" / f"{cl.id}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    session = new_session(cl, {"token": "s3cr3t-token"}, {"date": "2025-06-02", "deployer": "Dana",
                                                          "reviewer": "Rui"},
                          clock(), flags={"major": major},
                          checklist_path=os.path.relpath(cl.path, path.parent))
    store.save(session, path)
    return path, session


@pytest.fixture
def session_file(tmp_path: Path, clock: Clock) -> Path:
    return make_session(tmp_path, clock)[0]


class RecordingApp(PredeployApp):
    """The app, remembering every message posted to it (tests assert on them)."""

    def __init__(self, *args: object, **kw: object) -> None:
        self.posted: list[object] = []
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    def post_message(self, message: Message) -> bool:
        self.posted.append(message)
        return super().post_message(message)

    def seen(self, kind: type) -> list[object]:
        return [m for m in self.posted if isinstance(m, kind)]


AppFactory = Callable[..., RecordingApp]


@pytest.fixture
def open_app(clock: Clock) -> Iterator[AppFactory]:
    """Opens a session file in the app with the frozen clock; releases locks afterwards."""
    apps: list[RecordingApp] = []

    def factory(path: Path, **kw: object) -> RecordingApp:
        opened = open_session(path, clock=clock, variables={"token": "s3cr3t-token"},
                              **kw)  # type: ignore[arg-type]
        app = RecordingApp(opened, clock=clock)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        if app.has_session and app.opened.lock is not None:
            app.opened.lock.release()


def saved(path: Path) -> Session:
    """The session as it is on disk now."""
    return store.load(path)


async def settle(pilot: object, app: PredeployApp, seconds: float = 0.0) -> None:
    """Let runs finish, the UI redraw and the autosave write (within a second)."""
    await app.workers.wait_for_complete()
    await pilot.pause(seconds or 0.7)  # type: ignore[attr-defined]
