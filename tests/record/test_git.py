"""Committing a session: the commit exists with its message; a planted secret is refused."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store
from predeploy_tui.core.session import Session
from predeploy_tui.engine.git import CommitRefused, commit_session, commit_with_message


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          timeout=30).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "release-repo"
    root.mkdir()
    # the user's global config must not leak in (signing keys, hooks)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(root, "init", "-q")
    git(root, "config", "user.name", "Ana Deployer")
    git(root, "config", "user.email", "ana@example.org")
    (root / "README").write_text("release repo\n")
    git(root, "add", "README")
    git(root, "commit", "-q", "-m", "start")
    return root


def test_commit_from_a_subfolder(repo: Path, session: Session,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = repo / "sessions"
    path = folder / "demo-1.4.2-staging.toml"
    store.save(session, path)
    (repo / "unrelated.txt").write_text("staged but not ours\n")
    git(repo, "add", "unrelated.txt")
    monkeypatch.chdir(folder)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["commit", path.name]) == 0
    commit = out.getvalue().split()[0]
    assert git(repo, "rev-parse", "HEAD") == commit
    assert git(repo, "log", "-1", "--format=%s") == \
        "predeploy: demo 1.4.2 staging: CONDITIONAL GO"
    assert git(repo, "show", "--name-only", "--format=", commit) == "sessions/demo-1.4.2-staging.toml"
    assert "unrelated.txt" in git(repo, "diff", "--cached", "--name-only")
    with pytest.raises(CommitRefused, match="nothing to commit"):
        commit_session(path)


def test_session_with_a_planted_secret_is_refused(repo: Path, session: Session) -> None:
    session.items["local.python"].note = "db at postgres://app:hunter2secret@db.internal/app"
    path = repo / "s.toml"
    store.save(session, path)
    with pytest.raises(CommitRefused) as caught:
        commit_session(path)
    message = str(caught.value)
    assert "password in URL on line" in message
    assert "hunter2secret" not in message
    assert git(repo, "status", "--porcelain") == "?? s.toml"
    assert git(repo, "rev-list", "--count", "HEAD") == "1"


def test_outside_a_repository_is_a_clear_error(tmp_path: Path, session: Session,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "alone" / "s.toml"
    store.save(session, path)
    env = os.environ.get("GIT_CEILING_DIRECTORIES")
    os.environ["GIT_CEILING_DIRECTORIES"] = str(tmp_path)
    try:
        assert main(["commit", str(path)]) == 2
    finally:
        if env is None:
            os.environ.pop("GIT_CEILING_DIRECTORIES")
        else:
            os.environ["GIT_CEILING_DIRECTORIES"] = env
    err = capsys.readouterr().err
    assert "is not inside a git repository" in err
    assert "Traceback" not in err


def test_failed_commit_leaves_the_session_unstaged(repo: Path, session: Session) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'policy: no commits today' >&2\nexit 1\n")
    hook.chmod(0o755)
    path = repo / "sessions" / "s.toml"
    store.save(session, path)
    with pytest.raises(CommitRefused, match="git commit failed: policy: no commits today"):
        commit_session(path)
    assert git(repo, "diff", "--cached", "--name-only") == ""
    assert git(repo, "status", "--porcelain") == "?? sessions/"
    assert git(repo, "rev-list", "--count", "HEAD") == "1"


def test_commit_loads_the_session_once_and_prints_what_it_committed(
        repo: Path, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo / "s.toml"
    store.save(session, path)
    loads: list[Path] = []
    real_load = store.load

    def counting_load(where: Path) -> Session:
        loads.append(Path(where))
        return real_load(where)

    monkeypatch.setattr(store, "load", counting_load)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["commit", str(path)]) == 0
    assert len(loads) == 1
    assert out.getvalue() == f"{git(repo, 'rev-parse', 'HEAD')} {git(repo, 'log', '-1', '--format=%s')}\n"


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0"])
def test_commit_timeout_must_be_positive_and_finite(saved: Path, value: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["commit", str(saved), "--timeout", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--timeout must be" in err


def test_signed_commit_verifies_with_git(repo: Path, session: Session, tmp_path: Path) -> None:
    # Given a repository whose config signs every commit with an SSH key file
    key = tmp_path / "signing_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ana@example.org",
                    "-f", str(key)], check=True, timeout=30, capture_output=True)
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"ana@example.org {key.with_suffix('.pub').read_text().strip()}\n")
    git(repo, "config", "gpg.format", "ssh")
    git(repo, "config", "user.signingkey", str(key))
    git(repo, "config", "commit.gpgsign", "true")
    git(repo, "config", "gpg.ssh.allowedSignersFile", str(allowed))
    path = repo / "s.toml"
    store.save(session, path)
    # When predeploy commits the session
    made = commit_with_message(path)
    # Then git itself verifies the signature on the commit
    assert made.id == git(repo, "rev-parse", "HEAD")
    assert made.message == git(repo, "log", "-1", "--format=%s")
    verified = subprocess.run(["git", "verify-commit", "-v", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=30, check=False)
    assert verified.returncode == 0, verified.stderr
    assert 'Good "git" signature for ana@example.org' in verified.stderr
    assert git(repo, "log", "-1", "--format=%G?") == "G"
