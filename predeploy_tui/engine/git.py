"""Provides committing a session file to git, after making sure it holds no secret.

The commit is made the user's way (their identity, and signed if their git config signs): only
the session file is committed, whatever else is staged, with the message
``predeploy: <checklist> <version> <env>: <decision>``. Every git call has a timeout.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


class CommitRefused(Exception):
    """The session was not committed: the message is the one-line reason."""


def _git(args: list[str], cwd: Path, deadline: float) -> subprocess.CompletedProcess[str]:
    left = deadline - time.monotonic()
    if left <= 0:
        raise CommitRefused("git took too long (timeout)")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=left, check=False, stdin=subprocess.DEVNULL, env=env)
    except FileNotFoundError:
        raise CommitRefused("git is not installed (no 'git' on PATH)") from None
    except subprocess.TimeoutExpired:
        raise CommitRefused(f"git {args[0]} did not finish in time (timeout)") from None


def secrets_in(text: str) -> list[str]:
    """Each secret the scanner finds in ``text``, as "kind on line N" (never the secret itself)."""
    from predeploy_tui.engine.redact import find_secrets

    out = []
    for kind, start, _end in find_secrets(text):
        out.append(f"{kind} on line {text.count(chr(10), 0, start) + 1}")
    return out


def commit_message(path: Path) -> str:
    """``predeploy: <checklist> <version> <env>: <decision>`` for the session at ``path``."""
    from predeploy_tui.core import store

    session = store.load(path)
    version = session.header.get("version") or session.variables.get("version") or "unversioned"
    env = session.variables.get("env") or session.variables.get("environment") or "-"
    decision = session.decision.status or "no decision yet"
    return f"predeploy: {session.checklist_id} {version} {env}: {decision}"


UNSTAGE_TIMEOUT = 5.0
"""Seconds allowed for taking the session file out of the index after a failed commit, even
when the commit used up the caller's timeout."""


@dataclass(frozen=True)
class Commit:
    """A commit made of a session file."""

    id: str
    """The new commit's id."""
    message: str
    """Its message: ``predeploy: <checklist> <version> <env>: <decision>``."""


def commit_session(path: Path, *, timeout: float = 30) -> str:
    """Commit the session file at ``path``; returns the new commit id (see :func:`commit_with_message`)."""
    return commit_with_message(path, timeout=timeout).id


def commit_with_message(path: Path, *, timeout: float = 30) -> Commit:
    """Commit the session file at ``path``; returns the commit id and message.

    Raises :class:`CommitRefused` when the file holds a secret, is outside a git repository,
    has nothing new to commit, or git fails (with git's own first line of explanation); a
    failed commit leaves the file unstaged, as it found it.
    """
    from predeploy_tui.core.store import SessionFileError

    deadline = time.monotonic() + timeout
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommitRefused(f"cannot read {path}: {exc}") from None
    found = secrets_in(text)
    if found:
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise CommitRefused(f"{path.name} holds what looks like a secret: {', '.join(found[:3])}"
                            f"{more}; redact it before committing")
    try:
        message = commit_message(path)
    except SessionFileError as exc:
        raise CommitRefused(f"{path.name} is not a readable session file: "
                            f"{exc.problems[0] if exc.problems else exc}") from None
    top = _git(["rev-parse", "--show-toplevel"], path.parent, deadline)
    if top.returncode != 0:
        raise CommitRefused(f"{path.parent} is not inside a git repository "
                            "(git init, or move the session into one)")
    root = Path(top.stdout.strip())
    relative = str(path.relative_to(root.resolve()))
    added = _git(["add", "--", relative], root, deadline)
    if added.returncode != 0:
        raise CommitRefused(f"git add failed: {_first_line(added)}")
    status = _git(["diff", "--cached", "--quiet", "--", relative], root, deadline)
    if status.returncode == 0:
        raise CommitRefused(f"nothing to commit: {relative} is unchanged since its last commit")
    try:
        committed = _git(["commit", "-m", message, "--", relative], root, deadline)
        if committed.returncode != 0:
            raise CommitRefused(f"git commit failed: {_first_line(committed)}")
    except CommitRefused:
        _unstage(relative, root)
        raise
    head = _git(["rev-parse", "HEAD"], root, deadline)
    if head.returncode != 0:
        raise CommitRefused(f"git rev-parse failed: {_first_line(head)}")
    return Commit(head.stdout.strip(), message)


def _unstage(relative: str, root: Path) -> None:
    """Take the file back out of the index: a failed commit must not leave it staged."""
    try:
        _git(["reset", "-q", "--", relative], root, time.monotonic() + UNSTAGE_TIMEOUT)
    except CommitRefused:
        pass  # the commit's own failure is the message that matters


def _first_line(result: subprocess.CompletedProcess[str]) -> str:
    text = (result.stderr or result.stdout).strip()
    return text.splitlines()[0] if text else f"exit status {result.returncode}"
