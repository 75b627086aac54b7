"""Builds a finished demo session through the core APIs, with fixed times."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from predeploy_tui.core import integrity
from predeploy_tui.core.checklist import Checklist, load_checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Decision, Session, SignOff, new_session
from predeploy_tui.core.verdict import suggest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "checklists" / "demo.yaml"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    """A fixed time ``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)


@functools.cache
def demo_checklist() -> Checklist:
    """The bundled demo checklist."""
    return load_checklist(DEMO)


def baseline(mean_times: dict[str, float]) -> dict[str, object]:
    """A pg_stat_statements baseline as the postgres check records it."""
    return {"baseline": {q: {"calls": 10, "mean_exec_time": t} for q, t in mean_times.items()},
            "baseline_key": "query", "baseline_metric": "mean_exec_time"}


def run_demo(session: Session, *, broken: Status = Status.FAIL, data: object = None) -> None:
    """Record a result for every check item, tick the manual one, waive the broken one."""
    minute = 1.0
    for key, state in session.items.items():
        if state.kind == "manual":
            session.set_manual(key, Status.DONE, "Ana Deployer", at(minute), note="read the changelog")
        elif state.kind == "action":
            result = CheckResult(Status.PASS, "tag written", "release 1.0.0\r\n", 0,
                                 at(minute), at(minute + 0.1), by="Ana Deployer")
            session.record_result(key, result, at(minute + 0.1))
        elif key == "network.broken":
            result = CheckResult(broken, "replicas ready: 1 (needs >= 3)",
                                 "replicas ready: 1 of 3\n", 1, at(minute), at(minute + 0.2),
                                 by="Ana Deployer")
            session.record_result(key, result, at(minute + 0.2))
        else:
            result = CheckResult(Status.PASS, f"{state.title}: ok", f"output of {key}\n", 0,
                                 at(minute), at(minute + 0.5), host=None,
                                 data=data if key == "local.python" else {"value": 42},
                                 by="Ana Deployer", output_sha256="ab" * 32)
            session.record_result(key, result, at(minute + 0.5))
        minute += 1
    session.set_note("local.disk", "root volume only", at(minute))


def finished_session(*, data: object = None, sign: bool = True,
                     checklist_path: str = str(DEMO)) -> Session:
    """The demo run through: results, a waiver, a note, a sign-off and a decision."""
    checklist = demo_checklist()
    session = new_session(checklist, {"version": "1.4.2", "env": "staging"},
                          {"date": "2024-05-01", "deployer": "Ana Deployer",
                           "reviewer": "Rui Reviewer"}, T0, checklist_path=checklist_path)
    run_demo(session, data=data)
    session.waive("network.broken", "replica set scales after deploy", "Bo Approver",
                  "Ana Deployer", at(30))
    reviewer = CheckResult(Status.PASS, "reviewer re-run", "ok\n", 0, at(31), at(32),
                           by="Rui Reviewer", role="reviewer")
    session.record_result("local.uname", reviewer, at(32))
    if sign:
        signoff = integrity.seal_signoff(session, SignOff("engineering", "Engineering lead approval",
                                                          "Eve Lead", at(40), "looks good"))
        session.sign(signoff, at(40))
        verdict = suggest(session, at(41))
        decision = integrity.seal_decision(session, Decision(
            status=verdict.status, suggested=verdict.status, notes="broken check waived; watch "
            "replicas", risk=verdict.risk, suggested_risk=verdict.risk,
            completed_by="Ana Deployer", completed_at=at(41)))
        session.decide(decision, at(41))
    return session


def resign(session: Session, role: str, name: str, when: datetime) -> SignOff:
    """A fresh sealed sign-off for ``role``."""
    title = next(r.title for r in session.signoff_roles if r.role == role)
    signoff = integrity.seal_signoff(session, SignOff(role, title, name, when))
    session.sign(signoff, when)
    return replace(signoff)
