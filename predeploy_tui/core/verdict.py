"""Provides the suggested GO / CONDITIONAL GO / NO GO decision and risk, with the reasons."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session
from predeploy_tui.core.vocab import VerdictStatus

GO = VerdictStatus.GO
CONDITIONAL_GO = VerdictStatus.CONDITIONAL_GO
NO_GO = VerdictStatus.NO_GO

_NOT_PASSED = {Status.FAIL: "failed", Status.ERROR: "could not be checked (error)",
               Status.PENDING: "is still pending", Status.RUNNING: "is still running",
               Status.BLOCKED: "is blocked by a prerequisite", Status.STALE: "passed too long ago "
               "(stale)", Status.SKIPPED: "was skipped"}


@dataclass(frozen=True)
class Reason:
    """One thing that keeps the verdict from GO."""

    verdict: VerdictStatus
    """The verdict this reason alone leads to: NO GO or CONDITIONAL GO."""
    ref: str
    """The item key, or ``signoff:<role>``."""
    text: str
    """What is wrong, in words."""


@dataclass(frozen=True)
class Verdict:
    """The suggestion and why."""

    status: VerdictStatus
    """GO, CONDITIONAL GO or NO GO."""
    risk: str
    """low, medium or high."""
    reasons: tuple[Reason, ...]
    """Every reason, NO GO ones first."""

    @property
    def exit_code(self) -> int:
        """The headless run's exit code: 0 GO, 4 CONDITIONAL GO, 3 NO GO."""
        return {GO: 0, CONDITIONAL_GO: 4, NO_GO: 3}[self.status]


def suggest(session: Session, now: datetime, stale_signoffs: Collection[str] = (),
            require_signoffs: bool = True) -> Verdict:
    """The verdict the rules give for ``session`` at ``now``.

    - NO GO: a critical item failed, errored, is pending, blocked or stale; or a required sign-off
      is missing (or stale: made before a later change).
    - CONDITIONAL GO: only non-critical items failed, warned or are not done, or items were waived.
    - GO: everything required passed.
    Items the checklist no longer has (``removed``, kept by drift for the record) do not count.
    ``require_signoffs`` is off for a headless run that judges the checks alone.
    """
    no_go: list[Reason] = []
    conditional: list[Reason] = []
    issues = 0
    for state, status in session.effective(now):
        if state.removed:
            continue  # no longer in the checklist: kept for the record, no part of this release
        title = f"{state.title}"
        if status is Status.WAIVED:
            approver = state.waiver.approver if state.waiver else "?"
            conditional.append(Reason(CONDITIONAL_GO, state.key,
                                      f"{title} was waived (approved by {approver})"))
            issues += 1
        elif status is Status.WARN:
            conditional.append(Reason(CONDITIONAL_GO, state.key, f"{title} passed with a warning"))
        elif status in _NOT_PASSED:
            if state.critical:
                no_go.append(Reason(NO_GO, state.key, f"critical: {title} {_NOT_PASSED[status]}"))
            else:
                conditional.append(Reason(CONDITIONAL_GO, state.key,
                                          f"{title} {_NOT_PASSED[status]}"))
                if status not in (Status.PENDING, Status.SKIPPED):
                    issues += 1
    if require_signoffs:
        for role in session.required_roles():
            signed = session.signoff(role.role)
            if signed is None:
                no_go.append(Reason(NO_GO, f"signoff:{role.role}",
                                    f"sign-off missing: {role.title}"))
            elif role.role in stale_signoffs:
                no_go.append(Reason(NO_GO, f"signoff:{role.role}",
                                    f"sign-off stale: {role.title} by {signed.name} was made "
                                    "before a later change"))
    if no_go:
        return Verdict(NO_GO, "high", tuple(no_go + conditional))
    if conditional:
        risk = "high" if issues >= 3 else "medium"
        return Verdict(CONDITIONAL_GO, risk, tuple(conditional))
    return Verdict(GO, "low", ())
