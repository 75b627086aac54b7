"""Tests the runner: concurrency cap, timeouts, dependencies, cancellation, actions, events, caps."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.provenance import CodeFile
from predeploy_tui.core.results import Status
from predeploy_tui.engine import runner as runner_module
from predeploy_tui.engine import sitecode
from predeploy_tui.engine.base import ItemFinished, ItemStarted, OutputChunk, RunEvent
from predeploy_tui.engine.redact import Redactor
from predeploy_tui.engine.runner import ActionRequest, Runner
from predeploy_tui.engine.sitecode import code_of

Make = Callable[..., Checklist]
Items = Callable[..., str]


async def test_global_cap_is_honoured(make_checklist: Make, items: Items, tmp_path: Path) -> None:
    log = tmp_path / "log"
    run = f"echo start $(date +%s.%N) >> {log}; sleep 0.3; echo end $(date +%s.%N) >> {log}"
    specs = [f"{{id: c{i}, title: C{i}, check: {{type: shell, run: '{run}'}}}}" for i in range(6)]
    runner = Runner(make_checklist(items(*specs)), {}, by="ann", max_concurrency=2)
    results = await runner.run()
    await runner.aclose()
    assert all(r.status is Status.PASS for r in results.values())
    marks = sorted((float(at), kind) for kind, at in (line.split() for line in
                                                      log.read_text().splitlines()))
    running = peak = 0
    for _, kind in marks:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak == 2


async def test_checks_run_concurrently(make_checklist: Make, items: Items) -> None:
    specs = [f"{{id: c{i}, title: C{i}, check: {{type: shell, run: 'sleep 0.5'}}}}" for i in range(8)]
    events: list[RunEvent] = []
    runner = Runner(make_checklist(items(*specs)), {}, by="ann", listeners=[events.append])
    await runner.run()
    kinds = [type(e).__name__ for e in events]
    # every check started before the first one finished
    assert kinds[:8] == ["ItemStarted"] * 8


async def test_timeout_gives_error_and_the_rest_finish(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: slow, title: Slow, check: {type: shell, run: 'sleep 10', timeout: 0.5}}",
        "{id: quick, title: Quick, check: {type: shell, run: 'echo ok'}}"))
    runner = Runner(checklist, {}, by="ann")
    results = await runner.run()
    assert results["s.slow"].status is Status.ERROR
    assert results["s.slow"].summary == "timed out after 0.5 s"
    assert results["s.quick"].status is Status.PASS


async def test_failed_prerequisite_blocks_and_names_it(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: a, title: Migrations applied, check: {type: shell, run: 'exit 1'}}",
        "{id: b, title: B, depends_on: a, check: {type: shell, run: 'echo b'}}",
        "{id: c, title: C, check: {type: shell, run: 'sleep 0.2'}}",
        "{id: d, title: D, depends_on: c, check: {type: shell, run: 'echo d'}}"))
    events: list[RunEvent] = []
    runner = Runner(checklist, {}, by="ann", listeners=[events.append])
    results = await runner.run()
    assert results["s.b"].status is Status.BLOCKED
    assert results["s.b"].summary == "blocked: prerequisite s.a (Migrations applied) is fail"
    assert not any(isinstance(e, ItemStarted) and e.key == "s.b" for e in events)
    assert results["s.d"].status is Status.PASS
    order = [(type(e).__name__, e.key) for e in events if not isinstance(e, OutputChunk)]
    assert order.index(("ItemFinished", "s.c")) < order.index(("ItemStarted", "s.d"))


async def test_prerequisite_outside_the_run_asks_status_of(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: a, title: A, kind: manual}",
        "{id: b, title: B, depends_on: a, check: {type: shell, run: 'echo b'}}"))
    blocked = await Runner(checklist, {}, by="x", status_of=lambda k: Status.PENDING).run(["s.b"])
    assert blocked["s.b"].status is Status.BLOCKED
    ran = await Runner(checklist, {}, by="x", status_of=lambda k: Status.DONE).run(["s.b"])
    assert ran["s.b"].status is Status.PASS


async def test_cancel_one_item_while_others_finish(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: slow, title: Slow, check: {type: shell, run: 'sleep 30'}}",
        "{id: other, title: Other, check: {type: shell, run: 'sleep 0.3; echo ok'}}"))
    runner: Runner

    def listener(event: RunEvent) -> None:
        if isinstance(event, ItemStarted) and event.key == "s.slow":
            asyncio.get_running_loop().call_later(0.1, runner.cancel, ["s.slow"])

    runner = Runner(checklist, {}, by="ann", listeners=[listener])
    loop = asyncio.get_running_loop()
    began = loop.time()
    results = await runner.run()
    assert results["s.slow"].status is Status.ERROR
    assert results["s.slow"].summary == "cancelled"
    assert results["s.other"].status is Status.PASS
    assert loop.time() - began < 10


async def test_cancel_the_whole_run(make_checklist: Make, items: Items) -> None:
    specs = [f"{{id: c{i}, title: C{i}, check: {{type: shell, run: 'sleep 30'}}}}" for i in range(3)]
    specs.append("{id: d, title: D, depends_on: c0, check: {type: shell, run: 'echo d'}}")
    runner = Runner(make_checklist(items(*specs)), {}, by="ann", max_concurrency=2)
    finished: list[str] = []
    runner.add_listener(lambda e: finished.append(e.key) if isinstance(e, ItemFinished) else None)
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.3)
    runner.cancel()
    results = await asyncio.wait_for(task, 10)
    assert {r.summary for r in results.values()} == {"cancelled"}
    assert {r.status for r in results.values()} == {Status.ERROR}
    assert sorted(finished) == sorted(results)  # every item told its listeners it ended


async def test_actions_need_confirmation(make_checklist: Make, items: Items, tmp_path: Path) -> None:
    marker = tmp_path / "tagged"
    checklist = make_checklist(items(
        f"{{id: tag, title: Tag, kind: action, check: {{type: shell, run: 'touch {marker}; "
        "echo ${env:TOKEN}'}}"))
    env = {"TOKEN": "tok-secret-1", "PATH": "/usr/bin:/bin"}
    skipped = await Runner(checklist, {}, by="x", environ=env).run()
    assert skipped["s.tag"].status is Status.SKIPPED
    assert skipped["s.tag"].summary == "not confirmed"
    assert not marker.exists()

    asked: list[ActionRequest] = []

    async def decline(request: ActionRequest) -> bool:
        asked.append(request)
        return False

    declined = await Runner(checklist, {}, by="x", confirm=decline, environ=env).run()
    assert declined["s.tag"].status is Status.SKIPPED
    assert not marker.exists()
    assert asked[0].command == f"touch {marker}; echo ***"
    assert asked[0].key == "s.tag"

    async def accept(request: ActionRequest) -> bool:
        return True

    done = await Runner(checklist, {}, by="x", confirm=accept, environ=env).run()
    assert done["s.tag"].status is Status.PASS
    assert marker.exists()
    assert "tok-secret-1" not in done["s.tag"].output


async def test_events_in_order_and_results_attributed(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: a, title: A, check: {type: shell, run: 'echo one; echo two'}}"))
    events: list[RunEvent] = []
    runner = Runner(checklist, {}, by="ann", role="reviewer", listeners=[events.append])
    results = await runner.run()
    assert isinstance(events[0], ItemStarted)
    assert isinstance(events[-1], ItemFinished)
    assert "".join(e.text for e in events if isinstance(e, OutputChunk)) == "one\ntwo\n"
    result = results["s.a"]
    assert (result.by, result.role) == ("ann", "reviewer")
    assert result.started is not None
    assert result.finished is not None
    assert result.finished >= result.started
    assert events[-1] == ItemFinished("s.a", result)


async def test_unknown_variable_is_an_error_for_that_item_only(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: a, title: A, check: {type: shell, run: 'echo ${env:NOT_SET_ANYWHERE}'}}",
        "{id: b, title: B, check: {type: shell, run: 'echo fine'}}"))
    results = await Runner(checklist, {}, by="x", environ={"PATH": "/usr/bin:/bin"}).run()
    assert results["s.a"].status is Status.ERROR
    assert "NOT_SET_ANYWHERE" in results["s.a"].summary
    assert results["s.b"].status is Status.PASS


async def test_output_is_capped_head_and_tail_with_hash_of_all(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: big, title: Big, check: {type: shell, "
        "run: 'echo START; seq 1 20000; echo END'}}"))
    result = (await Runner(checklist, {}, by="x", output_cap=2000).run())["s.big"]
    assert result.output_truncated
    assert len(result.output.encode()) < 2200
    assert result.output.startswith("START\n")
    assert result.output.endswith("END\n")
    full = "START\n" + "".join(f"{i}\n" for i in range(1, 20001)) + "END\n"
    assert result.output_sha256 == hashlib.sha256(full.encode()).hexdigest()


async def test_secrets_never_reach_listeners(make_checklist: Make, items: Items) -> None:
    checklist = make_checklist(items(
        "{id: leak, title: Leak, check: {type: shell, "
        "run: 'echo value=${env:API_TOKEN}; echo Authorization: Bearer abcdefghijkl123', "
        "expect: {contains: nothing-like-this}}}"))
    events: list[RunEvent] = []
    env = {"API_TOKEN": "very-secret-99", "PATH": "/usr/bin:/bin"}
    await Runner(checklist, {}, by="x", listeners=[events.append], environ=env).run()
    text = repr(events)
    assert "very-secret-99" not in text
    assert "abcdefghijkl123" not in text
    assert "***" in text


def test_variables_left_out_take_the_checklist_default() -> None:
    from predeploy_tui.core.checklist import load_checklist

    checklist = load_checklist(Path(__file__).resolve().parents[2] / "checklists" / "demo.yaml")
    runner = Runner(checklist, {"env": "production"}, by="ann")
    assert runner.resolve("network.health").params["url"] == "http://127.0.0.1:8765/health"


BIG = "sh big.sh"
"""About 6 million characters with one word in the middle, beyond what a transport holds."""


async def test_a_matcher_never_passes_on_output_it_could_not_hold(make_checklist: Make,
                                                                  items: Items,
                                                                  tmp_path: Path) -> None:
    # Given a command whose output is longer than the transport holds, the middle word cut,
    (tmp_path / "big.sh").write_text("head -c 3000000 /dev/zero | tr '\\0' x; echo ' ERROR '\n"
                                     "head -c 3000000 /dev/zero | tr '\\0' y\n")
    checklist = make_checklist(items(
        f"{{id: clean, title: Clean, check: {{type: shell, run: '{BIG}', "
        "expect: {not_contains: ERROR}}}",
        f"{{id: code, title: Code, check: {{type: shell, run: '{BIG}', "
        "expect: {exit_code: 0}}}"))
    results = await Runner(checklist, {}, by="x").run()
    # then a matcher that reads the output cannot judge it: error, never a pass on what it missed,
    assert results["s.clean"].status is Status.ERROR, results["s.clean"].summary
    assert "too long to hold in full" in results["s.clean"].summary
    # while the exit code, observed in full, still judges its item,
    assert results["s.code"].status is Status.PASS
    # and the saved output says exactly how much was cut.
    assert results["s.code"].output_truncated
    assert "characters cut] …" in results["s.code"].output


KEY_SCRIPT = ("printf \"before\\n-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n"
              "-----END RSA PRIVATE KEY-----\\nafter\\n\"")
"""A check whose output holds a key block: only the whole-text pass sees it from start to end."""


def _key_check(make_checklist: Make, items: Items) -> Checklist:
    return make_checklist(items(
        "{id: key, title: Key, check: {type: shell, run: '" + KEY_SCRIPT.replace("'", "''")
        + "'}}"))


async def test_whole_output_is_redacted_off_the_loop_thread(
        make_checklist: Make, items: Items, monkeypatch: pytest.MonkeyPatch) -> None:
    """The saved output's redaction (all of it at once, at the check's end) runs on a thread:
    two hundred outputs redacted on the loop as their checks end together stall the screen."""
    whole: list[int] = []
    redact = Redactor.redact

    def spy(self: Redactor, text: str) -> str:
        if "BEGIN RSA" in text and "after" in text:  # the whole text, never one streamed line
            whole.append(threading.get_ident())
        return redact(self, text)

    monkeypatch.setattr(Redactor, "redact", spy)
    runner = Runner(_key_check(make_checklist, items), {}, by="ann")
    results = await runner.run()
    await runner.aclose()
    result = results["s.key"]
    assert whole
    assert threading.get_ident() not in whole
    assert "MIIEowIBAAKCAQEA" not in result.output
    assert result.output.startswith("before\n")
    assert result.output.endswith("after\n")
    assert result.output_sha256 == hashlib.sha256(result.output.encode()).hexdigest()


async def test_cancel_while_the_output_is_redacted_keeps_the_evidence(
        make_checklist: Make, items: Items, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cancel that lands while the finished check's output is being redacted (off the loop)
    does not lose the result: it is recorded with its output, redacted."""
    entered, release = threading.Event(), threading.Event()
    loop_thread = threading.get_ident()
    redact = Redactor.redact

    def slow(self: Redactor, text: str) -> str:
        if "BEGIN RSA" in text and "after" in text and threading.get_ident() != loop_thread:
            entered.set()
            release.wait(10)
        return redact(self, text)

    monkeypatch.setattr(Redactor, "redact", slow)
    runner = Runner(_key_check(make_checklist, items), {}, by="ann")
    task = asyncio.create_task(runner.run())
    assert await asyncio.to_thread(entered.wait, 10)
    runner.cancel()
    await asyncio.sleep(0.05)
    release.set()
    results = await asyncio.wait_for(task, 10)
    await runner.aclose()
    result = results["s.key"]
    assert result.status is Status.PASS
    assert "MIIEowIBAAKCAQEA" not in result.output
    assert result.output.startswith("before\n")
    assert result.output.endswith("after\n")


async def test_output_without_a_trace_of_a_secret_is_not_redacted_twice(
        make_checklist: Make, items: Items, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines redacted as they streamed and holding no trace of a secret (no known value, no rule's
    word) are saved as they are: the second, whole-text pass would change nothing."""
    whole: list[str] = []
    redact = Redactor.redact

    def spy(self: Redactor, text: str) -> str:
        if text.count("\n") >= 300:
            whole.append(text)
        return redact(self, text)

    monkeypatch.setattr(Redactor, "redact", spy)
    run = "i=0; while [ $i -lt 400 ]; do echo \"line $i of chatty output\"; i=$((i+1)); done"
    runner = Runner(make_checklist(items(
        "{id: chatty, title: Chatty, check: {type: shell, run: '" + run + "'}}")), {}, by="ann")
    result = (await runner.run())["s.chatty"]
    await runner.aclose()
    expected = "".join(f"line {i} of chatty output\n" for i in range(400))
    assert result.output == expected
    assert result.output_sha256 == hashlib.sha256(expected.encode()).hexdigest()
    assert whole == []


async def test_site_files_are_hashed_off_the_loop_thread(
        make_checklist: Make, items: Items, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolving and hashing the files a check runs is file work: off the loop, as each starts."""
    threads: list[int] = []

    def spy(*args: object, **kwargs: Any) -> tuple[CodeFile, ...]:
        threads.append(threading.get_ident())
        return code_of(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module, "code_of", spy)
    checklist = make_checklist(items(*(
        f"{{id: c{i}, title: C{i}, check: {{type: shell, run: 'ls ./c{i}.sh || true'}}}}"
        for i in range(3))))
    runner = Runner(checklist, {}, by="ann")
    results = await runner.run()
    await runner.aclose()
    assert {r.status for r in results.values()} == {Status.PASS}
    assert len(threads) == 3
    assert threading.get_ident() not in threads


async def test_a_check_naming_no_file_is_not_handed_to_the_pool(
        make_checklist: Make, items: Items) -> None:
    """A command of bare words, an argv list, a remote or API check: no file to hash, so no
    round trip to the pool per check (200 local checks paid one each for nothing)."""
    checklist = make_checklist(items(
        "{id: words, title: W, check: {type: shell, run: 'true'}}",
        "{id: argv, title: A, check: {type: shell, run: [echo, ok]}}"))
    runner = Runner(checklist, {}, by="ann")
    results = await runner.run()
    await runner.aclose()
    assert {r.status for r in results.values()} == {Status.PASS}
    assert all(r.code == () for r in results.values())
    assert runner._evidence_pool is None


@pytest.mark.parametrize(("run", "names", "found"), [
    ("true", False, []), ("echo ok && exit 0", False, []), ("echo 'unbalanced", False, []),
    (["sh", "a.sh"], False, []),  # an argv list runs no shell script of the checklist's
    ("ls ./x.sh", True, []), ("python3 check.py", True, []), ("cat /etc/hostname", True, []),
    ("grep -c ok log.txt", True, []), ("x.sh", True, []),  # named, but not there: no hash
    ("sh ../checks/a.sh", True, ["a.sh"]), ("(./a.sh)", True, ["a.sh"]),
])
def test_names_files_is_false_only_where_code_of_finds_none(
        tmp_path: Path, run: object, names: bool, found: list[str]) -> None:
    # code_of asks names_files first: the runner's skip is that same rule. What each command
    # names and which site file is hashed is said here, not derived from either function.
    for name in ("a.sh", "x.sh", "check.py", "log.txt"):
        (tmp_path / name).write_text("#!/bin/sh\n")
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "a.sh").write_text("#!/bin/sh\n")
    folder = tmp_path / "checks"
    params = {"run": run}
    assert sitecode.names_files(params, local=True, plugin_file=None) is names
    assert [c.path for c in code_of(params, folder=folder, local=True, plugin_file=None)] == found
    assert not sitecode.names_files(params, local=False, plugin_file=None)
    assert code_of(params, folder=folder, local=False, plugin_file=None) == ()
    assert sitecode.names_files(params, local=False, plugin_file=tmp_path / "a.sh")


async def test_a_cancel_while_site_files_are_hashed_keeps_the_hashes(
        make_checklist: Make, items: Items, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A check cancelled while its files are hashed ends cancelled, never run, with the hashes."""
    entered, release = threading.Event(), threading.Event()

    def slow(*args: object, **kwargs: Any) -> tuple[CodeFile, ...]:
        entered.set()
        release.wait(10)
        return code_of(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module, "code_of", slow)
    script = tmp_path / "probe.sh"
    script.write_text(f"#!/bin/sh\ntouch {tmp_path / 'ran'}\n")
    script.chmod(0o755)
    checklist = make_checklist(items(
        f"{{id: s, title: S, check: {{type: shell, run: '{script}'}}}}"))
    runner = Runner(checklist, {}, by="ann")
    task = asyncio.create_task(runner.run())
    assert await asyncio.to_thread(entered.wait, 10)
    runner.cancel()
    await asyncio.sleep(0.05)
    release.set()
    result = (await asyncio.wait_for(task, 10))["s.s"]
    await runner.aclose()
    assert result.summary == "cancelled"
    assert not (tmp_path / "ran").exists()
    assert [c.path for c in result.code] == [os.path.relpath(script, checklist.folder.resolve())]
