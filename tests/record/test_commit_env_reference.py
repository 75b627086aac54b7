"""``predeploy commit`` accepts a session whose checks name secrets as ``${env:X}``.

The session keeps each check as written, so ``password = "${env:DB_PASSWORD}"`` is in the file:
a reference, not a value; only real values are secrets.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from predeploy_tui.cli import main

CHECKLIST = """\
id: envref
title: Env references
variables:
  version: {default: 1.0.0}
sections:
  - id: db
    title: Database
    groups:
      - title: G
        items:
          - id: pg
            title: Primary answers
            check: {type: postgres, dsn: "postgresql://app@127.0.0.1/app",
                    password: "${env:DB_PASSWORD}", query: select 1}
          - id: api
            title: API token works
            check: {type: shell, run: 'curl -H "token: ${env:API_TOKEN}" x',
                    env: {PGPASSWORD: "${env:DB_PASSWORD}"}}
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          timeout=30).stdout.strip()


def test_a_session_naming_env_secrets_is_committed(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a release repository and a new session of a checklist naming ${env:} secrets
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Ana Deployer")
    git(repo, "config", "user.email", "ana@example.org")
    (repo / "envref.yaml").write_text(CHECKLIST, encoding="utf-8")
    session = repo / "sessions" / "envref.toml"
    session.parent.mkdir()
    assert main(["new", "--no-ui", str(repo / "envref.yaml"), "--session", str(session)]) == 0
    assert "${env:DB_PASSWORD}" in session.read_text(encoding="utf-8")
    # When it is committed
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["commit", str(session)])
    # Then it is, references and all
    assert code == 0
    assert git(repo, "show", "--name-only", "--format=", "HEAD") == "sessions/envref.toml"
