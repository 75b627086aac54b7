"""Provides the app's release-record keys: sign-offs, the decision, review, compare and commit.

Sign-offs and the decision are sealed (``integrity.seal_signoff`` / ``seal_decision``) so that
``predeploy verify`` catches a later edit of the approval record itself, not only of the content.
Loading another session and committing run on worker threads: the UI never waits on the disk or git.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from predeploy_tui.core import integrity
from predeploy_tui.core.session import Decision, SessionRuleError, SignOff
from predeploy_tui.core.vocab import Mode
from predeploy_tui.tui import messages

# The record's screens are imported when first opened: start-up imports only the first screen.
if TYPE_CHECKING:
    from predeploy_tui.core.session import Session
    from predeploy_tui.core.verdict import Verdict
    from predeploy_tui.engine.recorder import SessionSaver
    from predeploy_tui.tui.screens.decision import DecisionForm
    from predeploy_tui.tui.state import Clock, OpenSession


class ReleaseRecord:
    """Approvals and the record's life outside the app, for one open session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "signoffs", "Sign", id="app.signoffs",
                tooltip="Sign off the release as each role"),
        Binding("d", "decision", "Decide", id="app.decision",
                tooltip="The suggested verdict, its reasons, and the GO / NO GO decision"),
        Binding("D", "compare", "Compare", id="compare", show=False,
                tooltip="Compare this session with an earlier one: statuses, thresholds, baselines"),
        Binding("G", "commit", "Commit", id="commit", show=False,
                tooltip="Save and git-commit the session file (refused if it holds a secret)"),
    ]
    """The app's keys for the record; each action calls the method of its name."""

    ACTIONS: ClassVar[frozenset[str]] = frozenset(
        b.action for b in BINDINGS if isinstance(b, Binding))
    """The actions behind ``BINDINGS``: they need a session and the main screen."""

    def __init__(self, app: App[Any], opened: OpenSession, saver: SessionSaver, clock: Clock, *,
                 changed: Callable[[], None], verdict: Callable[[datetime], Verdict],
                 redraw: Callable[[], None]) -> None:
        self.app = app
        self.opened = opened
        self.saver = saver
        self.clock = clock
        self.changed = changed
        """Called after every change to the session (save soon, redraw)."""
        self.verdict = verdict
        """The suggestion at a time, with stale sign-offs counted."""
        self.redraw = redraw
        """Called when a screen of the record closes."""

    # -- sign-offs, decision, review -----------------------------------------------------------

    def sign(self, role: str, name: str, comment: str) -> str | None:
        """Record a sign-off of the content as it is now, sealed."""
        session, now = self.opened.session, self.clock()
        titles = {r.role: r.title for r in session.signoff_roles}
        signoff = integrity.seal_signoff(session, SignOff(role, titles.get(role, role), name.strip(),
                                                          now, comment.strip()))
        try:
            session.sign(signoff, now)
        except SessionRuleError as exc:
            return str(exc)
        self.changed()
        return None

    def decide(self, form: DecisionForm) -> str | None:
        """Record the decision, sealed; Session.decide enforces the justification rule."""
        session, now = self.opened.session, self.clock()
        verdict = self.verdict(now)
        old = session.decision
        decision = integrity.seal_decision(session, Decision(
            status=form.status, suggested=verdict.status, justification=form.justification.strip(),
            notes=form.notes, risk=form.risk, suggested_risk=verdict.risk,
            completed_by=form.completed_by.strip() or self.opened.person, completed_at=now,
            reviewed_by=old.reviewed_by, reviewed_at=old.reviewed_at,
            review_notes=old.review_notes))
        try:
            session.decide(decision, now)
        except SessionRuleError as exc:
            return str(exc)
        self.changed()
        return None

    def record_review(self, notes: str) -> str | None:
        """Record "Reviewed by" and when, with the reviewer's notes (outside the decision's seal)."""
        self.opened.session.record_review(self.opened.person, notes, self.clock())
        self.changed()
        return None

    def signoffs(self) -> None:
        """Open the sign-off screen."""
        from predeploy_tui.tui.screens.signoff import SignoffScreen

        opened = self.opened
        why = "" if opened.can_edit else (
            "Review mode: sign-offs are the deployer's record and are shown, not changed; "
            "record your review with d" if opened.mode is Mode.REVIEW
            else f"Read-only: {opened.notice or 'opened with --read-only'}")
        self.app.push_screen(SignoffScreen(opened.session, opened.person, self.sign,
                                           opened.can_edit, why), lambda _: self.redraw())

    def decision(self) -> None:
        """Open the decision screen."""
        from predeploy_tui.tui.screens.decision import DecisionScreen

        o = self.opened
        self.app.push_screen(DecisionScreen(self.verdict(self.clock()), o.session.decision,
                                            o.person, can_decide=o.can_edit,
                                            review=o.mode == Mode.REVIEW, decide=self.decide,
                                            record_review=self.record_review),
                             self._decided)

    def _decided(self, ref: str | None) -> None:
        self.redraw()
        if ref and ref.startswith("signoff:"):
            self.signoffs()
        elif ref:
            self.app.post_message(messages.JumpToItem(ref))

    # -- compare -------------------------------------------------------------------------------

    def compare(self) -> None:
        """Ask for an earlier session file, then show what changed since it."""
        from predeploy_tui.tui.screens.compare import CompareAsk, newest_other_session

        path = self.opened.path
        self.app.push_screen(CompareAsk(newest_other_session(path), path.parent if path else None),
                             self._compare_with)

    def _compare_with(self, old: Path | None) -> None:
        if old is None:
            return
        self.app.run_worker(partial(self._load_for_compare, old), thread=True, group="compare",
                            name=f"compare with {old.name}", description=str(old),
                            exclusive=True, exit_on_error=False)

    def _load_for_compare(self, old: Path) -> None:
        from predeploy_tui.core import store

        try:
            session = store.load(old)
        except store.SessionFileError as exc:
            first = exc.problems[0] if exc.problems else exc
            self.app.call_from_thread(self.app.notify, f"cannot compare: {first}",
                                      severity="error", timeout=10)
            return
        except OSError as exc:
            self.app.call_from_thread(self.app.notify, f"cannot read {old}: {exc.strerror}",
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self._show_comparison, old, session)

    def _show_comparison(self, old: Path, earlier: Session) -> None:
        from predeploy_tui.core.compare import compare
        from predeploy_tui.tui.screens.compare import CompareScreen

        lines = compare(earlier, self.opened.session).lines()
        self.app.post_message(messages.Compared(old, tuple(lines)))
        self.app.push_screen(CompareScreen(old, lines))

    # -- commit --------------------------------------------------------------------------------

    async def commit(self) -> None:
        """Save now, then commit the session file with git on a worker thread."""
        if self.opened.path is None:
            return
        for worker in [w for w in self.app.workers if w.group == "save"]:
            await worker.wait()
        # Rendered here, on the loop, so the session is not read while it changes.
        text = self.saver.render()
        self.app.run_worker(partial(self._commit, self.opened.path, text), thread=True,
                            group="commit", name="commit session",
                            description=str(self.opened.path), exclusive=True,
                            exit_on_error=False)

    def _commit(self, path: Path, text: str | None) -> None:
        from predeploy_tui.engine.git import CommitRefused, commit_session

        if text is not None:
            self.saver.write(text)
            if self.saver.error:
                self.app.call_from_thread(self.app.notify, f"not committed: {self.saver.error}",
                                          severity="error", timeout=10)
                return
            self.app.call_from_thread(self.saver.saved, self.clock())
        try:
            commit = commit_session(path)
        except CommitRefused as exc:
            self.app.call_from_thread(self.app.notify, f"not committed: {exc}",
                                      severity="error", timeout=10)
            return
        self.app.call_from_thread(self.app.post_message, messages.SessionCommitted(path, commit))
        self.app.call_from_thread(self.app.notify, f"committed {path.name} as {commit[:12]}",
                                  timeout=8)
