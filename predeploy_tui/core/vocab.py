"""Provides the closed vocabulary of the release record: verdicts, roles, item kinds, app modes.

Each is a ``StrEnum`` whose values are the words already written in session files, JSON exports
and CLI output, so a member is written and compared exactly as the string it replaces.
(Statuses of items have their own enum, :class:`predeploy_tui.core.results.Status`.)
"""

from __future__ import annotations

from enum import StrEnum


class VerdictStatus(StrEnum):
    """The release decision, suggested by the rules or made by a person."""

    GO = "GO"
    """Everything required passed."""
    CONDITIONAL_GO = "CONDITIONAL GO"
    """Only non-critical items failed or warned, or items were waived."""
    NO_GO = "NO GO"
    """A critical item did not pass, or a required sign-off is missing."""


class Suggestion(StrEnum):
    """What the rules can suggest besides a decision: nothing, before anything was observed."""

    NOT_RUN = "not run yet"
    """No check ran and no manual item was settled: no finding to suggest from."""


class Scope(StrEnum):
    """What a suggested verdict judged."""

    RELEASE = "release"
    """The whole release: items and required sign-offs (what every surface shows)."""
    CHECKS = "checks"
    """Every item, sign-offs left out (``run --checks-only``); always printed with its name."""
    ITEMS = "items"
    """Only the items asked for (``run --item`` / ``--section``); always printed as partial."""


class Role(StrEnum):
    """Who a check run is recorded for."""

    DEPLOYER = "deployer"
    """The deployer's evidence: the runs the verdict and sign-offs judge."""
    REVIEWER = "reviewer"
    """A reviewer's re-runs, kept apart from the deployer's evidence."""


class ItemKind(StrEnum):
    """What an item of a checklist is."""

    CHECK = "check"
    """Judged by an automated check."""
    MANUAL = "manual"
    """Ticked by a person."""
    ACTION = "action"
    """A mutating command, run only after a confirmation that shows it."""


class Mode(StrEnum):
    """How a session may be changed where it is opened."""

    EDIT = "edit"
    """The deployer works through the checklist."""
    REVIEW = "review"
    """A reviewer reads everything, adds review notes and may re-run checks as the reviewer."""
    READ_ONLY = "read-only"
    """Nothing changes: the file is locked by someone else, or opened with --read-only."""

    @property
    def role(self) -> Role:
        """The role runs made in this mode are recorded under."""
        return Role.REVIEWER if self is Mode.REVIEW else Role.DEPLOYER


def words(vocab: type[StrEnum], last: str = "or") -> str:
    """The values of ``vocab`` as a list in words: ``GO, CONDITIONAL GO or NO GO``."""
    values = [str(v) for v in vocab]
    return ", ".join(values[:-1]) + f" {last} " + values[-1] if len(values) > 1 else values[0]
