"""Provides small checklists and sessions for the core tests, built through the real loader."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from predeploy_tui.core.checklist import Checklist, parse_checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session, SignOff, new_session

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
"""A fixed moment the tests start from."""

CHECKLIST_FILE = Path(__file__).parent / "data" / "tiny.yaml"
"""A small checklist with every item kind, a sub-item group, a dependency and two sign-offs."""
CHECKLIST = CHECKLIST_FILE.read_text(encoding="utf-8")


def tiny_checklist(text: str = CHECKLIST) -> Checklist:
    """The tiny checklist, read by the real loader."""
    return parse_checklist(text.encode(), "tiny.yaml")


def tiny_session(flags: Mapping[str, bool] | None = None, deployer: str = "Dana Deployer") \
        -> Session:
    """A fresh session of the tiny checklist, version 1.2.3 on staging."""
    return new_session(tiny_checklist(), {"version": "1.2.3"},
                       {"date": "2026-03-01", "deployer": deployer, "reviewer": "Rae Reviewer"},
                       T0, flags=flags)


def result(status: Status, at: datetime = T0, by: str = "Dana Deployer", role: str = "deployer",
           summary: str = "") -> CheckResult:
    """A finished check run at ``at``."""
    return CheckResult(status, summary or f"it went {status}", output="ok\n", exit_code=0,
                       started=at - timedelta(seconds=2), finished=at, by=by, role=role)


def all_green(session: Session, at: datetime = T0) -> Session:
    """Every check passed and every manual item ticked done, at ``at``."""
    for state in session.items.values():
        if state.kind == "manual":
            session.set_manual(state.key, Status.DONE, "Dana Deployer", at)
        else:
            session.record_result(state.key, result(Status.PASS, at), at)
    return session


def sign_all(session: Session, at: datetime = T0) -> Session:
    """Every role of the session signed at ``at``, each sign-off sealed as every surface seals it."""
    from predeploy_tui.core.integrity import seal_signoff

    for role in session.signoff_roles:
        session.sign(seal_signoff(session, SignOff(role.role, role.title, f"{role.role} lead", at)),
                     at)
    return session
