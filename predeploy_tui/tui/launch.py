"""Provides the ways into the app: open a session file, or start a new session of a checklist."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from predeploy_tui.core import store
from predeploy_tui.core.checklist import Checklist, ChecklistError, load_checklist
from predeploy_tui.core.session import new_session
from predeploy_tui.tui.screens.new_session import NewSessionAnswers
from predeploy_tui.tui.state import Clock, Mode, OpenSession, utc_now


def unique_path(path: Path) -> Path:
    """``path``, or ``name-2.toml``, ``name-3.toml``... the first that does not exist."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def checklist_of(session_path: Path, stored: str) -> tuple[Checklist | None, str]:
    """The session's checklist (its path is relative to the session file), or why it cannot run."""
    if not stored:
        return None, "no checklist recorded: evidence only, checks cannot run"
    path = Path(stored)
    if not path.is_absolute():
        path = session_path.resolve().parent / path
    try:
        return load_checklist(path), ""
    except ChecklistError as exc:
        first = exc.problems[0] if exc.problems else exc
        return None, f"checklist unavailable ({first}): checks cannot run"


def open_session(path: Path, *, review: bool = False, read_only: bool = False,
                 variables: Mapping[str, str] | None = None, person: str = "",
                 clock: Clock = utc_now) -> OpenSession:
    """Load a session for the app: locked for editing, or read-only saying who holds it.

    Checks that were running when the last app died are recorded as interrupted, at once.
    """
    session = store.load(path)
    notices: list[str] = []
    lock: store.SessionLock | None = None
    mode = Mode.REVIEW if review or session.decision.status else Mode.EDIT
    if read_only:
        mode = Mode.READ_ONLY
    else:
        lock = store.SessionLock(path)
        try:
            lock.acquire()
        except store.SessionLocked as exc:
            lock, mode = None, Mode.READ_ONLY
            notices.append(f"read-only: {exc}")
        else:
            # Read again under the lock: the previous holder may have saved between our first
            # read and its release, and our first save must not undo that.
            try:
                session = store.load(path)
            except BaseException:
                lock.release()
                raise
            mode = Mode.REVIEW if review or session.decision.status else Mode.EDIT
    if mode is not Mode.READ_ONLY:
        interrupted = session.interrupt_running(clock())
        if interrupted:
            store.save(session, path)
            notices.append(f"{len(interrupted)} check(s) were interrupted")
    checklist, why = checklist_of(path, session.checklist_path)
    if why:
        notices.append(why)
    elif checklist is not None and checklist.sha256 != session.checklist_sha256:
        notices.append("the checklist changed since this session began")
    values = {k: v for k, v in session.variables.items() if k not in session.secret_variables}
    values.update(variables or {})
    who = person or (session.header.get("reviewer") if mode is Mode.REVIEW
                     else session.header.get("deployer")) or ""
    if not who:
        from predeploy_tui.commands import default_person

        who = default_person()
    return OpenSession(session, path, checklist, who, mode, values, lock, "; ".join(notices))


def session_maker(checklist: Checklist, checklist_file: Path, *, session_path: Path | None,
                  clock: Clock = utc_now) -> NewSessionMaker:
    """The function that turns the new-session form's answers into an opened, saved session."""
    return NewSessionMaker(checklist, checklist_file, session_path, clock)


class NewSessionMaker:
    """Creates, saves and locks a session from the form (a unique file name if one exists)."""

    def __init__(self, checklist: Checklist, checklist_file: Path, session_path: Path | None,
                 clock: Clock) -> None:
        self.checklist = checklist
        self.checklist_file = checklist_file
        self.session_path = session_path
        self.clock = clock

    def __call__(self, answers: NewSessionAnswers) -> OpenSession:
        from predeploy_tui import paths
        from predeploy_tui.commands import relative_to_session

        version = answers.header.get("version", "")
        path = self.session_path or paths.session_path_for(
            self.checklist.id, version, answers.variables.get("env", ""))
        path = unique_path(path)
        session = new_session(self.checklist, answers.variables, answers.header, self.clock(),
                              flags={"major": answers.major},
                              checklist_path=relative_to_session(self.checklist_file, path))
        store.save(session, path)
        lock = store.SessionLock(path)
        lock.acquire()
        return OpenSession(session, path, self.checklist, answers.header["deployer"], Mode.EDIT,
                           dict(answers.variables), lock)


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
