"""Provides the suggested GO / CONDITIONAL GO / NO GO decision and risk, with the reasons.

:func:`suggest` is the one place the verdict is worked out: the app's header and decision
screen, ``run``'s printed line and exit code, ``show``, every export and ``verify`` call it, and
print it with :meth:`Verdict.line`, so the same session reads the same on every surface.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import Session
from predeploy_tui.core.vocab import Scope, Suggestion, VerdictStatus

GO = VerdictStatus.GO
CONDITIONAL_GO = VerdictStatus.CONDITIONAL_GO
NO_GO = VerdictStatus.NO_GO
NOT_RUN = Suggestion.NOT_RUN
"""Nothing was observed yet (no check ran, no manual item was settled): no suggestion is made."""

RELEASE = Scope.RELEASE
CHECKS = Scope.CHECKS
ITEMS = Scope.ITEMS

EXIT_CODES: dict[str, int] = {GO: 0, CONDITIONAL_GO: 4, NO_GO: 3, NOT_RUN: 3}
"""Exit code by verdict. Nothing observed is no GO: 3, like NO GO (README, "Exit codes")."""
NOT_ASSESSED = "not assessed"
"""The risk of a session in which nothing was observed yet."""

_NOT_PASSED = {Status.FAIL: "failed", Status.ERROR: "could not be checked (error)",
               Status.PENDING: "is still pending", Status.RUNNING: "is still running",
               Status.BLOCKED: "is blocked by a prerequisite", Status.STALE: "passed too long ago "
               "(stale)", Status.SKIPPED: "was skipped"}
# Statuses that record nothing observed about the item itself.
_UNOBSERVED = (Status.PENDING, Status.RUNNING, Status.SKIPPED, Status.BLOCKED)


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

    status: VerdictStatus | Suggestion
    """GO, CONDITIONAL GO, NO GO, or ``not run yet`` when nothing was observed."""
    risk: str
    """low, medium or high (``not assessed`` when nothing was observed)."""
    reasons: tuple[Reason, ...]
    """Every reason, NO GO ones first."""
    scope: Scope = RELEASE
    """What was judged: the release, the checks alone, or the items asked for."""
    judged: int = 0
    """How many items were judged."""

    @property
    def exit_code(self) -> int:
        """The exit code of ``run``: 0 GO, 4 CONDITIONAL GO, 3 NO GO or nothing observed."""
        return EXIT_CODES[self.status]

    @property
    def label(self) -> str:
        """The verdict with its scope named: ``NO GO``, ``checks: GO``, ``items asked (2): GO``."""
        if self.scope == CHECKS:
            return f"checks only: {self.status}"
        if self.scope == ITEMS:
            return f"{self.judged} item{'s' if self.judged != 1 else ''} asked, partial: " \
                   f"{self.status}"
        return self.status

    def line(self) -> str:
        """``NO GO (risk: high)``: how every surface prints the suggestion."""
        return f"{self.label} (risk: {self.risk})"


def suggest(session: Session, now: datetime, stale_signoffs: Collection[str] | None = None,
            require_signoffs: bool = True, *, keys: Collection[str] | None = None) -> Verdict:
    """The verdict the rules give for ``session`` at ``now``.

    - NO GO: a critical item failed, errored, is pending, blocked or stale; or a required sign-off
      is missing (or stale: made before a later change).
    - CONDITIONAL GO: only non-critical items failed, warned or are not done, or items were waived.
    - GO: everything required passed.
    - not run yet: no judged item was observed (ran, ticked or waived); the reasons still say
      what is outstanding.
    Items the checklist no longer has (``removed``, kept by drift for the record) do not count.
    ``stale_signoffs`` are the roles whose sign-off approved content that changed since; None
    works them out from the session's hashes. ``require_signoffs=False`` judges the checks
    alone, and ``keys`` only those items (sign-offs are no part of either): the verdict's
    ``scope`` says so, and its :attr:`Verdict.label` names it.
    """
    no_go: list[Reason] = []
    conditional: list[Reason] = []
    issues = 0
    judged = 0
    observed = False
    wanted = set(keys) if keys is not None else None
    for state, status in session.effective(now):
        if state.removed:
            continue  # no longer in the checklist: kept for the record, no part of this release
        if wanted is not None and state.key not in wanted:
            continue
        judged += 1
        observed = observed or status not in _UNOBSERVED
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
    scope = ITEMS if wanted is not None else RELEASE if require_signoffs else CHECKS
    if scope == RELEASE:
        if stale_signoffs is None:
            from predeploy_tui.core import integrity  # it imports the session model, not this

            stale_signoffs = integrity.stale_signoffs(session)
        no_go += _signoff_reasons(session, stale_signoffs)
    if not observed:
        return Verdict(NOT_RUN, NOT_ASSESSED, tuple(no_go + conditional), scope, judged)
    if no_go:
        return Verdict(NO_GO, "high", tuple(no_go + conditional), scope, judged)
    if conditional:
        risk = "high" if issues >= 3 else "medium"
        return Verdict(CONDITIONAL_GO, risk, tuple(conditional), scope, judged)
    return Verdict(GO, "low", (), scope, judged)


def _signoff_reasons(session: Session, stale: Collection[str]) -> list[Reason]:
    out = []
    for role in session.required_roles():
        signed = session.signoff(role.role)
        if signed is None:
            out.append(Reason(NO_GO, f"signoff:{role.role}", f"sign-off missing: {role.title}"))
        elif role.role in stale:
            out.append(Reason(NO_GO, f"signoff:{role.role}",
                              f"sign-off stale: {role.title} by {signed.name} was made "
                              "before a later change"))
    return out
