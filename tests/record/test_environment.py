"""Environment failures are one line and exit 2, and a failed write leaves nothing behind.

A read-only filesystem and a full disk are real tmpfs mounts (as root, permissions do not
fail, so a mode bit would prove nothing); each fixture unmounts in its teardown.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core import store

from .demo import finished_session


def cli(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(argv))
    return code, err.getvalue()


def one_line(err: str, fragment: str) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert err.count("\n") == 1, err
    assert fragment in err, err


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A read-only filesystem holding a signed session, ``s.toml``."""
    with tmpfs(tmp_path / "ro", "1m") as folder:
        store.save(finished_session(), folder / "s.toml")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        yield folder


@pytest.fixture
def full(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB filesystem holding a session, ``s.toml``, filled to its last few KiB."""
    with tmpfs(tmp_path / "full", "64k") as folder:
        store.save(finished_session(), folder / "s.toml")
        free = shutil.disk_usage(folder).free
        (folder / "filler").write_bytes(b"x" * max(0, free - 4096))
        yield folder


def test_export_to_a_read_only_filesystem(read_only: Path) -> None:
    code, err = cli("export", str(read_only / "s.toml"), "-o", str(read_only / "r.md"))
    assert code == 2
    one_line(err, "Read-only file system")


def test_sign_on_a_read_only_filesystem(read_only: Path) -> None:
    before = (read_only / "s.toml").read_bytes()
    code, err = cli("sign", str(read_only / "s.toml"), "--role", "product", "--name", "Pia")
    assert code == 2
    one_line(err, "Read-only file system")
    assert (read_only / "s.toml").read_bytes() == before


def test_export_to_a_full_disk_leaves_no_temporary_file(full: Path) -> None:
    listing = sorted(os.listdir(full))
    code, err = cli("export", str(full / "s.toml"), "--format", "json", "-o",
                    str(full / "r.json"))
    assert code == 2
    one_line(err, "No space left on device")
    assert sorted(os.listdir(full)) == listing  # no r.json, no .r.json.<pid>.tmp


def test_saving_a_session_on_a_full_disk_keeps_the_old_file(full: Path) -> None:
    before = (full / "s.toml").read_bytes()
    listing = sorted(os.listdir(full))
    session = store.load(full / "s.toml")
    session.items["local.disk"].note = "x" * 20_000
    with pytest.raises(OSError, match="No space left"):
        store.save(session, full / "s.toml")
    assert (full / "s.toml").read_bytes() == before
    assert sorted(os.listdir(full)) == listing


def test_a_name_too_long(saved: Path) -> None:
    code, err = cli("export", str(saved), "-o", str(saved.parent / ("x" * 300 + ".md")))
    assert code == 2
    one_line(err, "File name too long")


def test_a_folder_or_a_pipe_where_a_session_is_expected(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.toml")
    for target in (tmp_path, tmp_path / "pipe.toml"):
        for command in ("verify", "show", "export"):
            code, err = cli(command, str(target))
            assert code == 2
            one_line(err, "not a file")


# -- reports never replace what is there -------------------------------------------------------

def test_export_refuses_an_existing_file_without_force(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    out.write_text("keep me")
    code, err = cli("export", str(saved), "--format", "json", "-o", str(out))
    assert code == 2
    one_line(err, "the file exists; add --force to replace it")
    assert out.read_text() == "keep me"
    assert cli("export", str(saved), "--format", "json", "-o", str(out), "--force")[0] == 0
    assert out.read_text().startswith("{")


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_export_never_writes_over_a_session(saved: Path, tmp_path: Path, force: list[str]) -> None:
    other = tmp_path / "other.toml"
    shutil.copy(saved, other)
    for target in (saved, other):
        before = target.read_bytes()
        code, err = cli("export", str(saved), "--format", "json", "-o", str(target), *force)
        assert code == 2
        one_line(err, "is a session file; a report never replaces one")
        assert target.read_bytes() == before


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "forced"])
def test_run_junit_never_writes_over_a_session(saved: Path, force: list[str]) -> None:
    before = saved.read_bytes()
    code, err = cli("run", str(saved), "--junit", str(saved), *force)
    assert code == 2
    one_line(err, "is a session file; a report never replaces one")
    assert saved.read_bytes() == before


def test_run_junit_refuses_an_existing_file_before_running(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    out.write_text("keep me")
    before = saved.read_bytes()
    code, err = cli("run", str(saved), "--junit", str(out))
    assert code == 2
    one_line(err, "the file exists; add --force to replace it")
    assert out.read_text() == "keep me"
    assert saved.read_bytes() == before  # refused before any check ran
