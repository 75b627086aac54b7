"""Provides the lock on a session file: one editor at a time, the holder named, taken over if dead.

``flock`` on a lock file beside the session: the kernel releases it when the holder dies (even by
SIGKILL), so a stale lock is simply taken over; the file itself names the holder for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any


class SessionLocked(Exception):
    """Another process holds the session for editing."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        who = f"{holder.get('user', '?')}@{holder.get('host', '?')} (pid {holder.get('pid', '?')})"
        since = holder.get("since", "")
        super().__init__(f"{path} is being edited by {who}" + (f" since {since}" if since else ""))


@dataclass
class SessionLock:
    """An exclusive hold on a session file for editing, released by the kernel if we die."""

    path: Path
    """The session file."""
    fd: int = -1
    """The open, flocked lock file while held; -1 otherwise."""

    @property
    def lock_path(self) -> Path:
        """The lock file beside the session: ``.<name>.lock``."""
        return self.path.with_name(f".{self.path.name}.lock")

    def acquire(self) -> None:
        """Take the lock or raise :class:`SessionLocked` naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                os.close(fd)
                raise SessionLocked(self.path, holder) from None
            # The holder may have removed the file between our open and flock; lock the live one.
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock_path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            info = {"user": getpass.getuser(), "host": socket.gethostname(), "pid": os.getpid(),
                    "since": datetime.now().astimezone().isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
            self.fd = fd
            return
        raise SessionLocked(self.path, {"user": "?", "host": "?", "pid": "?"})

    def release(self) -> None:
        """Give the lock up and remove the lock file."""
        if self.fd >= 0:
            with contextlib.suppress(FileNotFoundError):
                self.lock_path.unlink()
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> SessionLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        raw = os.pread(fd, 4096, 0)
        holder = json.loads(raw.decode() or "{}")
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def holder_of(path: Path) -> dict[str, Any] | None:
    """Who holds the lock on ``path``, or None when nobody does."""
    lock = SessionLock(path)
    try:
        lock.acquire()
    except SessionLocked as exc:
        return exc.holder
    lock.release()
    return None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[SessionLock]:
    """Hold the session's lock for a block."""
    lock = SessionLock(path)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
