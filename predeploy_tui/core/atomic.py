"""Provides atomic file writes: a temporary file, fsync, rename; leftovers of killed saves removed."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_CHUNK = 1 << 20
"""Characters encoded and written at a time: a large file never has a second, encoded copy."""


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file, fsync, rename and fsync the folder: never half a file.

    On any failure the temporary file is removed and the error raised (OSError says why).
    Temporary files that an earlier save left behind when it was killed are removed first.
    """
    tmp = _write_temporary(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    _sync_folder(path)


def write_new(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text``, whole, only if it does not exist; False if it does.

    The text is written to a temporary file that is then hard-linked to ``path``: the link fails
    when the name is taken (like ``O_EXCL``), and a reader never sees the file empty or half
    written. Where the file system has no hard links, an ``O_EXCL`` creation claims the name and
    the text replaces it atomically.
    """
    tmp = _write_temporary(path, text)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # no hard links here (some FUSE or FAT file systems)
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            except FileExistsError:
                return False
            os.replace(tmp, path)
    finally:
        _discard(tmp)
    _sync_folder(path)
    return True


def _write_temporary(path: Path, text: str) -> Path:
    """``text`` in ``.<name>.<pid>.tmp`` beside ``path``, fsynced; earlier leftovers removed.

    A full disk, a lost mount, an interrupt: the temporary file is removed before the error goes
    on, so no half-written file is left to keep the disk full.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            for start in range(0, len(text), _CHUNK):
                view = memoryview(text[start:start + _CHUNK].encode("utf-8"))
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _discard(tmp)
        raise
    return tmp


def _discard(tmp: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def _sync_folder(path: Path) -> None:
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_leftovers(path: Path) -> list[Path]:
    """Remove ``.<name>.<pid>.tmp`` files beside ``path`` whose process is gone; returns them.

    A save killed between writing and renaming (SIGKILL, power loss) leaves its temporary file.
    Another live process's file is never touched: it may be in the middle of its own save.
    """
    prefix = f".{path.name}."
    removed: list[Path] = []
    try:
        names = os.listdir(path.parent)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):-len(".tmp")]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        leftover = path.with_name(name)
        try:
            leftover.unlink()
        except FileNotFoundError:
            continue  # another save removed it first
        removed.append(leftover)
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts as alive)."""
    if pid <= 0:
        return True  # not a process id we can judge: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
