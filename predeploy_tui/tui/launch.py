"""Provides the ways into the app: open a session file, or start a new session of a checklist."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from predeploy_tui.core import store
from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.provenance import deployer_code_changes
from predeploy_tui.engine import session_file
from predeploy_tui.tui.state import Clock, Mode, NewSessionAnswers, OpenSession, utc_now


def open_session(path: Path, *, review: bool = False, read_only: bool = False,
                 variables: Mapping[str, str] | None = None, person: str = "",
                 clock: Clock = utc_now) -> OpenSession:
    """Load a session for the app: locked for editing, or read-only saying who holds it.

    Checks that were running when the last app died are recorded as interrupted, at once.
    """
    notices: list[str] = []
    interrupted: tuple[str, ...] = ()
    lock: store.SessionLock | None = None
    if read_only:
        session = store.load(path)
    else:
        try:
            opened = session_file.open_existing(path, now=clock)
        except store.SessionLocked as exc:
            session, read_only = store.load(path), True
            notices.append(f"read-only: {exc}")
        else:
            session, lock, interrupted = opened.session, opened.lock, tuple(opened.interrupted)
    try:
        mode = Mode.READ_ONLY if read_only else (
            Mode.REVIEW if review or session.decision.status else Mode.EDIT)
        checklist, why = session_file.checklist_of(path, session.checklist_path,
                                                   session.checklist_sha256)
        if why:
            notices.append(why)
        elif checklist is not None and checklist.sha256 != session.checklist_sha256:
            notices.append("the checklist changed since this session began")
        if checklist is not None:
            changed = deployer_code_changes(session.items.values(), checklist.folder)
            if changed:
                notices.append(f"site code changed since the deployer ran it: "
                               f"{len({c.path for c in changed})} file(s) behind "
                               f"{len({c.key for c in changed})} item(s)")
        values = {k: v for k, v in session.variables.items() if k not in session.secret_variables}
        values.update(variables or {})
        who = person or (session.header.get("reviewer") if mode is Mode.REVIEW
                         else session.header.get("deployer")) or session_file.default_person()
        if mode is Mode.REVIEW and not review:
            notices.append("review mode: the session is decided")
        if not person and mode is not Mode.READ_ONLY:
            notices.append(f"no --as: {who} is the session's "
                           f"{'reviewer' if mode is Mode.REVIEW else 'deployer'}")
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return OpenSession(session, path, checklist, who, mode, values, lock, "; ".join(notices),
                       interrupted)


def session_maker(checklist: Checklist, checklist_file: Path, *, session_path: Path | None,
                  clock: Clock = utc_now) -> NewSessionMaker:
    """The function that turns the new-session form's answers into an opened, saved session."""
    return NewSessionMaker(checklist, checklist_file, session_path, clock)


class NewSessionMaker:
    """Creates, locks and saves a session from the form (see ``engine.session_file`` for names)."""

    def __init__(self, checklist: Checklist, checklist_file: Path, session_path: Path | None,
                 clock: Clock) -> None:
        self.checklist = checklist
        self.checklist_file = checklist_file
        self.session_path = session_path
        self.clock = clock

    def __call__(self, answers: NewSessionAnswers) -> OpenSession:
        opened = session_file.create(self.checklist, self.checklist_file,
                                     variables=answers.variables, header=answers.header,
                                     now=self.clock(), flags={"major": answers.major},
                                     path=self.session_path)
        return OpenSession(opened.session, opened.path, self.checklist, answers.header["deployer"],
                           Mode.EDIT, dict(answers.variables), opened.lock)


def run_app(app: object) -> int:
    """Run the app; whatever happens, write pending changes and release the lock."""
    from predeploy_tui.tui.app import PredeployApp

    assert isinstance(app, PredeployApp)
    try:
        app.run()
    finally:
        if app.has_session:
            try:
                app.saver.flush()
            finally:
                if app.opened.lock is not None:
                    app.opened.lock.release()
    return app.return_code or 0
