"""Provides what the app was opened with: the session, its file, the checklist and the mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import INTERRUPTED
from predeploy_tui.core.session import Session
from predeploy_tui.core.store import SessionLock
from predeploy_tui.core.vocab import Mode as Mode
from predeploy_tui.core.vocab import Role


def utc_now() -> datetime:
    """The wall clock in UTC: the app's default clock (tests inject a frozen one)."""
    return datetime.now(UTC)


@dataclass
class OpenSession:
    """A session as the app holds it."""

    session: Session
    """The session being worked on."""
    path: Path | None
    """Its file; None until the new-session form is completed."""
    checklist: Checklist | None
    """The checklist, needed to run checks; None when it cannot be found (evidence only)."""
    person: str
    """Who is at the keyboard: the deployer, or the reviewer in review mode."""
    mode: Mode = Mode.EDIT
    """What may change."""
    variables: dict[str, str] = field(default_factory=dict)
    """Variable values for the runner, secret ones included: never saved."""
    lock: SessionLock | None = None
    """The edit lock held on the file, released on exit."""
    notice: str = ""
    """Why the session is read-only or cannot run checks, shown in the header."""
    interrupted: tuple[str, ...] = ()
    """Checks a dead app left running, recorded as interrupted on opening."""

    @property
    def still_interrupted(self) -> list[str]:
        """The interrupted checks not run again since (the header's notice counts these)."""
        out = []
        for key in self.interrupted:
            state = self.session.items.get(key)
            last = state.last_run if state is not None else None
            if last is not None and last.summary == INTERRUPTED:
                out.append(key)
        return out

    @property
    def can_run(self) -> bool:
        """Checks may be run (by the deployer, or a reviewer as re-runs)."""
        return self.checklist is not None and self.mode is not Mode.READ_ONLY

    @property
    def can_edit(self) -> bool:
        """The deployer's state (manual ticks, waivers, notes, sign-offs, decision) may change."""
        return self.mode is Mode.EDIT

    @property
    def role(self) -> Role:
        """The role runs are recorded under."""
        return self.mode.role


Clock = Callable[[], datetime]
"""Where the app reads the time: every session change takes ``now`` from it."""


@dataclass
class NewSessionAnswers:
    """What the form collected."""

    header: dict[str, str]
    """date, version, deployer, reviewer."""
    variables: dict[str, str]
    """Every variable's value, secret ones in clear (never saved)."""
    major: bool = False
    """A major release: the product owner must sign."""
    problems: dict[str, str] = field(default_factory=dict)
    """Field name -> why its value was refused (empty when the answers are usable)."""


@dataclass
class NewSessionRequest:
    """What ``predeploy new`` / ``demo`` knows before the form is filled in."""

    checklist: Checklist
    """The checklist to start."""
    create: Callable[[NewSessionAnswers], OpenSession]
    """Makes, saves and locks the session from the form's answers (raises SessionRuleError)."""
    deployer: str = ""
    """Pre-filled deployer."""
    reviewer: str = ""
    """Pre-filled reviewer."""
    variables: dict[str, str] = field(default_factory=dict)
    """Pre-filled variable values (from --var)."""
    major: bool = False
    """Pre-filled major flag."""
    prepare: Callable[[], Awaitable[dict[str, str]]] | None = None
    """Started before the form shows (the demo's health server); returns variables to pre-fill."""
    cleanup: Callable[[], Awaitable[None]] | None = None
    """Stops what ``prepare`` started, when the app leaves."""
