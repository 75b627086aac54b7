"""The session file reads on its own and the reviewer's command line tells the whole story.

Descriptions, section titles and durations saved as the checklist wrote them; the link to the
checklist surviving a moved or copied repository; ``show``, ``diff`` and the markdown export.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from predeploy_tui.cli import main
from predeploy_tui.core import integrity, store
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.session import Decision, SignOff
from predeploy_tui.core.vocab import Role
from predeploy_tui.reports.markdown import to_markdown

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
CHECKLIST = """\
id: small
title: Small release checklist
fresh_for: 8h
variables:
  version: {prompt: Deployment version, required: true}
sections:
  - id: code
    title: Code Readiness
    groups:
      - title: Code Quality
        items:
          - id: echo
            title: The echo check
            description: |
              Runs **echo**: the release needs `ok` on stdout.
            check: {type: shell, run: 'echo ok', timeout: 30s}
  - id: ops
    title: Operations Sign-off
    groups:
      - title: Communication
        items:
          - id: announce
            title: Release announced
            description: 'Post in #releases with the **version** and the rollback plan.'
            kind: manual
            fresh_for: 90m
signoffs:
  - {role: engineering, title: Engineering lead approval}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository holding checklists/small.yaml, as the working directory."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Gita Committer\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("PREDEPLOY_SESSIONS_DIR", raising=False)
    work = tmp_path / "repo"
    (work / "checklists").mkdir(parents=True)
    (work / "checklists" / "small.yaml").write_text(CHECKLIST, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(work)], check=True, timeout=30)
    monkeypatch.chdir(work)
    return work


def new_session(capsys: pytest.CaptureFixture[str], *extra: str) -> Path:
    assert main(["new", "--no-ui", "checklists/small.yaml", "--var", "version=1.0.0",
                 "--deployer", "Dana", *extra]) == 0
    return Path(capsys.readouterr().out.strip()).resolve()


# -- the file reads on its own -----------------------------------------------------------------

def test_descriptions_section_titles_and_durations_are_saved_as_written(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = new_session(capsys)
    text = path.read_text(encoding="utf-8")
    assert 'fresh_for = "8h"' in text
    assert 'fresh_for = "90m"' in text
    assert "28800" not in text
    assert "[session.sections]" in text
    assert 'code = "Code Readiness"' in text
    session = store.load(path)
    assert session.section_titles == {"code": "Code Readiness", "ops": "Operations Sign-off"}
    assert session.items["code.echo"].description == (
        "Runs **echo**: the release needs `ok` on stdout.\n")
    assert "#releases" in session.items["ops.announce"].description
    # Read back to seconds where used: a pass 9 hours old is stale at 8h.
    echo = session.items["code.echo"]
    assert echo.fresh_for == 8 * 3600
    session.record_result("code.echo", CheckResult(Status.PASS, "ok", started=T0, finished=T0), T0)
    assert echo.effective_status(T0 + timedelta(hours=9)) is Status.STALE
    # Saved again, still as written; and the descriptions are covered by a sign-off.
    store.save(session, path)
    assert 'fresh_for = "8h"' in path.read_text(encoding="utf-8")
    session = store.load(path)
    signed = integrity.seal_signoff(session, SignOff("engineering", "Eng", "Lee", T0))
    session.sign(signed, T0)
    assert integrity.stale_signoffs(session) == []
    session.items["code.echo"].description = "something else entirely"
    assert integrity.stale_signoffs(session) == ["engineering"]


def test_an_old_session_file_without_the_new_keys_loads_and_its_seal_holds(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = new_session(capsys)
    session = store.load(path)
    # As an older predeploy wrote it: no descriptions, no section titles, seconds as floats.
    session.section_titles = {}
    for state in session.items.values():
        state.description = ""
    session.sign(integrity.seal_signoff(session, SignOff("engineering", "Eng", "Lee", T0)), T0)
    text = store.dumps(session).replace('fresh_for = "8h"', "fresh_for = 28800.0") \
        .replace('fresh_for = "90m"', "fresh_for = 5400.0")
    assert "description" not in text
    assert "[session.sections]" not in text
    old = store.loads(text)
    assert old.items["code.echo"].fresh_for == 28800.0
    assert old.items["ops.announce"].fresh_for == 5400.0
    assert integrity.check(old) == []
    assert integrity.stale_signoffs(old) == []


# -- the link to the checklist -----------------------------------------------------------------

def test_the_checklist_is_stored_from_the_repository_root_and_survives_a_copied_tree(
        repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = new_session(capsys)
    assert store.load(path).checklist_path == "checklists/small.yaml"
    # The session file moved to a folder of its own inside the repository.
    archive = repo / "sessions" / "archive" / "2026"
    archive.mkdir(parents=True)
    moved = archive / path.name
    path.rename(moved)
    assert main(["verify", str(moved)]) == 0
    out = capsys.readouterr().out
    assert "not found" not in out
    assert "checklist drift" not in out
    # The whole tree copied elsewhere (a clone): verify and run still find the checklist.
    clone = tmp_path / "clone"
    shutil.copytree(repo, clone)
    monkeypatch.chdir(tmp_path)
    copied = clone / moved.relative_to(repo)
    assert main(["verify", str(copied)]) == 0
    assert "not found" not in capsys.readouterr().out
    assert main(["run", str(copied), "--headless"]) in (0, 4, 3)
    captured = capsys.readouterr()
    assert "is not there" not in captured.err
    assert store.load(copied).items["code.echo"].status is Status.PASS


def test_an_old_session_relative_path_still_resolves(repo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = new_session(capsys)
    text = path.read_text(encoding="utf-8").replace('checklist = "checklists/small.yaml"',
                                                    'checklist = "../checklists/small.yaml"')
    path.write_text(text, encoding="utf-8")
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "checklist small.yaml not found" not in out, out
    assert "found by its sha256" not in out


def test_a_moved_checklist_is_found_by_its_sha256_and_named(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = new_session(capsys)
    (repo / "checklists" / "released").mkdir()
    (repo / "checklists" / "small.yaml").rename(repo / "checklists" / "released" / "small.yaml")
    (repo / "checklists" / "other.yaml").write_text(CHECKLIST.replace("Small", "Other"),
                                                    encoding="utf-8")
    assert main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "checklist found by its sha256 at checklists/released/small.yaml" in out
    assert "not found" not in out
    assert main(["run", str(path), "--headless"]) in (0, 3, 4)
    assert "checklist found by its sha256 at checklists/released/small.yaml" \
        in capsys.readouterr().err


# -- show and diff -----------------------------------------------------------------------------

def test_show_lists_signoffs_decision_review_and_disagreeing_reviewer_runs(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = new_session(capsys)
    session = store.load(path)
    session.record_result("code.echo", CheckResult(Status.PASS, "ok", started=T0, finished=T0,
                                                   by="Dana"), T0)
    session.sign(integrity.seal_signoff(session, SignOff("engineering", "Engineering lead approval",
                                                         "Lee Lead", T0, comment="ship it")), T0)
    session.decide(integrity.seal_decision(session, Decision(
        status="GO", suggested="NO GO", justification="announcement waits for the window",
        notes="watch the queue", risk="low", completed_by="Dana", completed_at=T0)), T0)
    session.record_result("code.echo", CheckResult(Status.FAIL, "got 'nope'", started=T0,
                                                   finished=T0, by="Rae", role=Role.REVIEWER), T0)
    session.record_review("Rae", "evidence thin on echo", T0)
    store.save(session, path)
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "engineering: Engineering lead approval by Lee Lead (2026-03-01 09:00 UTC) current" \
        in out
    assert "Decision: GO by Dana (2026-03-01 09:00 UTC), risk low; suggested NO GO" in out
    assert "Justification: announcement waits for the window" in out
    assert "Review: by Rae (2026-03-01 09:00 UTC)" in out
    assert "evidence thin on echo" in out
    assert "[code.echo] deployer pass, reviewer fail by Rae" in out
    # A change after signing: the sign-off is shown stale.
    session = store.load(path)
    session.set_note("code.echo", "edited later", T0)
    store.save(session, path)
    assert main(["show", str(path)]) == 0
    assert "by Lee Lead (2026-03-01 09:00 UTC) STALE" in capsys.readouterr().out


def test_diff_names_both_files_decision_signoffs_and_a_different_checklist(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = new_session(capsys, "--session", "sessions/old.toml")
    new = new_session(capsys, "--session", "sessions/new.toml")
    session = store.load(new)
    session.sign(integrity.seal_signoff(session, SignOff("engineering", "Eng", "Lee", T0)), T0)
    session.decide(Decision(status="NO GO", completed_by="Dana", completed_at=T0), T0)
    session.checklist_id, session.checklist_sha256 = "other", "0" * 64
    store.save(session, new)
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert f"Comparing {old} (small 1.0.0) -> {new} (other 1.0.0)" in out
    assert "warning: the sessions come from different checklists" in out
    assert "Decision: none -> NO GO by Dana" in out
    assert "engineering: not signed before, signed by Lee now" in out


# -- the markdown export -----------------------------------------------------------------------

def test_the_markdown_export_escapes_nothing_into_entities(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = store.load(new_session(capsys))
    session.set_note("code.echo", "1 < 3 & 4 > 2, <script>x</script> and &lt;", T0)
    text = to_markdown(session, T0)
    assert "&lt;" not in text.replace("\\&lt;", "")
    assert "1 < 3 & 4 > 2" in text
    # Rendered, the note reads as written and opens no HTML.
    tokens = MarkdownIt("commonmark").parse(text)
    inline = [t for t in tokens if t.type == "inline" and "1 < 3" in t.content]
    assert inline
    children = inline[0].children or []
    assert not [c for c in children if c.type == "html_inline"]
    shown = "".join(c.content for c in children if c.type == "text")
    assert "1 < 3 & 4 > 2, <script>x</script> and &lt;" in shown
