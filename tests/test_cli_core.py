"""The command line of the core: new, show, --version, --help and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from predeploy_tui import __version__
from predeploy_tui.cli import build_parser, main
from predeploy_tui.core import store
from predeploy_tui.core.results import CheckResult, Status

PREDEPLOY = Path(sys.executable).parent / "predeploy"
CHECKLIST = (Path(__file__).parent / "core" / "data" / "tiny.yaml").read_text(encoding="utf-8")
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def result(status: Status, summary: str = "") -> CheckResult:
    """A finished check run at T0."""
    return CheckResult(status, summary or f"it went {status}", started=T0, finished=T0, by="Dana")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp cwd holding tiny.yaml, with git's user.name set to a known person."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Gita Committer\n", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("PREDEPLOY_SESSIONS_DIR", raising=False)
    monkeypatch.delenv("PREDEPLOY_DEBUG", raising=False)
    work = tmp_path / "work"
    (work / "checklists").mkdir(parents=True)
    (work / "checklists" / "tiny.yaml").write_text(CHECKLIST, encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


# -- new ---------------------------------------------------------------------------------------

def test_new_saves_under_sessions_with_the_default_name(workdir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3"]) == 0
    expected = workdir / "sessions" / "tiny-1.2.3-staging.toml"
    assert capsys.readouterr().out.strip() == str(expected)
    session = store.load(expected)
    assert session.header["version"] == "1.2.3"
    assert session.header["deployer"] == "Gita Committer"
    assert session.header["reviewer"] == ""
    assert session.variables["env"] == "staging"
    assert session.checklist_path == "../checklists/tiny.yaml"
    assert all(s.status is Status.PENDING for s in session.items.values())


def test_new_honours_sessions_dir_deployer_reviewer_and_major(
        workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PREDEPLOY_SESSIONS_DIR", str(tmp_path / "elsewhere"))
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=2.0.0", "--var",
                 "env=production", "--deployer", "Dana Deployer", "--reviewer", "Rae Reviewer",
                 "--major"]) == 0
    path = tmp_path / "elsewhere" / "tiny-2.0.0-production.toml"
    assert capsys.readouterr().out.strip() == str(path)
    session = store.load(path)
    assert (session.header["deployer"], session.header["reviewer"]) == ("Dana Deployer",
                                                                        "Rae Reviewer")
    assert session.flags["major"] is True


def test_new_with_explicit_session_path(workdir: Path) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.0.0",
                 "--session", "out/mine.toml"]) == 0
    assert store.load(workdir / "out" / "mine.toml").checklist_id == "tiny"


@pytest.mark.parametrize(("args", "fragment"), [
    (["--var", "version=v1"], r"Deployment version must match"),
    (["--var", "version=1.0.0", "--var", "env=prod"], "must be one of staging, production"),
    ([], "missing variable version: give --var version=... (Deployment version)"),
    (["--var", "version=1.0.0", "--var", "colour=blue"], "unknown variable(s): colour"),
    (["--var", "version"], "expected NAME=VALUE"),
    (["--var", "version=1.0.0", "--var", "version=1.0.1"], "--var version is given twice"),
    (["--var", "version=1.0.0", "--deployer", " "], "--deployer needs a name"),
])
def test_new_refuses_bad_variables_with_one_line(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                 args: list[str], fragment: str) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", *args]) == 2
    assert fragment in one_line_error(capsys.readouterr().err)
    assert not (workdir / "sessions").exists() or not any((workdir / "sessions").iterdir())


def test_new_never_overwrites_a_session_a_default_name_takes_the_next_suffix(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3"]) == 0
    path = workdir / "sessions" / "tiny-1.2.3-staging.toml"
    session = store.load(path)
    session.record_result("code.tests", result(Status.PASS), T0)
    store.save(session, path)
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3",
                 "--deployer", "Someone Else"]) == 0
    second = workdir / "sessions" / "tiny-1.2.3-staging-2.toml"
    assert capsys.readouterr().out.strip() == str(second)
    assert store.load(second).header["deployer"] == "Someone Else"
    assert path.read_bytes() == before


def test_new_refuses_an_explicit_session_path_that_exists_and_leaves_it_alone(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3",
                 "--session", "mine.toml"]) == 0
    path = workdir / "mine.toml"
    before = path.read_bytes()
    capsys.readouterr()
    for command in (["new", "--no-ui", "checklists/tiny.yaml"],
                    ["run", "checklists/tiny.yaml"]):
        assert main([*command, "--var", "version=1.2.3", "--session", "mine.toml"]) == 2
        err = one_line_error(capsys.readouterr().err)
        assert "mine.toml already exists; open it with `predeploy open mine.toml`" in err
        assert path.read_bytes() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["checklists", "mine.toml"]


def test_new_with_a_broken_checklist_reports_its_lines(workdir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    broken = workdir / "checklists" / "broken.yaml"
    broken.write_text(CHECKLIST.replace("critical: true", "critcal: true"), encoding="utf-8")
    assert main(["new", "--no-ui", str(broken), "--var", "version=1.0.0"]) == 2
    err = capsys.readouterr().err
    line = CHECKLIST.splitlines().index("            critical: true") + 1
    assert f"{broken}:{line}:13: unknown key 'critcal' (did you mean 'critical'?)" in err
    assert "Traceback" not in err


def test_new_with_a_missing_checklist(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/nope.yaml"]) == 2
    assert "checklist checklists/nope.yaml: no such file" in one_line_error(capsys.readouterr().err)


def test_new_of_a_session_and_open_of_a_checklist_name_the_command_meant(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.0.0",
                 "--session", "s.toml"]) == 0
    capsys.readouterr()
    assert main(["new", "--no-ui", "s.toml"]) == 2
    assert "s.toml is a session, not a checklist: open it with `predeploy open s.toml`" \
        in one_line_error(capsys.readouterr().err)
    assert main(["open", "checklists/tiny.yaml"]) == 2
    assert "is a checklist, not a session: start a session of it with `predeploy new " \
        "checklists/tiny.yaml`" in one_line_error(capsys.readouterr().err)


# -- show --------------------------------------------------------------------------------------

def test_show_prints_header_counts_verdict_and_reasons(workdir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3",
                 "--deployer", "Dana Deployer", "--reviewer", "Rae Reviewer"]) == 0
    path = Path(capsys.readouterr().out.strip())
    session = store.load(path)
    session.record_result("code.tests", result(Status.FAIL, summary="3 failed"), T0)
    session.record_result("code.coverage", result(Status.PASS), T0)
    session.set_manual("code.reviews", Status.DONE, "Dana Deployer", T0)
    store.save(session, path)
    before = path.read_bytes()

    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Tiny release checklist (tiny)"
    assert out[1].split() == ["Date", session.header["date"]]
    assert out[2].split() == ["Version", "1.2.3"]
    assert out[3].split() == ["Deployer", "Dana", "Deployer"]
    assert out[4].split() == ["Reviewer", "Rae", "Reviewer"]
    assert out[5].split() == ["Env", "staging"]
    counts = out[6]
    assert counts.startswith("Items: 7 ")
    assert "pending 4" in counts
    assert "fail 1" in counts
    assert "done 1" in counts
    assert "Suggested: NO GO (risk: high)" in out
    reasons = "\n".join(out)
    assert "[code.tests] critical: All tests passing failed" in reasons
    assert "[signoff:engineering] sign-off missing: Engineering lead approval" in reasons
    assert "[ops.tag] Version tag created is still pending" in reasons
    assert path.read_bytes() == before


def test_show_of_a_missing_or_broken_session(workdir: Path, capsys: pytest.CaptureFixture[str]) \
        -> None:
    assert main(["show", "nope.toml"]) == 2
    assert "session nope.toml: no such file" in one_line_error(capsys.readouterr().err)
    bad = workdir / "bad.toml"
    bad.write_text("schema = 1\n[session\n", encoding="utf-8")
    assert main(["show", str(bad)]) == 2
    assert f"{bad}:2:" in one_line_error(capsys.readouterr().err)
    assert bad.read_text(encoding="utf-8") == "schema = 1\n[session\n"


# -- the parser --------------------------------------------------------------------------------

def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"predeploy {__version__}\n"


def test_help_lists_the_core_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: predeploy")
    for command in ("validate", "schema", "new", "show"):
        assert command in out


@pytest.mark.parametrize("command", ["run", "show", "import"])
def test_a_command_parses_alike_with_only_its_parser_built(command: str) -> None:
    # `predeploy COMMAND ...` builds COMMAND's parser alone: its help and its parse of a line
    # are those of the parser with every command.
    full, alone = build_parser(), build_parser(command)
    for parser in (full, alone):
        parser.exit_on_error = False
    sub = {p: next(a for a in p._actions if a.dest == "command").choices[command]  # type: ignore[union-attr]
           for p in (full, alone)}
    assert sub[full].format_help() == sub[alone].format_help()
    line = [command, "x.toml"] + (["--section", "s", "--headless"] if command == "run" else [])
    assert vars(full.parse_args(line)) == vars(alone.parse_args(line))


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: predeploy" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["validate"], "the following arguments are required: FILE"),
    (["new"], "the following arguments are required: CHECKLIST"),
    (["show"], "the following arguments are required: SESSION"),
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["schema", "--output"], "expected one argument"),
])
def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                              argv: list[str], fragment: str) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert fragment in one_line_error(captured.err)
    assert captured.out == ""


@pytest.mark.parametrize(("argv", "code", "stream", "fragment"), [
    (["--version"], 0, "stdout", f"predeploy {__version__}"),
    (["frobnicate"], 2, "stderr", "invalid choice"),
    (["show"], 2, "stderr", "required: SESSION"),
    (["show", "/nonexistent/s.toml"], 2, "stderr", "no such file"),
])
def test_the_console_script(argv: list[str], code: int, stream: str, fragment: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREDEPLOY_DEBUG"}
    proc = subprocess.run([str(PREDEPLOY), *argv], capture_output=True, text=True, timeout=60,
                          env=env, check=False)
    assert proc.returncode == code
    assert fragment in getattr(proc, stream)
    assert "Traceback" not in proc.stderr
    if code:
        assert proc.stderr.count("\n") == 1


# -- the app without a terminal ------------------------------------------------------------------

def _console(argv: list[str], cwd: Path, stdout: int) -> subprocess.CompletedProcess[str]:
    """The console script with stdin at /dev/null, as a script or CI job would start it."""
    env = {k: v for k, v in os.environ.items() if k != "PREDEPLOY_DEBUG"}
    return subprocess.run([str(PREDEPLOY), *argv], stdin=subprocess.DEVNULL, stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=20, env=env, cwd=cwd,
                          check=False)


@pytest.mark.parametrize(("command", "instead"), [
    ("new", "`predeploy new --no-ui` or `predeploy run`"),
    ("open", "`predeploy show` or `predeploy run`"),
    ("demo", "`predeploy run "),
])
def test_the_app_without_a_terminal_is_refused_in_one_line(workdir: Path, command: str,
                                                           instead: str) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3",
                 "--session", "s.toml"]) == 0
    argv = {"new": ["new", "checklists/tiny.yaml", "--var", "version=1.2.3"],
            "open": ["open", "s.toml"], "demo": ["demo"]}[command]
    proc = _console(argv, workdir, subprocess.PIPE)
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc.stderr).startswith(f"predeploy {command} needs a terminal; use ")
    assert instead in proc.stderr
    assert proc.stderr.rstrip().endswith("in scripts")
    assert proc.stdout == ""


def test_the_app_with_a_terminal_for_output_but_none_for_input_is_refused(workdir: Path) -> None:
    import pty

    # stdout is a terminal here, stdin is not: the app would wait for keys that never come.
    parent, child = pty.openpty()
    try:
        proc = _console(["new", "checklists/tiny.yaml", "--var", "version=1.2.3"], workdir, child)
    finally:
        os.close(child)
        os.close(parent)
    assert proc.returncode == 2, proc.stderr
    assert one_line_error(proc.stderr) == (
        "predeploy new needs a terminal; use `predeploy new --no-ui` or `predeploy run` in "
        "scripts\n")


# -- run's caps --------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--concurrency", "--channels-per-host", "--handshakes"])
@pytest.mark.parametrize("value", ["0", "-3", "two", "1.5", ""])
def test_run_caps_must_be_positive_whole_numbers(workdir: Path, capsys: pytest.CaptureFixture[str],
                                                 option: str, value: str) -> None:
    assert main(["run", "checklists/tiny.yaml", f"{option}={value}"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert f"argument {option}: expected a whole number of 1 or more" in err
    assert not (workdir / "sessions").exists()


def test_show_counts_a_sign_off_made_stale_by_a_later_change(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from predeploy_tui.core import integrity
    from predeploy_tui.core.session import SignOff

    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3"]) == 0
    path = Path(capsys.readouterr().out.strip())
    session = store.load(path)
    role = session.signoff_roles[0]
    session.sign(integrity.seal_signoff(session, SignOff(role.role, role.title, "Lee Lead", T0)), T0)
    store.save(session, path)
    assert main(["show", str(path)]) == 0
    assert "sign-off stale" not in capsys.readouterr().out
    # Given a change after the sign-off, when show runs, then it names the sign-off as stale.
    session = store.load(path)
    session.set_note("code.tests", "changed after signing", T0)
    store.save(session, path)
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"[signoff:{role.role}] sign-off stale" in out
    assert "Suggested: not run yet" in out  # nothing ran: no finding


# -- run's start-up ----------------------------------------------------------------------------

def test_run_collects_garbage_while_checks_run_and_leaves_the_collector_as_it_was(
        workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Collection is held off while the run starts up and resumes (with what start-up loaded
    # frozen) before the first check; afterwards nothing stays frozen or off.
    import gc

    from predeploy_tui.engine import headless

    seen: list[tuple[bool, int]] = []
    real = headless.run_headless

    async def spy(*args: object, **kwargs: object) -> object:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return await real(*args, **kwargs)  # type: ignore[arg-type]
    monkeypatch.setattr(headless, "run_headless", spy)
    gc.unfreeze()  # an app test before may have left its start-up frozen, as the app does
    (workdir / "one.yaml").write_text(
        "id: one\ntitle: One check\nsections:\n  - id: s\n    title: S\n    groups:\n"
        "      - title: G\n        items:\n          - id: ok\n            title: OK\n"
        "            check: {type: shell, run: 'true'}\n", encoding="utf-8")
    assert gc.isenabled()
    assert main(["run", "one.yaml", "--session", "s.toml", "--checks-only"]) == 0
    assert seen
    assert seen[0][0]
    assert seen[0][1] > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_the_console_script_sets_every_object_aside_before_the_process_ends(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # entry() freezes what is alive before SystemExit, so that interpreter shutdown does not
    # scan it all again (tens of ms after an SSH run); the exit code is main's all the same.
    import gc

    from predeploy_tui import cli

    gc.unfreeze()  # an app test before may have left its start-up frozen, as the app does
    monkeypatch.setattr(cli, "main", lambda: 4)
    try:
        with pytest.raises(SystemExit) as exc:
            cli.entry()
        assert exc.value.code == 4
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_process_that_turned_collection_off_is_left_alone() -> None:
    import gc

    from predeploy_tui.commands.run import StartUp

    gc.unfreeze()  # an app test before may have left its start-up frozen, as the app does
    gc.disable()
    try:
        startup = StartUp()
        startup.close()
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert gc.get_freeze_count() == 0
