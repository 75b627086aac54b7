"""Fixtures for the app's tests: a small shell-only checklist, frozen clocks, opened sessions."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.session import Session, new_session
from predeploy_tui.tui import messages
from predeploy_tui.tui.app import PredeployApp
from predeploy_tui.tui.launch import open_session
from predeploy_tui.tui.screens.main import MainScreen

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
    """The app, remembering every message posted to it (tests assert on them and wait for them)."""

    def __init__(self, *args: object, **kw: object) -> None:
        self.posted: list[object] = []
        self._news = asyncio.Event()
        self._waiting_on: asyncio.AbstractEventLoop | None = None
        super().__init__(*args, **kw)  # type: ignore[arg-type]

    def post_message(self, message: Message) -> bool:
        self.posted.append(message)
        self._wake()
        return super().post_message(message)

    def _wake(self) -> None:
        loop = self._waiting_on
        if loop is None:
            return
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:
            here = None
        if here is loop:
            self._news.set()
        else:  # posted from a worker thread: wake the waiter on its own loop
            loop.call_soon_threadsafe(self._news.set)

    def seen(self, kind: type) -> list[object]:
        return [m for m in self.posted if isinstance(m, kind)]

    async def until(self, condition: Callable[[], object], timeout: float = 30.0) -> None:
        """Wait until ``condition()`` holds, looking again after every message posted to the
        app and every change of screen; a generous timeout turns a hang into a failure."""
        if self._waiting_on is None:
            self._waiting_on = asyncio.get_running_loop()
            self.screen_change_signal.subscribe(self, lambda _: self._wake())
        async with asyncio.timeout(timeout):
            while not condition():
                self._news.clear()
                await self._news.wait()

    def started(self) -> set[str]:
        """The items whose check has started."""
        return {m.key for m in self.seen(messages.CheckStarted)}  # type: ignore[attr-defined]

    def everything_saved(self) -> bool:
        """No change is waiting for the autosave and no save is being written."""
        return not self.saver.dirty and not any(
            w.group == "save" and not w.is_finished for w in self.workers)


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


async def settle(pilot: Pilot[Any], app: RecordingApp) -> None:
    """Let runs finish, then wait for the autosave and redraw (see ``saved_and_drawn``)."""
    await app.workers.wait_for_complete()
    await saved_and_drawn(pilot, app)


async def saved_and_drawn(pilot: Pilot[Any], app: RecordingApp) -> None:
    """Wait until the autosave wrote every change, then redraw the main screen now rather
    than on the next tick: awaited events, no fixed pause."""
    await app.until(app.everything_saved)
    await pilot.pause()
    if isinstance(app.screen, MainScreen):
        app.screen.redraw()
        await pilot.pause()


def demo_form_app(clock: Clock) -> RecordingApp:
    """The app as ``predeploy demo`` starts it: the new-session form of the demo checklist."""
    from predeploy_tui import paths
    from predeploy_tui.tui.app import NewSessionRequest
    from predeploy_tui.tui.launch import session_maker

    checklist = load_checklist(paths.demo_checklist())
    request = NewSessionRequest(checklist, session_maker(checklist, paths.demo_checklist(),
                                                         session_path=None, clock=clock),
                                deployer="Dana", variables={"demo_url": "http://127.0.0.1:9/h"})
    return RecordingApp(new=request, clock=clock)
