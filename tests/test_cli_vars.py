"""Tests ``--vars FILE``: one variable file serving several checklists, ``--var`` winning over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store

CHECKLIST = (Path(__file__).parent / "core" / "data" / "tiny.yaml").read_text(encoding="utf-8")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp cwd holding tiny.yaml (variables version, env and the secret token)."""
    monkeypatch.delenv("PREDEPLOY_SESSIONS_DIR", raising=False)
    monkeypatch.delenv("PREDEPLOY_VAR_token", raising=False)
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "tiny.yaml").write_text(CHECKLIST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("name", "text"), [
    ("release.toml", 'version = "1.2.3"\nenv = "production"\nregion = "eu-west-1"\nreplicas = 3\n'),
    ("release.yaml", "version: 1.2.3\nenv: production\nregion: eu-west-1\nreplicas: 3\n"),
])
def test_new_takes_variables_from_a_file_and_warns_once_about_the_others(
        workdir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str) -> None:
    (workdir / name).write_text(text, encoding="utf-8")
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--vars", name,
                 "--session", "s.toml", "--deployer", "Dana"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"--vars {name}: not declared by this checklist, ignored: region, replicas" in err
    session = store.load(workdir / "s.toml")
    assert session.variables["version"] == "1.2.3"
    assert session.variables["env"] == "production"
    assert "region" not in session.variables


def test_a_var_on_the_command_line_wins_over_the_file(workdir: Path) -> None:
    (workdir / "v.toml").write_text('version = "1.2.3"\nenv = "production"\n', encoding="utf-8")
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--vars", "v.toml", "--var",
                 "env=staging", "--session", "s.toml", "--deployer", "Dana"]) == 0
    session = store.load(workdir / "s.toml")
    assert (session.variables["version"], session.variables["env"]) == ("1.2.3", "staging")


def test_an_undeclared_var_on_the_command_line_is_still_refused(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "v.toml").write_text('version = "1.2.3"\n', encoding="utf-8")
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--vars", "v.toml", "--var",
                 "colour=blue", "--session", "s.toml", "--deployer", "Dana"]) == 2
    assert "unknown variable(s): colour" in capsys.readouterr().err
    assert not (workdir / "s.toml").exists()


@pytest.mark.parametrize(("name", "text", "fragment"), [
    ("v.toml", 'version = "1.2.3"\ntoken = "hunter22"\n',
     "--vars v.toml: token is a secret variable and is not read from a file; "
     "set PREDEPLOY_VAR_token"),
    ("v.yaml", "version: [1, 2]\n", "--vars v.yaml: version: expected text or a number, got list"),
    ("v.yaml", "version: true\n", "--vars v.yaml: version: expected text or a number, got bool"),
    ("v.yaml", "- version\n", "--vars v.yaml: expected a mapping of variable names to values"),
    ("v.toml", "version = \n", "--vars v.toml: cannot read it:"),
    ("v.json", "{}", "--vars v.json: expected a .toml, .yaml or .yml file"),
    ("absent.toml", None, "--vars absent.toml: no such file"),
])
def test_a_bad_variable_file_is_one_line_and_exit_2(
        workdir: Path, capsys: pytest.CaptureFixture[str], name: str, text: str | None,
        fragment: str) -> None:
    if text is not None:
        (workdir / name).write_text(text, encoding="utf-8")
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--vars", name,
                 "--session", "s.toml", "--deployer", "Dana"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    assert fragment in err
    assert "hunter22" not in err
    assert not (workdir / "s.toml").exists()


def test_plan_fills_variables_from_the_file(workdir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "v.yaml").write_text("version: 4.5.6\nunrelated: x\n", encoding="utf-8")
    assert main(["plan", "checklists/tiny.yaml", "--vars", "v.yaml"]) == 0
    out, err = capsys.readouterr()
    assert "git tag v4.5.6" in out
    assert "ignored: unrelated" in err


def test_run_takes_the_file_for_a_new_session(workdir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "v.toml").write_text('version = "7.8.9"\n', encoding="utf-8")
    main(["run", "checklists/tiny.yaml", "--vars", "v.toml", "--session", "s.toml",
          "--deployer", "Dana", "--item", "code.tests"])
    assert store.load(workdir / "s.toml").variables["version"] == "7.8.9"


def test_new_names_the_flag_for_each_missing_variable(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--session", "s.toml",
                 "--deployer", "Dana"]) == 2
    err = capsys.readouterr().err
    assert "missing variable version: give --var version=... (Deployment version)" in err


def test_open_reads_the_file_before_it_asks_for_a_terminal(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--var", "version=1.2.3",
                 "--session", "s.toml", "--deployer", "Dana"]) == 0
    capsys.readouterr()
    (workdir / "v.yaml").write_text("env: production\nregion: eu\n", encoding="utf-8")
    assert main(["open", "s.toml", "--vars", "v.yaml"]) == 2  # no terminal under pytest
    err = capsys.readouterr().err
    assert "--vars v.yaml: not declared by this checklist, ignored: region" in err
    assert "needs a terminal" in err
    (workdir / "v.yaml").write_text("token: hunter22\n", encoding="utf-8")
    assert main(["open", "s.toml", "--vars", "v.yaml"]) == 2
    err = capsys.readouterr().err
    assert "token is a secret variable and is not read from a file" in err
    assert "hunter22" not in err


def test_a_yaml_alias_bomb_in_a_variable_file_is_refused_unexpanded(
        workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    (workdir / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["new", "--no-ui", "checklists/tiny.yaml", "--vars", "bomb.yaml",
                 "--session", "s.toml", "--deployer", "Dana"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("predeploy: --vars bomb.yaml:1:1: YAML aliases expand this file")
    assert err.count("\n") == 1
