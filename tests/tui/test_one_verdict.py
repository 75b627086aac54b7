"""One verdict on every surface: sessions in many states, read back through each of them.

The app's header, ``show``, ``verify``, the JSON / markdown / JUnit exports and the line and exit
code a ``run`` ends with must all give the same suggested verdict and risk for the same file.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from textual.widgets import Static

from predeploy_tui import cli
from predeploy_tui.core import store
from predeploy_tui.core.checklist import load_checklist
from predeploy_tui.core.integrity import seal_signoff
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Session, SignOff, new_session
from predeploy_tui.core.verdict import EXIT_CODES
from predeploy_tui.engine.headless import outcome
from predeploy_tui.tui.app import PredeployApp
from predeploy_tui.tui.launch import open_session

from .conftest import Clock

TINY = Path(__file__).resolve().parents[1] / "core" / "data" / "tiny.yaml"
CHECKLIST = load_checklist(TINY)
KEYS = [i.key for i in CHECKLIST.items()]
KINDS = {i.key: i.kind for i in CHECKLIST.items()}
ROLES = [s.role for s in CHECKLIST.signoffs]
CHECK_STATES = ["pending", "pass", "old-pass", "warn", "fail", "error", "skipped", "blocked",
                "waived", "expired-waiver"]
MANUAL_STATES = ["pending", "done", "fail", "n/a", "waived"]
SUGGESTED = re.compile(r"Suggested: (.+)$", re.M)


@st.composite
def session_states(draw: st.DrawFn) -> dict[str, object]:
    """What happened to each item, which are critical, who signed, and when."""
    return {
        "items": {k: draw(st.sampled_from(MANUAL_STATES if KINDS[k] == "manual" else CHECK_STATES))
                  for k in KEYS},
        "critical": {k: draw(st.booleans()) for k in KEYS},
        "major": draw(st.booleans()),
        # missing; signed before a later change (stale); signed after it (intact)
        "signoffs": {r: draw(st.sampled_from(["missing", "before", "after"])) for r in ROLES},
        "change_after_signing": draw(st.booleans()),
    }


def build(state: dict[str, object], path: Path, now: datetime) -> Session:
    """The session ``state`` describes, saved at ``path``; times are far from every boundary."""
    early, recent = now - timedelta(hours=10), now - timedelta(hours=1)  # fresh_for is 8h
    session = new_session(CHECKLIST, {"version": "1.2.3"},
                          {"date": "2026-03-01", "deployer": "Dana", "reviewer": "Rae"},
                          early - timedelta(hours=1), flags={"major": bool(state["major"])},
                          checklist_path=os.path.relpath(TINY, path.parent))
    items: dict[str, str] = state["items"]  # type: ignore[assignment]
    critical: dict[str, bool] = state["critical"]  # type: ignore[assignment]
    for key, what in items.items():
        session.items[key].critical = critical[key]
        at = early if what == "old-pass" else recent
        if what == "waived":
            session.waive(key, "known issue", "Bo Approver", "Dana", recent)
        elif what == "expired-waiver":
            session.record_result(key, _result(Status.FAIL, early), early)
            session.waive(key, "known issue", "Bo Approver", "Dana", early,
                          expires=now - timedelta(minutes=30))
        elif what in ("done", "n/a") or (what == "fail" and KINDS[key] == "manual"):
            session.set_manual(key, Status(what), "Dana", at)
        elif what != "pending":
            session.record_result(key, _result(Status(what.removeprefix("old-")), at), at)
    signoffs: dict[str, str] = state["signoffs"]  # type: ignore[assignment]
    _sign(session, [r for r, w in signoffs.items() if w == "before"], recent)
    if state["change_after_signing"]:
        session.set_note(KEYS[0], "changed after signing", recent + timedelta(minutes=1))
    _sign(session, [r for r, w in signoffs.items() if w == "after"], recent + timedelta(minutes=2))
    path.parent.mkdir(parents=True, exist_ok=True)
    store.save(session, path)
    return session


def _result(status: Status, at: datetime) -> CheckResult:
    return CheckResult(status, f"it went {status}", started=at - timedelta(seconds=1),
                       finished=at, by="Dana")


def _sign(session: Session, roles: list[str], at: datetime) -> None:
    titles = {s.role: s.title for s in CHECKLIST.signoffs}
    for role in roles:
        session.sign(seal_signoff(session, SignOff(role, titles[role], f"{role} lead", at)), at)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code in (0, 1), err  # verify says 1 for a stale sign-off; nothing else may fail
    return out


async def _app(path: Path, now: datetime) -> tuple[str, str]:
    """What the app's header and its decision screen suggest for the session file."""
    opened = open_session(path, clock=Clock(now), read_only=True)
    app = PredeployApp(opened, clock=Clock(now))
    async with app.run_test(size=(160, 30)) as pilot:
        await pilot.pause()
        await pilot.pause()
        header = str(app.screen.query_one("#standing", Static).render())
        await pilot.press("d")
        await pilot.pause()
        decision = str(app.screen.query_one("#suggested", Static).render())
    match = re.search(r"suggested (.+? \(risk: [^)]*\))", header)
    assert match is not None, header
    return match.group(1), decision.removeprefix("Suggested: ")


@seed(11)
@settings(max_examples=50, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(state=session_states())
def test_every_surface_gives_the_same_verdict(state: dict[str, object], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    path = tmp_path / "sessions" / "tiny.toml"
    session = build(state, path, now)
    # The run's last lines and exit code, as `predeploy run` prints them.
    verdict, lines = outcome(store.load(path), now, None)
    said = lines[0].removeprefix("Suggested: ")
    assert said == verdict.line()
    assert verdict.exit_code == EXIT_CODES[verdict.status]
    # show and verify print it the same way.
    shown = SUGGESTED.findall(_cli(capsys, "show", str(path)))
    assert shown == [said]
    verified = SUGGESTED.findall(_cli(capsys, "verify", str(path)))
    assert verified == [said]
    # Every export carries it.
    report = json.loads(_cli(capsys, "export", "--format", "json", str(path)))["verdict"]
    assert (report["line"], report["status"], report["risk"], report["exit_code"]) == \
        (said, verdict.status, verdict.risk, verdict.exit_code)
    markdown = _cli(capsys, "export", "--format", "markdown", str(path))
    assert f"Suggested verdict: **{verdict.label}** (risk: {verdict.risk})" in markdown
    junit = ET.fromstring(_cli(capsys, "export", "--format", "junit", str(path)))
    assert {p.get("value") for p in junit.iter("property")
            if p.get("name") == "predeploy.verdict"} == {said}
    # The app's header and decision screen, from the same file.
    assert asyncio.run(_app(path, now)) == (said, said)
    # And nothing observed is never a verdict.
    observed = any(s not in ("pending", "skipped", "blocked") for s in session_statuses(session))
    assert (verdict.status == "not run yet") == (not observed)


def session_statuses(session: Session) -> list[str]:
    now = datetime.now(UTC)
    return [status.value for _, status in session.effective(now)]
