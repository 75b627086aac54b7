"""Tests that a cancelled or interrupted run judges nothing: the item keeps the result it had."""

from __future__ import annotations

from datetime import timedelta

from predeploy_tui.core.results import CANCELLED, CheckResult, Status
from predeploy_tui.core.verdict import suggest

from .builders import T0, all_green, result, tiny_session

LATER = T0 + timedelta(minutes=5)


def cancelled() -> CheckResult:
    return CheckResult(Status.ERROR, CANCELLED, output="partial\n", started=LATER,
                       finished=LATER + timedelta(seconds=3), by="Dana Deployer")


def test_cancelling_a_rerun_keeps_the_earlier_pass_and_records_the_cancelled_run() -> None:
    session = all_green(tiny_session())
    before = session.items["code.coverage"].result
    session.mark_running("code.coverage", "Dana Deployer", LATER)
    session.record_result("code.coverage", cancelled(), LATER + timedelta(seconds=3))
    state = session.items["code.coverage"]
    assert state.status is Status.PASS
    assert state.at == T0  # freshness counts from the pass, not from the cancel
    assert state.result is before
    assert state.last_run is not None
    assert state.last_run.summary == CANCELLED
    assert state.runs[-1].output == "partial\n"  # the cancelled run keeps its partial output
    assert suggest(session, LATER).status == suggest(all_green(tiny_session()), LATER).status


def test_cancelling_a_first_run_leaves_the_item_pending_never_passed() -> None:
    session = tiny_session()
    session.mark_running("code.coverage", "Dana Deployer", LATER)
    session.record_result("code.coverage", cancelled(), LATER)
    state = session.items["code.coverage"]
    assert state.status is Status.PENDING
    assert state.result is None
    assert [r.summary for r in state.runs] == [CANCELLED]


def test_cancelling_keeps_a_waiver() -> None:
    session = tiny_session()
    session.record_result("code.coverage", result(Status.FAIL, T0), T0)
    session.waive("code.coverage", "known flake", "Ops Olga", "Dana Deployer", T0)
    session.mark_running("code.coverage", "Dana Deployer", LATER)
    session.record_result("code.coverage", cancelled(), LATER)
    assert session.items["code.coverage"].status is Status.WAIVED


def test_a_kill_keeps_the_earlier_result_and_measures_to_the_last_saved_change() -> None:
    session = all_green(tiny_session())
    session.mark_running("code.coverage", "Dana Deployer", LATER)
    session.set_note("code.tests", "last change before the kill", LATER + timedelta(seconds=7))
    assert session.interrupt_running(LATER + timedelta(hours=5)) == ["code.coverage"]
    state = session.items["code.coverage"]
    assert state.status is Status.PASS
    interrupted = state.runs[-1]
    assert interrupted.summary.startswith("interrupted")
    assert interrupted.duration == 7  # to the last saved change, not to the reopen
    assert session.interrupt_running(LATER) == []


def test_a_killed_run_keeps_the_tail_of_what_it_printed_as_it_streamed() -> None:
    from predeploy_tui.core import store
    from predeploy_tui.core.session import PARTIAL_KEEP

    # Given a check that printed as it ran, saved as it streamed, when the process was killed,
    session = all_green(tiny_session())
    session.mark_running("code.coverage", "Dana Deployer", LATER)
    for i in range(2000):
        assert session.note_output("code.coverage", f"step {i}\n", LATER + timedelta(seconds=i))
    reopened = store.loads(store.dumps(session), "s.toml")
    # then the reopened session records the interrupted run with the tail it had printed,
    # measured to the last output it saved, and the earlier pass stands.
    assert reopened.interrupt_running(LATER + timedelta(hours=5)) == ["code.coverage"]
    state = reopened.items["code.coverage"]
    run = state.runs[-1]
    assert run.output.endswith("step 1999\n")
    assert len(run.output) <= PARTIAL_KEEP
    assert run.finished == LATER + timedelta(seconds=1999)
    assert state.status is Status.PASS
    assert state.partial_output == ""
    # Output of an item that is not running is no evidence of anything: not kept.
    assert not reopened.note_output("code.tests", "stray\n", LATER)
