"""Provides the one way to open or create a session file: its lock is held before the first write.

Every writer of a session (``predeploy new``, ``run``, ``sign``, ``demo`` and the app) opens or
creates it here and keeps the returned lock until its last write, so a second writer is refused
with who holds the lock (``SessionLocked``; the app opens read-only instead). A session is read
only once its lock is held, so nothing a previous holder saved is undone.

A file that exists is never overwritten:

- an explicitly named path (``--session PATH``) that exists is refused with a message naming
  ``predeploy open PATH``;
- a default-named path (``sessions/<checklist>-<version>-<env>.toml``) takes the first free
  ``-N`` suffix: ``...-2.toml``, ``...-3.toml``.

Creation is atomic: the name's lock is taken, then the file is created whole only if the name is
free (``core.atomic.write_new``: a hard link, failing like ``O_EXCL``), so two creators never pick
the same file and nobody can write it before its creator holds the lock.

A session names its checklist by a path relative to the repository root (the nearest folder
above the session file holding ``.git``, else the session file's folder) and by its sha256, so
moving the session file inside the repository or copying the whole tree elsewhere keeps the link.
:func:`locate_checklist` (and :func:`checklist_file`, its path) is the one place that turns it back
into a file: the stored path from the root, then from the session's folder (files written before),
then, when neither holds the checklist with the stored sha256, a bounded search of the
``checklists/`` folders above the session file for one that does, said in ``Located.note``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from predeploy_tui import paths
from predeploy_tui.core import store
from predeploy_tui.core.atomic import write_new
from predeploy_tui.core.checklist import Checklist, ChecklistError, load_checklist
from predeploy_tui.core.lock import SessionLock, SessionLocked
from predeploy_tui.core.provenance import file_sha256
from predeploy_tui.core.session import Session, new_session

MAX_SUFFIX = 10_000
"""The highest ``-N`` tried for a default-named session before giving up."""


class SessionExists(FileExistsError):
    """An explicitly named session file exists already: it is opened, never overwritten."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"{path} already exists; open it with `predeploy open {path}` or choose "
                         "another --session")


@dataclass
class Opened:
    """A session read (or created) under its lock, which the caller releases after its last write."""

    session: Session
    """The session as it is on disk now."""
    path: Path
    """Its file."""
    lock: SessionLock
    """The held lock."""
    interrupted: list[str] = field(default_factory=list)
    """Items a dead writer left ``running``, now recorded as interrupted."""

    def interrupt_running(self, now: datetime) -> list[str]:
        """Record the checks a dead writer left running as interrupted, and save at once."""
        keys = self.session.interrupt_running(now)
        if keys:
            store.save(self.session, self.path)
            self.interrupted += keys
        return keys

    def release(self) -> None:
        """Give the lock up (the last write is done)."""
        self.lock.release()


def open_existing(path: Path, *, now: Callable[[], datetime], interrupt: bool = True) -> Opened:
    """Lock ``path``, then read it; SessionLocked naming the holder when another writer has it.

    With ``interrupt``, checks that were running when the last writer died are recorded as
    interrupted (and saved) at once; otherwise the caller does it with
    :meth:`Opened.interrupt_running` once its input is known to be good.
    """
    lock = SessionLock(path)
    lock.acquire()
    try:
        opened = Opened(store.load(path), path, lock)
        if interrupt:
            opened.interrupt_running(now())
    except BaseException:
        lock.release()
        raise
    return opened


def create(checklist: Checklist, checklist_path: Path, *, variables: Mapping[str, str],
           header: Mapping[str, str], now: datetime, flags: Mapping[str, bool] | None = None,
           path: Path | None = None) -> Opened:
    """Create a session of ``checklist`` and save it, locked; see the module for the policy.

    ``path`` is the name given explicitly (``--session``); None takes the default name with the
    first free ``-N`` suffix. Bad variables raise SessionRuleError before any file is made;
    an explicit path that exists raises SessionExists, one being created or edited
    SessionLocked.
    """
    explicit = path is not None
    base = path if path is not None else default_path(checklist, variables, header)
    session = new_session(checklist, dict(variables), dict(header), now, flags=dict(flags or {}),
                          checklist_path=stored_checklist_path(checklist_path, base))
    text = store.dumps(session)
    for n in range(1, MAX_SUFFIX + 1):
        candidate = base if n == 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")
        if not explicit and candidate.exists():
            continue  # taken: no need to lock it to know
        lock = SessionLock(candidate)
        try:
            lock.acquire()
        except SessionLocked:
            if explicit:
                raise
            continue  # someone is creating or editing this name: take the next
        try:
            made = write_new(candidate, text)
        except BaseException:
            lock.release()
            raise
        if made:
            return Opened(session, candidate, lock)
        lock.release()
        if explicit:
            raise SessionExists(candidate)
    raise SessionExists(base.with_name(f"{base.stem}-{MAX_SUFFIX}{base.suffix}"))


def default_path(checklist: Checklist, variables: Mapping[str, str],
                 header: Mapping[str, str]) -> Path:
    """``sessions/<checklist>-<version>-<env>.toml`` before any ``-N`` suffix."""
    version = header.get("version") or variable_value(checklist, variables, "version")
    return paths.session_path_for(checklist.id, version,
                                  variable_value(checklist, variables, "env"))


def default_header(checklist: Checklist, variables: Mapping[str, str], *, deployer: str,
                   reviewer: str, today: str) -> dict[str, str]:
    """The header of a session started from the command line (the app's form asks instead)."""
    return {"date": today, "version": variable_value(checklist, variables, "version"),
            "deployer": deployer, "reviewer": reviewer}


def variable_value(checklist: Checklist, variables: Mapping[str, str], name: str) -> str:
    """A variable's given value, else its default, else ""."""
    given = variables.get(name)
    if given:
        return given
    var = checklist.variable(name)
    return (var.default or "") if var is not None else ""


def repository_root(session_path: Path) -> Path:
    """The nearest folder above the session file holding ``.git``, else the session's folder."""
    folder = session_path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def stored_checklist_path(checklist: Path, session_path: Path) -> str:
    """The checklist's path as stored in the session: relative to the repository root."""
    try:
        return os.path.relpath(checklist.resolve(), repository_root(session_path))
    except ValueError:
        return str(checklist.resolve())


MAX_SEARCHED = 500
"""Most files whose sha256 is computed when a checklist is looked for by its hash."""
MAX_CHECKLIST_BYTES = 4 << 20
"""Larger files are not hashed in that search (no checklist is that large)."""


@dataclass(frozen=True)
class Located:
    """Where a session's checklist is, and how it was found."""

    path: Path | None
    """The checklist file (it may not exist: then the stored path); None when none is named."""
    note: str = ""
    """Said when it was not at the stored path: ``checklist found by its sha256 at ...``."""


def _by_checklist_sha256(session_path: Path, sha256: str) -> Path | None:
    """A checklist with ``sha256`` in the ``checklists/`` folders from the session up to the root."""
    root = repository_root(session_path)
    folder = session_path.resolve().parent
    chain = [folder, *folder.parents]
    # Up to the repository root; without one, the session's folder and the one above it.
    bases = chain[:chain.index(root) + 1] if root != folder else chain[:2]
    searched = 0
    for base in bases:
        shelf = base / "checklists"
        if shelf.is_dir():
            for path in sorted(shelf.rglob("*")):
                if path.suffix.lower() not in (".yaml", ".yml"):
                    continue
                searched += 1
                if searched > MAX_SEARCHED:
                    return None
                if _checklist_sha256(path) == sha256:
                    return path
    return None


def _checklist_sha256(path: Path) -> str | None:
    return file_sha256(path, MAX_CHECKLIST_BYTES)


def locate_checklist(session_path: Path, stored: str, sha256: str = "") -> Located:
    """The checklist a session names by ``stored`` path and ``sha256``; see the module."""
    if not stored and not sha256:
        return Located(None)
    candidates: list[Path] = []
    if stored:
        path = Path(stored)
        if path.is_absolute():
            candidates.append(path)
        else:
            candidates += [repository_root(session_path) / path,
                           session_path.resolve().parent / path]
    existing = [c for c in candidates if c.is_file()]
    if not sha256 or any(_checklist_sha256(c) == sha256 for c in existing):
        return Located(next((c for c in existing if not sha256 or _checklist_sha256(c) == sha256),
                            candidates[0] if candidates else None))
    found = _by_checklist_sha256(session_path, sha256)
    if found is not None:
        shown = os.path.relpath(found) if _under_cwd(found) else str(found)
        return Located(found, f"checklist found by its sha256 at {shown}"
                              + (f" (not at {stored})" if stored else ""))
    if existing:
        return Located(existing[0])  # changed since the session began: drift, said by the caller
    return Located(candidates[0] if candidates else None)


def _under_cwd(path: Path) -> bool:
    try:
        path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return False
    return True


def checklist_file(session_path: Path, stored: str, sha256: str = "") -> Path | None:
    """The checklist a session names (see :func:`locate_checklist`); None if none is named."""
    return locate_checklist(session_path, stored, sha256).path


def checklist_of(session_path: Path, stored: str,
                 sha256: str = "") -> tuple[Checklist | None, str]:
    """The session's checklist loaded, or None and why checks cannot run."""
    located = locate_checklist(session_path, stored, sha256)
    path = located.path
    if path is None:
        return None, "no checklist recorded: evidence only, checks cannot run"
    try:
        return load_checklist(path), located.note
    except ChecklistError as exc:
        first = exc.problems[0] if exc.problems else exc
        return None, f"checklist unavailable ({first}): checks cannot run"


def default_person() -> str:
    """The deployer's name: git's ``user.name``, else the login name."""
    import getpass
    import subprocess

    try:
        out = subprocess.run(["git", "config", "user.name"], capture_output=True, text=True,
                             timeout=3, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
