"""The suggested verdict, rule by rule, and the session rules it relies on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from predeploy_tui.core.integrity import seal_signoff, stale_signoffs
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Decision, Session, SessionRuleError, SignOff, new_session
from predeploy_tui.core.verdict import CONDITIONAL_GO, GO, NO_GO, NOT_RUN, suggest

from .builders import T0, all_green, result, sign_all, tiny_checklist, tiny_session

LATER = T0 + timedelta(minutes=5)


def green() -> object:
    """A session where everything passed and every required role signed."""
    return sign_all(all_green(tiny_session()))


def resigned(session: Session) -> Session:
    """``session`` signed again after the changes a test made, so no sign-off is stale: these
    tests judge the item rules (a sign-off made before a later change is its own rule, below)."""
    return sign_all(session, LATER)


def refs(verdict: object) -> list[str]:
    return [r.ref for r in verdict.reasons]  # type: ignore[attr-defined]


# -- GO ----------------------------------------------------------------------------------------

def test_all_passed_and_signed_is_go_with_low_risk() -> None:
    verdict = suggest(green(), LATER)
    assert (verdict.status, verdict.risk, verdict.reasons) == (GO, "low", ())
    assert verdict.exit_code == 0


def test_items_removed_from_the_checklist_do_not_count() -> None:
    """Drift keeps a removed item with its record; its failure is no reason against this release."""
    session = green()
    session.record_result("code.tests", result(Status.FAIL, LATER), LATER)
    assert suggest(resigned(session), LATER).status == NO_GO
    session.items["code.tests"].removed = True
    verdict = suggest(resigned(session), LATER)
    assert (verdict.status, verdict.risk, verdict.reasons) == (GO, "low", ())
    # A removed item that is still pending (never run) does not hold the release either.
    pending = sign_all(tiny_session())
    pending.record_result("code.tests", result(Status.PASS, T0), T0)
    for state in pending.items.values():
        state.removed = state.key != "code.tests"
    assert suggest(resigned(pending), T0).status == GO
    # With nothing left to judge, nothing was observed: no GO is suggested.
    pending.items["code.tests"].removed = True
    assert suggest(resigned(pending), T0).status == NOT_RUN


# -- NO GO -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "words"), [
    (Status.FAIL, "failed"), (Status.ERROR, "could not be checked"),
    (Status.BLOCKED, "blocked"), (Status.SKIPPED, "skipped"),
])
def test_critical_item_not_passed_is_no_go(status: Status, words: str) -> None:
    session = green()
    session.record_result("code.tests", result(status, LATER), LATER)
    verdict = suggest(session, LATER)
    assert verdict.status == NO_GO
    assert verdict.risk == "high"
    assert verdict.exit_code == 3
    first = verdict.reasons[0]
    assert first.ref == "code.tests"
    assert first.verdict == NO_GO
    assert "critical" in first.text
    assert "All tests passing" in first.text
    assert words in first.text


def test_critical_item_pending_is_no_go() -> None:
    session = sign_all(tiny_session())
    session.record_result("code.coverage", result(Status.PASS, T0), T0)
    verdict = suggest(session, T0)
    assert verdict.status == NO_GO
    assert verdict.reasons[0].ref == "code.tests"
    assert "still pending" in verdict.reasons[0].text


def test_critical_item_running_is_no_go() -> None:
    session = green()
    session.mark_running("code.tests", "Dana Deployer", LATER)
    assert suggest(session, LATER).reasons[0].text.endswith("is still running")


def test_critical_pass_gone_stale_is_no_go() -> None:
    session = green()
    # fresh_for is 8h for the whole checklist: a pass 9 hours old is stale.
    verdict = suggest(session, T0 + timedelta(hours=9))
    assert verdict.status == NO_GO
    assert "code.tests" in refs(verdict)
    assert "stale" in verdict.reasons[0].text
    assert suggest(session, T0 + timedelta(hours=7)).status == GO


def test_missing_required_signoff_is_no_go() -> None:
    session = all_green(tiny_session())
    verdict = suggest(session, LATER)
    assert verdict.status == NO_GO
    assert refs(verdict) == ["signoff:engineering"]
    assert "Engineering lead approval" in verdict.reasons[0].text
    # A headless run that judges the checks alone can leave sign-offs out.
    assert suggest(session, LATER, require_signoffs=False).status == GO


def test_product_signoff_is_required_only_for_a_major_release() -> None:
    minor = all_green(tiny_session())
    minor.sign(seal_signoff(minor, SignOff("engineering", "Engineering lead approval", "Eve", T0)),
               T0)
    assert suggest(minor, LATER).status == GO

    major = all_green(tiny_session(flags={"major": True}))
    major.sign(seal_signoff(major, SignOff("engineering", "Engineering lead approval", "Eve", T0)),
               T0)
    verdict = suggest(major, LATER)
    assert verdict.status == NO_GO
    assert refs(verdict) == ["signoff:product"]
    major.sign(seal_signoff(major, SignOff("product", "Product owner approval", "Pat", T0)), T0)
    assert suggest(major, LATER).status == GO


def test_stale_signoff_is_no_go() -> None:
    session = all_green(tiny_session())
    session.sign(seal_signoff(session, SignOff("engineering", "Engineering lead approval", "Eve",
                                               T0)), T0)
    assert stale_signoffs(session) == []
    assert suggest(session, LATER, stale_signoffs=stale_signoffs(session)).status == GO
    # A change after the sign-off: the approval no longer covers what is there.
    session.set_note("code.tests", "re-ran after a flaky failure", LATER)
    stale = stale_signoffs(session)
    assert stale == ["engineering"]
    verdict = suggest(session, LATER, stale_signoffs=stale)
    assert verdict.status == NO_GO
    assert refs(verdict) == ["signoff:engineering"]
    assert "stale" in verdict.reasons[0].text
    assert "Eve" in verdict.reasons[0].text


# -- CONDITIONAL GO ----------------------------------------------------------------------------

def test_non_critical_fail_is_conditional_with_medium_risk() -> None:
    session = green()
    session.record_result("code.coverage", result(Status.FAIL, LATER, summary="coverage 71%"), LATER)
    verdict = suggest(resigned(session), LATER)
    assert (verdict.status, verdict.risk) == (CONDITIONAL_GO, "medium")
    assert verdict.exit_code == 4
    assert refs(verdict) == ["code.coverage"]
    assert "Code coverage meets threshold" in verdict.reasons[0].text


def test_manual_item_marked_failed_is_conditional() -> None:
    session = green()
    session.set_manual("code.reviews", Status.FAIL, "Dana Deployer", LATER, note="one approval")
    assert suggest(resigned(session), LATER).status == CONDITIONAL_GO


def test_warn_is_conditional_even_on_a_critical_item() -> None:
    session = green()
    session.record_result("code.tests", result(Status.WARN, LATER), LATER)
    verdict = suggest(resigned(session), LATER)
    assert (verdict.status, verdict.risk) == (CONDITIONAL_GO, "medium")
    assert "warning" in verdict.reasons[0].text


def test_waived_is_conditional_and_names_the_approver() -> None:
    session = green()
    session.record_result("code.tests", result(Status.FAIL, LATER), LATER)
    session.waive("code.tests", "known flaky test, fixed in 1.2.4", "Ana Approver", "Dana Deployer",
                  LATER)
    verdict = suggest(resigned(session), LATER)
    assert verdict.status == CONDITIONAL_GO
    assert refs(verdict) == ["code.tests"]
    assert "waived" in verdict.reasons[0].text
    assert "Ana Approver" in verdict.reasons[0].text


def test_expired_waiver_no_longer_counts() -> None:
    session = green()
    session.record_result("code.tests", result(Status.FAIL, LATER), LATER)
    session.waive("code.tests", "flaky", "Ana Approver", "Dana Deployer", LATER,
                  expires=LATER + timedelta(hours=1))
    assert suggest(resigned(session), LATER + timedelta(minutes=59)).status == CONDITIONAL_GO
    expired = suggest(resigned(session), LATER + timedelta(hours=1))
    assert expired.status == NO_GO
    assert "failed" in expired.reasons[0].text


def test_three_or_more_issues_make_the_risk_high() -> None:
    session = green()
    session.record_result("code.coverage", result(Status.FAIL, LATER), LATER)
    session.set_manual("code.reviews", Status.FAIL, "Dana Deployer", LATER)
    assert suggest(resigned(session), LATER).risk == "medium"
    session.record_result("ops.tag", result(Status.ERROR, LATER), LATER)
    verdict = suggest(resigned(session), LATER)
    assert (verdict.status, verdict.risk) == (CONDITIONAL_GO, "high")
    assert refs(verdict) == ["code.coverage", "code.reviews", "ops.tag"]


def test_no_go_reasons_come_first_and_name_every_item() -> None:
    session = all_green(tiny_session())
    session.record_result("code.coverage", result(Status.FAIL, LATER), LATER)
    session.record_result("code.tests", result(Status.ERROR, LATER), LATER)
    verdict = suggest(session, LATER)
    assert refs(verdict) == ["code.tests", "signoff:engineering", "code.coverage"]
    assert [r.verdict for r in verdict.reasons] == [NO_GO, NO_GO, CONDITIONAL_GO]


# -- session rules -----------------------------------------------------------------------------

def test_waiver_needs_a_reason() -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="reason"):
        session.waive("code.tests", "  ", "Ana Approver", "Dana Deployer", T0)
    assert session.items["code.tests"].status is Status.PENDING


@pytest.mark.parametrize("approver", ["", "Dana Deployer", "dana deployer ", "Sam Someone"])
def test_waiver_approver_must_be_someone_other_than_the_deployer(approver: str) -> None:
    session = tiny_session()
    # Sam records the waiver on the deployer's behalf: Sam cannot approve it either.
    with pytest.raises(SessionRuleError, match="approver"):
        session.waive("code.tests", "flaky", approver, "Sam Someone", T0)
    assert session.items["code.tests"].waiver is None


def test_waiver_expiry_must_be_in_the_future() -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="future"):
        session.waive("code.tests", "flaky", "Ana", "Dana Deployer", T0, expires=T0)
    session.waive("code.tests", "flaky", "Ana", "Dana Deployer", T0, expires=T0 + timedelta(days=1))
    state = session.items["code.tests"]
    assert state.status is Status.WAIVED
    assert state.waiver is not None
    assert state.waiver.approver == "Ana"
    assert state.history[-1].status is Status.WAIVED
    assert state.history[-1].note == "flaky"


def test_a_new_result_ends_the_waiver() -> None:
    session = tiny_session()
    session.waive("code.tests", "flaky", "Ana", "Dana Deployer", T0)
    session.record_result("code.tests", result(Status.PASS, LATER), LATER)
    assert session.items["code.tests"].waiver is None
    assert session.items["code.tests"].status is Status.PASS


@pytest.mark.parametrize("key", ["code.tests", "ops.tag"])
def test_manual_statuses_only_on_manual_items(key: str) -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="only manual items"):
        session.set_manual(key, Status.DONE, "Dana Deployer", T0)
    assert session.items[key].status is Status.PENDING


@pytest.mark.parametrize("status", [Status.PASS, Status.WAIVED, Status.ERROR, Status.RUNNING])
def test_manual_item_takes_only_done_fail_na_or_pending(status: Status) -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="done, fail, n/a or pending"):
        session.set_manual("code.reviews", status, "Dana Deployer", T0)


def test_manual_tick_is_recorded_with_who_when_and_note() -> None:
    session = tiny_session()
    session.set_manual("ops.comms.email", Status.NA, "Dana Deployer", LATER, note="no customers")
    state = session.items["ops.comms.email"]
    assert (state.status, state.by, state.at, state.note) == (Status.NA, "Dana Deployer", LATER,
                                                              "no customers")
    assert session.updated == LATER


def test_review_note_and_review_are_recorded_without_staling_sign_offs() -> None:
    session = tiny_session()
    signoff = seal_signoff(session, SignOff("engineering", "Engineering", "Eli", T0))
    session.sign(signoff, T0)
    session.set_review_note("ops.comms.email", "checked the list myself", LATER)
    assert session.items["ops.comms.email"].review_note == "checked the list myself"
    assert session.items["ops.comms.email"].note == ""
    assert session.updated == LATER
    session.record_review("Rui Reviewer", "evidence complete", LATER + timedelta(minutes=1))
    decision = session.decision
    assert (decision.reviewed_by, decision.reviewed_at, decision.review_notes) == (
        "Rui Reviewer", LATER + timedelta(minutes=1), "evidence complete")
    assert session.updated == LATER + timedelta(minutes=1)
    assert stale_signoffs(session) == []  # a reviewer's words are outside what was signed


def test_decision_against_the_suggestion_needs_a_justification() -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="justification"):
        session.decide(Decision(status=GO, suggested=NO_GO), LATER)
    assert session.decision.status == ""
    session.decide(Decision(status=GO, suggested=NO_GO, justification="hotfix for an outage"),
                   LATER)
    assert session.decision.justification == "hotfix for an outage"
    session.decide(Decision(status=NO_GO, suggested=NO_GO), LATER)
    with pytest.raises(SessionRuleError, match="GO, CONDITIONAL GO or NO GO"):
        session.decide(Decision(status="MAYBE"), LATER)


def test_reviewer_runs_never_replace_the_deployers_result() -> None:
    session = green()
    deployer_run = session.items["code.tests"].result
    session.record_result("code.tests", result(Status.FAIL, LATER, by="Rae Reviewer",
                                               role="reviewer"), LATER)
    state = session.items["code.tests"]
    assert state.status is Status.PASS
    assert state.result is deployer_run
    assert [r.status for r in state.reviewer_runs] == [Status.FAIL]
    assert suggest(session, LATER).status == GO


def test_signoff_needs_a_known_role_and_a_name() -> None:
    session = tiny_session()
    with pytest.raises(SessionRuleError, match="no sign-off role 'qa'"):
        session.sign(SignOff("qa", "QA", "Quinn", T0), T0)
    with pytest.raises(SessionRuleError, match="name"):
        session.sign(SignOff("engineering", "Engineering", " ", T0), T0)
    assert session.signoffs == []


def test_new_session_validates_variables_and_never_stores_secrets() -> None:
    checklist = tiny_checklist()
    header = {"deployer": "Dana Deployer"}
    with pytest.raises(SessionRuleError, match="Deployment version is required"):
        new_session(checklist, {}, header, T0)
    with pytest.raises(SessionRuleError, match="must match"):
        new_session(checklist, {"version": "v1"}, header, T0)
    with pytest.raises(SessionRuleError, match="must be one of staging, production"):
        new_session(checklist, {"version": "1.0.0", "env": "prod"}, header, T0)
    with pytest.raises(SessionRuleError, match="unknown variable"):
        new_session(checklist, {"version": "1.0.0", "colour": "blue"}, header, T0)
    session = new_session(checklist, {"version": "1.0.0", "token": "s3cr3t"}, header, T0)
    assert session.variables == {"version": "1.0.0", "env": "staging", "token": "***"}
    assert session.secret_variables == ("token",)
    assert session.header["version"] == "1.0.0"
    assert list(session.items) == ["code.tests", "code.coverage", "code.reviews", "ops.comms",
                                   "ops.comms.email", "ops.comms.slack", "ops.tag"]
    assert session.items["code.coverage"].depends_on == ("code.tests",)
    assert session.items["code.tests"].check == {"type": "shell", "run": "pytest -q",
                                                 "timeout": 300.0}


def test_result_without_finish_time_is_stamped_now() -> None:
    session = tiny_session()
    session.record_result("code.tests", CheckResult(Status.PASS, "ok"), LATER)
    assert session.items["code.tests"].at == LATER


# -- nothing observed, scopes ------------------------------------------------------------------

def test_a_fresh_session_suggests_nothing_yet() -> None:
    """Before anything ran, no NO GO (high) is suggested as if it were a finding."""
    verdict = suggest(tiny_session(), T0)
    assert (verdict.status, verdict.risk) == (NOT_RUN, "not assessed")
    assert verdict.line() == "not run yet (risk: not assessed)"
    # What is outstanding is still listed, and nothing observed is never a GO exit.
    assert "code.tests" in refs(verdict)
    assert "signoff:engineering" in refs(verdict)
    assert verdict.exit_code == 3


def test_skipped_and_blocked_items_are_not_observations() -> None:
    session = tiny_session()
    session.record_result("code.tests", result(Status.SKIPPED), T0)
    session.record_result("code.coverage", result(Status.BLOCKED), T0)
    assert suggest(session, T0).status == NOT_RUN
    session.set_manual("code.reviews", Status.DONE, "Dana Deployer", T0)
    assert suggest(session, T0).status == NO_GO


def test_the_release_verdict_counts_sign_offs_and_the_checks_only_verdict_says_so() -> None:
    session = all_green(tiny_session())
    release = suggest(session, LATER)
    checks = suggest(session, LATER, require_signoffs=False)
    assert (release.status, release.line()) == (NO_GO, "NO GO (risk: high)")
    assert (checks.status, checks.scope) == (GO, "checks")
    assert checks.line() == "checks only: GO (risk: low)"


def test_a_partial_verdict_judges_the_items_asked_and_says_it_is_partial() -> None:
    session = tiny_session()
    session.record_result("code.tests", result(Status.PASS), T0)
    partial = suggest(session, T0, keys=["code.tests"])
    assert (partial.status, partial.exit_code) == (GO, 0)
    assert partial.line() == "1 item asked, partial: GO (risk: low)"
    # The same session, judged whole, is no GO: the rest is pending and nobody signed.
    assert suggest(session, T0).status == NO_GO
    session.record_result("code.coverage", result(Status.FAIL), T0)
    both = suggest(session, T0, keys=["code.tests", "code.coverage"])
    assert (both.status, refs(both)) == (CONDITIONAL_GO, ["code.coverage"])


def test_a_signoff_without_its_seal_does_not_count() -> None:
    # A sign-off record with no content hash (hand-written, or its hash deleted) approves nothing:
    # the release is NO GO as if it were missing, on every surface that calls suggest().
    session = all_green(tiny_session())
    session.sign(SignOff("engineering", "Engineering lead approval", "Eve", T0), T0)
    verdict = suggest(session, LATER)
    assert verdict.status == NO_GO
    assert refs(verdict) == ["signoff:engineering"]
