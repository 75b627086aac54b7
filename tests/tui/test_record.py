"""Pilot tests: sealed sign-offs and decision, the compare view, and the commit key."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from predeploy_tui.core import integrity, store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.tui import messages
from predeploy_tui.tui.screens.compare import CompareAsk, CompareScreen
from predeploy_tui.tui.screens.decision import DecisionScreen
from predeploy_tui.tui.screens.secrets import SecretsDialog
from predeploy_tui.tui.screens.signoff import SignoffScreen

from .conftest import AppFactory, Clock, make_session, saved, settle

pytestmark = pytest.mark.tui


async def test_sign_off_and_decision_are_sealed(session_file: Path, open_app: AppFactory) -> None:
    # One manual item ticked: something was observed, so NO GO (not "not run yet") is suggested.
    session = saved(session_file)
    manual = next(s.key for s in session.items.values() if s.kind == "manual")
    session.set_manual(manual, Status.DONE, "Dana", session.updated)
    store.save(session, session_file)
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SignoffScreen)
        await pilot.click("#sign-engineering")
        await pilot.press("escape")
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, DecisionScreen)
        await pilot.press("ctrl+s")  # the suggestion (NO GO), no justification needed
        await settle(pilot, app)
    on_disk = saved(session_file)
    signed = on_disk.signoff("engineering")
    assert signed is not None
    assert integrity.SEAL_SIGNOFF in signed.covered
    assert integrity.SEAL_DECISION in on_disk.decision.covered
    assert on_disk.decision.status == "NO GO"
    assert integrity.check(on_disk) == []
    # Given the approval records edited afterwards (content untouched), verify names both.
    on_disk.signoffs[-1] = replace(signed, name="Mallory")
    on_disk.decision.completed_by = "Mallory"
    store.save(on_disk, session_file)
    findings = {f.what: f for f in integrity.check(saved(session_file))}
    assert findings["signoff:engineering"].record_changed
    assert findings["decision"].record_changed


async def test_compare_shows_the_changed_item(tmp_path: Path, clock: Clock,
                                              open_app: AppFactory) -> None:
    # Given last release's session where "Replicas ready" passed...
    current, _ = make_session(tmp_path, clock)
    earlier = current.with_name("last-release.toml")
    old = store.load(current)
    old.record_result("infra.broken", CheckResult(Status.PASS, "3 of 3 ready", started=clock(),
                                                  finished=clock(), by="Dana"), clock())
    store.save(old, earlier)
    os.utime(earlier, (1, 1))  # older than the current file, still the newest *other* one
    # ...and this session, where it failed.
    now = store.load(current)
    now.record_result("infra.broken", CheckResult(Status.FAIL, "1 of 3 ready", started=clock(),
                                                  finished=clock(), by="Dana"), clock())
    store.save(now, current)
    app = open_app(current)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, CompareAsk)
        assert app.screen.query_one("#compare-path", Input).value == str(earlier)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        shown = str(app.screen.query_one("#compare-lines", Static).render())
        assert "infra.broken: pass -> fail" in shown
        [compared] = app.seen(messages.Compared)
        assert compared.old == earlier  # type: ignore[attr-defined]
        assert any("infra.broken" in line for line in compared.lines)  # type: ignore[attr-defined]
        await pilot.press("escape")
        assert not isinstance(app.screen, CompareScreen)


async def test_compare_refuses_a_missing_file(session_file: Path, open_app: AppFactory) -> None:
    app = open_app(session_file)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        app.screen.query_one("#compare-path", Input).value = "nowhere.toml"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompareAsk)
        assert "No such file" in str(app.screen.query_one("#compare-error", Static).render())


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()


async def test_commit_key_commits_the_session(tmp_path: Path, clock: Clock,
                                              open_app: AppFactory) -> None:
    # Given a session inside a git repository with an identity set...
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.name", "Dana Deployer")
    _git(repo, "config", "user.email", "dana@example.invalid")
    _git(repo, "config", "commit.gpgsign", "false")
    path, _ = make_session(repo, clock)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.items_tree.select_key("release.notes")
        await pilot.press("t")  # an unsaved change: the commit must save it first
        await pilot.press("G")
        await app.workers.wait_for_complete()
        await pilot.pause()
        [committed] = app.seen(messages.SessionCommitted)
    head = _git(repo, "rev-parse", "HEAD")
    assert committed.commit == head  # type: ignore[attr-defined]
    assert _git(repo, "log", "-1", "--format=%s").startswith("predeploy: small 2.0.0 staging")
    files = _git(repo, "show", "--name-only", "--format=", "HEAD")
    assert files == "sessions/small.toml"
    in_commit = store.loads(_git(repo, "show", "HEAD:sessions/small.toml") + "\n")
    assert in_commit.items["release.notes"].status is Status.DONE


async def test_commit_outside_a_repository_says_why(tmp_path: Path, clock: Clock,
                                                    open_app: AppFactory,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    path, _ = make_session(tmp_path, clock)
    app = open_app(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("G")
        await app.workers.wait_for_complete()
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert not app.seen(messages.SessionCommitted)
    assert any("not inside a git repository" in m for m in said), said


SECRET_CHECKLIST = """\
id: secretive
title: Needs a secret
variables:
  token: {prompt: API token, secret: true}
sections:
  - id: api
    title: API
    groups:
      - title: Auth
        items:
          - id: auth
            title: The token is the expected one
            check: {type: shell, run: 'case ${token} in hunter2-*) echo matched;; esac',
                    expect: {contains: matched}}
"""


async def test_secret_variables_are_asked_for_on_reopening(tmp_path: Path, clock: Clock) -> None:
    from predeploy_tui.tui.launch import open_session

    from .conftest import RecordingApp

    checklist = tmp_path / "secretive.yaml"
    checklist.write_text(SECRET_CHECKLIST)
    path, _ = make_session(tmp_path, clock, checklist=checklist)
    # Given the session reopened without --var token=...: the file holds only ***.
    opened = open_session(path, clock=clock)
    assert "token" not in opened.variables
    app = RecordingApp(opened, clock=clock)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, SecretsDialog)
            field = app.screen.query_one("#secret-token", Input)
            assert field.password
            await pilot.press(*"hunter2-token", "enter")
            await pilot.pause()
            assert not isinstance(app.screen, SecretsDialog)
            # When the check runs, it gets the value given in the dialog.
            app.screen.items_tree.select_key("api.auth")
            await pilot.press("r")
            await settle(pilot, app)
    finally:
        if app.opened.lock is not None:
            app.opened.lock.release()
    state = saved(path).items["api.auth"]
    assert state.status is Status.PASS, state.result
    assert "hunter2-token" not in path.read_text()


async def test_no_secrets_dialog_when_given_with_var(session_file: Path,
                                                     open_app: AppFactory) -> None:
    app = open_app(session_file)  # opened with token given, as --var would
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert not isinstance(app.screen, SecretsDialog)
