"""Provides check results as data: a closed status vocabulary, a summary, the evidence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from predeploy_tui.core.provenance import CodeFile
from predeploy_tui.core.vocab import Role


class Status(StrEnum):
    """Every state an item can be in."""

    PENDING = "pending"
    """Nothing recorded yet."""
    RUNNING = "running"
    """A check is running now."""
    PASS = "pass"
    """The check ran and passed."""
    WARN = "warn"
    """The check ran and passed, but a warn threshold was crossed."""
    FAIL = "fail"
    """The check ran and failed, or a person marked the manual item failed."""
    ERROR = "error"
    """The check could not be judged: timeout, refused, auth failed, tool missing, interrupted."""
    SKIPPED = "skipped"
    """Deliberately not run (an action that was declined)."""
    BLOCKED = "blocked"
    """A prerequisite did not pass."""
    STALE = "stale"
    """Passed, but longer ago than the item's freshness window (derived, never stored)."""
    DONE = "done"
    """A manual item a person ticked."""
    NA = "n/a"
    """A manual item that does not apply to this release."""
    WAIVED = "waived"
    """Accepted as not passed, with a reason and an approver."""

    @property
    def glyph(self) -> str:
        """A one-character symbol for lists and trees."""
        return _GLYPHS[self]

    @property
    def passed(self) -> bool:
        """Counts as passed for the verdict (warn counts, with a condition)."""
        return self in (Status.PASS, Status.WARN, Status.DONE, Status.NA)

    @property
    def settled(self) -> bool:
        """Something was recorded that is not going to change by itself."""
        return self not in (Status.PENDING, Status.RUNNING)


_GLYPHS = {
    Status.PENDING: "○", Status.RUNNING: "◌", Status.PASS: "✔", Status.WARN: "▲",
    Status.FAIL: "✘", Status.ERROR: "!", Status.SKIPPED: "–", Status.BLOCKED: "⊘",
    Status.STALE: "◷", Status.DONE: "✔", Status.NA: "∅", Status.WAIVED: "≈",
}

CANCELLED = "cancelled"
"""The summary of a run that was cancelled before it could judge anything."""
INTERRUPTED = "interrupted: the session closed while this check was running"
"""The summary of a run cut off by a killed app, recorded when the session is reopened."""

CHECK_STATUSES = (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIPPED,
                  Status.BLOCKED)
"""Statuses a check run can end in."""
MANUAL_STATUSES = (Status.DONE, Status.FAIL, Status.NA)
"""Statuses a person can give a manual item (waived has its own rule)."""


@dataclass(frozen=True)
class CheckResult:
    """What one run of a check produced."""

    status: Status
    """pass, warn, fail, error, skipped or blocked."""
    summary: str
    """One line a person can read: "coverage 83% >= 80%"."""
    output: str = ""
    """What the check printed or received, redacted and capped."""
    exit_code: int | None = None
    """The command's exit status, where there is one."""
    started: datetime | None = None
    """When it started (UTC)."""
    finished: datetime | None = None
    """When it finished (UTC)."""
    host: str | None = None
    """The host it ran on, for SSH checks and host groups."""
    data: Any = None
    """Structured evidence (rows of a query, certificate dates, per-GPU figures), JSON-able."""
    hosts: tuple[CheckResult, ...] = ()
    """Per-host results when the item fanned out over a host group."""
    by: str = ""
    """Who ran it."""
    role: Role = Role.DEPLOYER
    """deployer or reviewer: a reviewer's re-runs are kept apart from the deployer's evidence."""
    output_truncated: bool = False
    """The output was longer than the cap and was cut."""
    output_sha256: str = ""
    """Hash of the output as captured (after redaction), before any re-reading."""
    code: tuple[CodeFile, ...] = ()
    """The site files (plugin, site scripts) the check executed, hashed when it ran."""

    @property
    def duration(self) -> float | None:
        """Seconds the run took."""
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()

    @property
    def cut_short(self) -> bool:
        """The run was cancelled or interrupted: it judged nothing, so it replaces no result."""
        return self.status is Status.ERROR and self.summary in (CANCELLED, INTERRUPTED)

    def with_by(self, by: str, role: Role = Role.DEPLOYER) -> CheckResult:
        """The same result attributed to a person and role."""
        return replace(self, by=by, role=Role(role))


@dataclass
class Waiver:
    """Acceptance of an item that did not pass."""

    reason: str
    """Why it is acceptable for this release."""
    approver: str
    """Who accepted it: never the deployer."""
    by: str
    """Who recorded the waiver."""
    at: datetime
    """When (UTC)."""
    expires: datetime | None = None
    """After this the waiver no longer counts."""


@dataclass
class HistoryEntry:
    """A change of an item's status by a person (manual ticks, waivers, notes are separate)."""

    status: Status
    """The new status."""
    by: str
    """Who made the change."""
    at: datetime
    """When (UTC)."""
    note: str = ""
    """Why, when given."""
