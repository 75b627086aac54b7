"""Secrets never escape a real ``predeploy run --headless``, and never come on its command line.

One run over a checklist whose checks print the whole secret corpus (tests/engine/secret_corpus.py):
no secret may reach stdout, the session file, ``--junit`` or any export; ordinary text must.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from engine.secret_corpus import ENV_NAME, ENV_SECRET, NEGATIVES, SECRET_VAR, SHAPES

from predeploy_tui.cli import main
from predeploy_tui.engine.git import secrets_in

PREDEPLOY = Path(sys.executable).parent / "predeploy"
REPAINT = "\x1b[1G\x1b[2K✔ pass"

CHECKLIST = """\
id: corpus
title: Secret corpus
variables:
  version: {default: 1.0.0}
  db_password: {prompt: Database password, secret: true}
sections:
  - id: out
    title: Output
    groups:
      - title: G
        items:
          - id: corpus
            title: Prints every secret shape
            check: {type: shell, run: 'test -n ${env:@ENV@} && test -n ${db_password} && cat corpus.txt'}
          - id: negatives
            title: Prints ordinary text
            check: {type: shell, run: 'cat negatives.txt'}
          - id: repaint
            title: "Repaints \\e[2K its own line"
            check: {type: shell, run: 'printf "\\033[1G\\033[2K\\342\\234\\224 pass\\n"; exit 1',
                    expect: {exit_code: 0}}
          - id: clear
            title: Clears the screen
            check: {type: shell, run: "echo \\e[2J cleared"}
          - id: summary
            title: Says a secret in its summary
            check: {type: shell, run: 'echo "token is ${env:@ENV@}"; exit 3', expect: {exit_code: 0}}
""".replace("@ENV@", ENV_NAME)


def predeploy(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PREDEPLOY), *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "corpus.yaml").write_text(CHECKLIST, encoding="utf-8")
    (tmp_path / "corpus.txt").write_text("\n".join(line for _, line, _ in SHAPES) + "\n",
                                         encoding="utf-8")
    (tmp_path / "negatives.txt").write_text("\n".join(NEGATIVES) + "\n", encoding="utf-8")
    return tmp_path


def test_no_secret_of_the_corpus_escapes_a_headless_run(workdir: Path) -> None:
    # Given the corpus printed by checks that name an ${env:} secret and a secret variable
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDEPLOY_")}
    env |= {ENV_NAME: ENV_SECRET, "PREDEPLOY_VAR_db_password": SECRET_VAR,
            "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    # When it runs headless with --junit, and the session is exported every way
    run = predeploy(["run", "corpus.yaml", "--headless", "--session", "s.toml", "--junit",
                     "run.xml"], workdir, env)
    assert run.returncode in (3, 4), run.stderr
    surfaces = {"stdout": run.stdout, "stderr": run.stderr,
                "session": (workdir / "s.toml").read_text(encoding="utf-8"),
                "--junit": (workdir / "run.xml").read_text(encoding="utf-8")}
    for fmt in ("markdown", "json", "junit"):
        export = predeploy(["export", "s.toml", "--format", fmt], workdir, env)
        assert export.returncode == 0, export.stderr
        surfaces[f"export {fmt}"] = export.stdout
    # Then no secret shape is on any surface
    leaks = [(name, where) for name, _, secret in SHAPES for where, text in surfaces.items()
             if secret in text or secret in text.replace("\\n", "\n")]
    leaks += [("env secret", where) for where, text in surfaces.items()
              if ENV_SECRET in text or SECRET_VAR in text
              or ENV_SECRET[:7] in text or ENV_SECRET[7:] in text]
    assert leaks == []
    # And the saved session passes the scanner `predeploy commit` uses: nothing left to refuse
    assert secrets_in(surfaces["session"]) == []
    # And the evidence was kept: every check's output made it to the record
    report = json.loads(surfaces["export json"])
    text = json.dumps(report)
    assert text.count("***") >= len(SHAPES)
    # And ordinary text is intact
    assert all(line in surfaces["export json"] or json.dumps(line)[1:-1] in text
               for line in NEGATIVES)
    # And no terminal control sequence reached stdout: the repaint is shown, not obeyed
    assert "\x1b" not in run.stdout
    assert "␛[2K" in run.stdout


def test_the_session_keeps_the_raw_control_sequence(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDEPLOY_")}
    env |= {ENV_NAME: ENV_SECRET, "PREDEPLOY_VAR_db_password": SECRET_VAR}
    run = predeploy(["run", "corpus.yaml", "--headless", "--session", "s.toml", "--item",
                     "repaint"], workdir, env)
    assert run.returncode == 4, run.stderr
    assert "\x1b" not in run.stdout
    saved = (workdir / "s.toml").read_text(encoding="utf-8")
    assert "\\u001b[1G\\u001b[2K" in saved or "\x1b[1G" in saved


@pytest.mark.parametrize("command", ["run", "new", "open", "plan"])
def test_a_secret_given_with_var_is_refused(workdir: Path, command: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.delenv("PREDEPLOY_VAR_db_password", raising=False)
    target = "corpus.yaml"
    if command == "open":
        assert main(["new", "--no-ui", "corpus.yaml", "--session", "o.toml"]) == 0
        target = "o.toml"
        capsys.readouterr()
    argv = [command, target, "--var", "db_password=hunter2-hunter2"]
    argv += ["--no-ui"] if command == "new" else ["--headless"] if command == "run" else []
    before = sorted(p.name for p in workdir.rglob("*"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert "db_password is a secret variable" in err
    assert "PREDEPLOY_VAR_db_password" in err
    assert "hunter2" not in err
    assert sorted(p.name for p in workdir.rglob("*")) == before


def test_a_secret_variable_comes_from_the_environment(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDEPLOY_")}
    env |= {ENV_NAME: ENV_SECRET}
    missing = predeploy(["run", "corpus.yaml", "--headless", "--session", "m.toml", "--item",
                         "corpus"], workdir, env)
    assert "fail    out.corpus" in missing.stdout  # the check saw no value: `test -n` failed
    env["PREDEPLOY_VAR_db_password"] = SECRET_VAR
    given = predeploy(["run", "corpus.yaml", "--headless", "--session", "g.toml", "--item",
                       "corpus"], workdir, env)
    assert "pass    out.corpus" in given.stdout, given.stdout + given.stderr
    assert SECRET_VAR not in (workdir / "g.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["show", "plan"])
def test_titles_printed_by_show_and_plan_carry_no_control_sequence(
        workdir: Path, command: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(workdir)
    assert main(["new", "--no-ui", "corpus.yaml", "--session", "t.toml"]) == 0
    capsys.readouterr()
    assert main([command, "t.toml"]) in (0, 3, 4)
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "Repaints ␛[2K its own line" in out if command == "show" else "echo ␛[2J" in out
