"""Provides the session: the state of one run through a checklist, and the rules that govern it.

Nothing here reads the clock: every change takes ``now`` from the caller, so the rules are
testable and the same session replays the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from predeploy_tui.core.checklist import Checklist, Item, SignoffRole
from predeploy_tui.core.results import (
    INTERRUPTED,
    MANUAL_STATUSES,
    CheckResult,
    HistoryEntry,
    Status,
    Waiver,
)
from predeploy_tui.core.vocab import ItemKind, Role, VerdictStatus, words

SCHEMA_VERSION = 1
"""The session file format version this code writes and reads."""

HEADER_FIELDS = ("date", "version", "deployer", "reviewer")
"""The seed's header lines, in order."""

SEAL_SIGNOFF = "seal:signoff"
"""The ``covered`` entry that seals a sign-off's own record (see ``integrity.signoff_seal``)."""
SEAL_DECISION = "seal:decision"
"""The ``covered`` entry that seals the decision's own record."""
CHAIN_BEFORE = "chain:before"
"""The ``covered`` entry holding :func:`approvals_digest` of the approvals made before this one."""


class SessionRuleError(ValueError):
    """A change the session's rules do not allow (a waiver without reason, an unknown item...)."""



RENDERED = "_toml_items"
"""The attribute of a :class:`Session` holding its items' last rendered tables (not a field)."""
RENDERED_CHECKS = "_toml_checks"
"""The attribute of a :class:`Session` holding its items' last rendered check tables (not a field)."""

PARTIAL_KEEP = 8_000
"""Characters of a running check's output kept in the session as it streams (its tail): enough to
see how far a killed run got, little enough that 200 streaming checks do not bloat each save."""

@dataclass
class ItemState:
    """Everything recorded about one item, self-contained for a reviewer without the checklist."""

    key: str
    """The item key: ``section.item``."""
    title: str
    """The item's title as it was when the session began."""
    kind: ItemKind
    """check, manual or action."""
    critical: bool = False
    """Copied from the checklist."""
    section: str = ""
    """Section key."""
    group: str = ""
    """Group title."""
    depends_on: tuple[str, ...] = ()
    """Prerequisite item keys."""
    fresh_for: float | None = None
    """Seconds a pass stays fresh (None: forever); a ``quantity.Seconds`` keeps the text written."""
    check: dict[str, Any] | None = None
    """The check as resolved and run (secrets masked), or as written before the first run."""
    status: Status = Status.PENDING
    """The recorded status (stale is derived from it and the time)."""
    by: str = ""
    """Who set the status last."""
    at: datetime | None = None
    """When the status was set (UTC)."""
    note: str = ""
    """Free text from the deployer."""
    runs: list[CheckResult] = field(default_factory=list)
    """Every check run, oldest first, deployer's and reviewer's (see ``CheckResult.role``)."""
    history: list[HistoryEntry] = field(default_factory=list)
    """Manual status changes and waivers, oldest first."""
    waiver: Waiver | None = None
    """The waiver in force, if the item is waived."""
    review_note: str = ""
    """The reviewer's note on this item."""
    removed: bool = False
    """The checklist no longer has this item (drift): kept with everything recorded about it."""
    description: str = ""
    """The checklist's instructions for the item (markdown), as they were when the session began."""
    partial_output: str = ""
    """The tail of what a running check printed so far (redacted), saved as it streams: a run cut
    short by a kill keeps it as its evidence of how far it got. Empty when nothing runs."""

    def changes_by_itself_at(self) -> datetime | None:
        """When the effective status changes with no one acting: a pass goes stale or a waiver
        runs out (None: never). Screens redraw then, not on the next reopen."""
        if self.status is Status.WAIVED and self.waiver is not None:
            return self.waiver.expires
        if self.status in (Status.PASS, Status.WARN) and self.fresh_for is not None \
                and self.at is not None:
            return self.at + timedelta(seconds=self.fresh_for)
        return None

    def effective_status(self, now: datetime) -> Status:
        """The status to show and judge by at ``now``: stale passes and expired waivers count."""
        if self.status is Status.WAIVED and self.waiver is not None \
                and self.waiver.expires is not None and now >= self.waiver.expires:
            return Status.PENDING if self.result is None else self.result.status
        if self.status in (Status.PASS, Status.WARN) and self.fresh_for is not None \
                and self.at is not None and now - self.at > timedelta(seconds=self.fresh_for):
            return Status.STALE
        return self.status

    @property
    def result(self) -> CheckResult | None:
        """The deployer's latest check result: reviewer re-runs never replace it, and neither
        does a run that was cancelled or interrupted (it stays in ``runs`` as such)."""
        for run in reversed(self.runs):
            if run.role != Role.REVIEWER and not run.cut_short:
                return run
        return None

    @property
    def last_run(self) -> CheckResult | None:
        """The deployer's latest run, even one cut short (what the last attempt did)."""
        for run in reversed(self.runs):
            if run.role != Role.REVIEWER:
                return run
        return None

    @property
    def reviewer_disagrees(self) -> Status | None:
        """The status of the reviewer's latest re-run when it differs from the deployer's result
        (None when they agree or the reviewer re-ran nothing)."""
        mine = [r for r in self.runs if r.role == Role.REVIEWER and not r.cut_short]
        if not mine:
            return None
        theirs = self.result
        if theirs is not None and theirs.status is mine[-1].status:
            return None
        return mine[-1].status

    def restore_result(self) -> None:
        """Put back the status the item had before a run that was cut short.

        A run cancelled or interrupted judged nothing: a pass before it is still a pass (and
        goes stale from when it passed), a waiver still stands, and an item never judged is
        pending again, never an error nor a pass.
        """
        if self.waiver is not None:  # any judged run clears the waiver: it was waived before
            self.status, self.by, self.at = Status.WAIVED, self.waiver.by, self.waiver.at
        elif (previous := self.result) is not None:
            self.status, self.by, self.at = previous.status, previous.by, previous.finished
        else:
            self.status, self.by, self.at = Status.PENDING, "", None

    @property
    def reviewer_runs(self) -> list[CheckResult]:
        """Runs made by a reviewer, kept apart from the deployer's evidence."""
        return [r for r in self.runs if r.role == Role.REVIEWER]


@dataclass
class SignOff:
    """An approval of the release by a role."""

    role: str
    """The role id from the checklist."""
    title: str
    """What was approved."""
    name: str
    """Who signed."""
    at: datetime
    """When (UTC)."""
    comment: str = ""
    """Optional comment."""
    content_sha256: str = ""
    """Hash of the session content that was approved (see ``integrity.content_hash``)."""
    covered: dict[str, str] = field(default_factory=dict)
    """Hash of each part of the content at signing, so a later change can be named."""
    signature: str = ""
    """An SSH signature (armored) of content_sha256, when signatures are used."""
    signer_key: str = ""
    """The public key fingerprint that made the signature."""


@dataclass
class Decision:
    """The GO / CONDITIONAL GO / NO GO decision and its context."""

    status: str = ""
    """The decision made by a person, empty until made."""
    suggested: str = ""
    """What the tool suggested when the decision was made."""
    justification: str = ""
    """Required when the decision differs from the suggestion."""
    notes: str = ""
    """Notes / issues, as in the seed."""
    risk: str = ""
    """low, medium or high."""
    suggested_risk: str = ""
    """The risk the tool suggested."""
    completed_by: str = ""
    """Checklist completed by."""
    completed_at: datetime | None = None
    """Date/time completed (UTC)."""
    reviewed_by: str = ""
    """Reviewed by."""
    reviewed_at: datetime | None = None
    """Review date/time (UTC)."""
    review_notes: str = ""
    """The reviewer's overall notes."""
    content_sha256: str = ""
    """Hash of the content the decision was made on."""
    covered: dict[str, str] = field(default_factory=dict)
    """Per-part hashes at decision time."""


@dataclass
class Session:
    """One run through a checklist: header, variables, every item's state, sign-offs, decision."""

    checklist_id: str
    """The checklist's id."""
    checklist_title: str
    """The checklist's title."""
    checklist_path: str
    """Where the checklist was read from, relative to the session file where possible."""
    checklist_sha256: str
    """Hash of the checklist file when the session began (drift is measured against it)."""
    created: datetime
    """When the session began (UTC)."""
    updated: datetime
    """When it was last changed (UTC)."""
    header: dict[str, str] = field(default_factory=dict)
    """date, version, deployer, reviewer."""
    flags: dict[str, bool] = field(default_factory=dict)
    """Header flags such as ``major`` (which makes the product owner's sign-off required)."""
    variables: dict[str, str] = field(default_factory=dict)
    """Variable values; secret ones are never stored (their name maps to ``***``)."""
    secret_variables: tuple[str, ...] = ()
    """Names of variables whose values are secret."""
    items: dict[str, ItemState] = field(default_factory=dict)
    """Item states in checklist order."""
    section_titles: dict[str, str] = field(default_factory=dict)
    """Section key -> the checklist's section title, so the file reads without the checklist."""
    signoff_roles: list[SignoffRole] = field(default_factory=list)
    """The checklist's sign-off roles (role, title, required, required_when), self-contained."""
    signoffs: list[SignOff] = field(default_factory=list)
    """Sign-offs in the order they were made."""
    decision: Decision = field(default_factory=Decision)
    """The decision."""
    approvals_sha256: str = ""
    """:func:`approvals_digest` of the approvals that exist, set by ``sign`` and ``decide`` only:
    removing or reordering a sign-off, or removing the decision, no longer adds up to it."""
    schema: int = SCHEMA_VERSION
    """File format version."""

    def __post_init__(self) -> None:
        # Where the writer keeps each item's last rendered table (session_toml._item_table): no
        # field, so never compared, shown or copied by replace(); one dict that copy.copy shares,
        # so what the autosave renders from a snapshot on its thread serves this session next.
        self.__dict__[RENDERED] = {}
        self.__dict__[RENDERED_CHECKS] = {}

    # -- reading ---------------------------------------------------------------------------

    def item(self, key: str) -> ItemState:
        """The state of an item, or SessionRuleError naming the unknown key."""
        try:
            return self.items[key]
        except KeyError:
            raise SessionRuleError(f"no item {key!r} in this session") from None

    def effective(self, now: datetime) -> Iterator[tuple[ItemState, Status]]:
        """Each item with its status at ``now``."""
        for state in self.items.values():
            yield state, state.effective_status(now)

    def next_change(self, now: datetime) -> datetime | None:
        """The first moment after ``now`` at which an item's effective status changes by itself."""
        moments = [at for state in self.items.values()
                   if (at := state.changes_by_itself_at()) is not None and at >= now]
        return min(moments, default=None)

    def counts(self, now: datetime) -> dict[Status, int]:
        """How many items are in each status at ``now``."""
        out: dict[Status, int] = {}
        for _, status in self.effective(now):
            out[status] = out.get(status, 0) + 1
        return out

    def required_roles(self) -> list[SignoffRole]:
        """Sign-off roles required for this session (product only for a major release)."""
        return [role for role in self.signoff_roles if role.is_required(self.flags)]

    def signoff(self, role: str) -> SignOff | None:
        """The latest sign-off for a role."""
        for signoff in reversed(self.signoffs):
            if signoff.role == role:
                return signoff
        return None

    # -- changing --------------------------------------------------------------------------

    def _touch(self, now: datetime) -> None:
        self.updated = now

    def record_result(self, key: str, result: CheckResult, now: datetime) -> None:
        """Store a finished check run; a reviewer's run never replaces the deployer's result, and
        a cancelled one keeps the result the item had (the run stays in history as cancelled)."""
        state = self.item(key)
        state.runs.append(result)
        if result.role == Role.REVIEWER:
            self._touch(now)
            return
        if result.cut_short:
            state.partial_output = ""
            state.restore_result()
            self._touch(now)
            return
        state.status = result.status
        state.by = result.by
        state.at = result.finished or now
        state.partial_output = ""
        if state.status is not Status.WAIVED:
            state.waiver = None
        self._touch(now)

    def mark_running(self, key: str, by: str, now: datetime) -> None:
        """Record that a check started, so a crash leaves it visibly interrupted."""
        state = self.item(key)
        state.status = Status.RUNNING
        state.by = by
        state.at = now
        state.partial_output = ""
        self._touch(now)

    def note_output(self, key: str, text: str, now: datetime) -> bool:
        """Keep the tail of a running check's output (redacted text, as shown), at most
        :data:`PARTIAL_KEEP` characters; False when the item is not running (nothing kept)."""
        state = self.item(key)
        if state.status is not Status.RUNNING or not text:
            return False
        kept = state.partial_output + text
        state.partial_output = kept[-PARTIAL_KEEP:]
        self._touch(now)
        return True

    def interrupt_running(self, now: datetime) -> list[str]:
        """Record every ``running`` item's run as interrupted (on reopen) and put back the result
        it had; the run is measured to the session's last saved change, not to ``now``."""
        keys = []
        last_saved = self.updated
        for state in self.items.values():
            if state.status is Status.RUNNING:
                started = state.at
                finished = max(last_saved, started) if started is not None else last_saved
                state.runs.append(CheckResult(Status.ERROR, INTERRUPTED, output=state.partial_output,
                                              started=started, finished=finished, by=state.by))
                state.partial_output = ""
                state.restore_result()
                keys.append(state.key)
        if keys:
            self._touch(now)
        return keys

    def set_manual(self, key: str, status: Status, by: str, now: datetime, note: str = "") -> None:
        """A person ticks a manual item done, failed or not applicable (or resets it)."""
        state = self.item(key)
        if state.kind != ItemKind.MANUAL:
            raise SessionRuleError(f"{key} is a {state.kind} item; only manual items are ticked "
                                   "by hand (waive it instead)")
        if status not in (*MANUAL_STATUSES, Status.PENDING):
            raise SessionRuleError(f"a manual item can be done, fail, n/a or pending, not {status}")
        state.status, state.by, state.at = status, by, now
        state.waiver = None
        state.history.append(HistoryEntry(status, by, now, note))
        if note:
            state.note = note
        self._touch(now)

    def waive(self, key: str, reason: str, approver: str, by: str, now: datetime,
              expires: datetime | None = None) -> None:
        """Accept an item that did not pass: needs a reason and an approver other than the deployer."""
        state = self.item(key)
        if not reason.strip():
            raise SessionRuleError("a waiver needs a reason")
        if not approver.strip():
            raise SessionRuleError("a waiver needs an approver")
        deployer = self.header.get("deployer", "")
        if approver.strip().casefold() in {by.strip().casefold(), deployer.strip().casefold()}:
            raise SessionRuleError("the approver of a waiver must be someone other than the "
                                   f"deployer ({deployer or by})")
        if expires is not None and expires <= now:
            raise SessionRuleError("a waiver's expiry must be in the future")
        state.waiver = Waiver(reason.strip(), approver.strip(), by, now, expires)
        state.status, state.by, state.at = Status.WAIVED, by, now
        state.history.append(HistoryEntry(Status.WAIVED, by, now, reason.strip()))
        self._touch(now)

    def set_note(self, key: str, note: str, now: datetime) -> None:
        """Replace the deployer's note on an item."""
        self.item(key).note = note
        self._touch(now)

    def set_review_note(self, key: str, note: str, now: datetime) -> None:
        """Replace the reviewer's note on an item (outside what sign-offs cover)."""
        self.item(key).review_note = note
        self._touch(now)

    def record_review(self, by: str, notes: str, now: datetime) -> None:
        """Record who reviewed the decision and when, with their notes (outside its seal)."""
        self.decision.reviewed_by, self.decision.reviewed_at = by, now
        self.decision.review_notes = notes
        self._touch(now)

    def set_header(self, field_name: str, value: str, now: datetime) -> None:
        """Change a header field."""
        if field_name not in HEADER_FIELDS:
            raise SessionRuleError(f"unknown header field {field_name!r}")
        self.header[field_name] = value
        self._touch(now)

    def sign(self, signoff: SignOff, now: datetime) -> None:
        """Record a sign-off for a role of the checklist."""
        roles = {r.role for r in self.signoff_roles}
        if signoff.role not in roles:
            raise SessionRuleError(f"no sign-off role {signoff.role!r}; expected one of "
                                   + ", ".join(sorted(roles)))
        if not signoff.name.strip():
            raise SessionRuleError("a sign-off needs the signer's name")
        self.signoffs.append(signoff)
        self.approvals_sha256 = approvals_digest(self.signoffs, self.decision)
        self._touch(now)

    def decide(self, decision: Decision, now: datetime) -> None:
        """Record the decision; one that differs from the suggestion needs a justification."""
        if decision.status not in tuple(VerdictStatus):
            raise SessionRuleError(f"the decision must be {words(VerdictStatus)}")
        if decision.suggested and decision.status != decision.suggested \
                and not decision.justification.strip():
            raise SessionRuleError(f"choosing {decision.status} when {decision.suggested} is "
                                   "suggested needs a written justification")
        self.decision = decision
        self.approvals_sha256 = approvals_digest(self.signoffs, self.decision)
        self._touch(now)


def approvals_digest(signoffs: Sequence[SignOff], decision: Decision | None = None) -> str:
    """The hash of a set of approvals: each sign-off's seal in order, then the decision's.

    ``""`` when there is none. A sign-off's ``chain:before`` holds this of the sign-offs made
    before it, the decision's of the sign-offs made before it, and ``Session.approvals_sha256``
    of all of them: the approval chain that ``integrity.check`` walks.
    """
    seals = [s.covered.get(SEAL_SIGNOFF, "") for s in signoffs]
    if decision is not None and decision.status:
        seals.append("decision:" + decision.covered.get(SEAL_DECISION, ""))
    if not seals:
        return ""
    return hashlib.sha256("\n".join(seals).encode("utf-8")).hexdigest()


def new_session(checklist: Checklist, variables: Mapping[str, str], header: Mapping[str, str],
                now: datetime, flags: Mapping[str, bool] | None = None,
                checklist_path: str | None = None) -> Session:
    """A fresh session of ``checklist``; variables are validated as the checklist says."""
    problems = []
    values: dict[str, str] = {}
    for var in checklist.variables:
        value = variables.get(var.name, var.default or "")
        problem = var.problem(value)
        if problem:
            problems.append(problem)
        values[var.name] = value
    unknown = sorted(set(variables) - set(values))
    if unknown:
        problems.append("unknown variable(s): " + ", ".join(unknown) + " (the checklist declares "
                        + (", ".join(v.name for v in checklist.variables) or "none") + ")")
    if problems:
        raise SessionRuleError("; ".join(problems))
    secret = tuple(v.name for v in checklist.variables if v.secret)
    stored = {k: ("***" if k in secret else v) for k, v in values.items()}
    session = Session(
        checklist_id=checklist.id, checklist_title=checklist.title,
        checklist_path=checklist_path if checklist_path is not None else checklist.path,
        checklist_sha256=checklist.sha256, created=now, updated=now,
        header={f: header.get(f, "") for f in HEADER_FIELDS},
        flags={"major": False, **(flags or {})}, variables=stored, secret_variables=secret,
        section_titles={s.id: s.title for s in checklist.sections},
        signoff_roles=list(checklist.signoffs),
    )
    if not session.header["version"] and "version" in values:
        session.header["version"] = values["version"]
    for item in checklist.items():
        session.items[item.key] = state_for(item, checklist)
    return session


def state_for(item: Item, checklist: Checklist) -> ItemState:
    """A pending state for a checklist item, holding what a reviewer needs without the checklist."""
    return ItemState(
        key=item.key, title=item.title, kind=item.kind, critical=item.critical,
        section=item.section, group=item.group, depends_on=item.depends_on,
        fresh_for=item.fresh_for if item.fresh_for is not None else checklist.fresh_for,
        check=item.check.as_dict() if item.check else None, description=item.description,
    )
