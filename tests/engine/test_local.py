"""Tests the local transport: streaming, timeouts killing the whole group, cancel, missing program."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.local import LocalTransport


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


async def test_shell_and_argv_forms_with_env_and_cwd(tmp_path: Path) -> None:
    t = LocalTransport({"PATH": os.environ["PATH"]})
    res = await t.run('echo "$GREETING from $(pwd)"; echo err >&2; exit 3', timeout=5,
                      env={"GREETING": "hello"}, cwd=str(tmp_path))
    assert res.exit_code == 3
    assert res.stdout == f"hello from {tmp_path}\n"
    assert res.stderr == "err\n"
    argv = await t.run(["printf", "%s|", "a b", "$HOME"], timeout=5)
    assert argv.stdout == "a b|$HOME|"


async def test_output_streams_before_the_command_ends() -> None:
    chunks: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()
    t = LocalTransport()
    res = await t.run("echo first; sleep 1; echo second", timeout=5,
                      on_output=lambda s: chunks.append((loop.time(), s)))
    assert "".join(s for _, s in chunks) == "first\nsecond\n" == res.stdout
    first_at = next(at for at, s in chunks if "first" in s)
    second_at = next(at for at, s in chunks if "second" in s)
    assert second_at - first_at > 0.5  # "first" arrived while the command was still sleeping


async def test_timeout_kills_the_group_including_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = (f"sh -c 'trap \"\" TERM; echo $$ > {pidfile}; while :; do sleep 0.1; done' & "
              "wait")
    t = LocalTransport()
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(CheckError, match="timed out after 1 s"):
        await t.run(script, timeout=1)
    assert loop.time() - began < 1 + 1.5  # within the timeout plus the kill grace
    child = int(pidfile.read_text())
    for _ in range(20):
        if not _alive(child):
            break
        await asyncio.sleep(0.05)
    assert not _alive(child)


async def test_cancel_kills_the_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    t = LocalTransport()
    task = asyncio.create_task(t.run(f"echo $$ > {pidfile}; exec sleep 30", timeout=60))
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int(pidfile.read_text())
    assert not _alive(pid)


async def test_missing_program_is_a_readable_error() -> None:
    t = LocalTransport()
    with pytest.raises(CheckError, match="command not found: no-such-tool-xyz"):
        await t.run(["no-such-tool-xyz", "--version"], timeout=5)
    with pytest.raises(CheckError, match="command not found: no-such-tool-xyz"):
        await t.run("no-such-tool-xyz --version", timeout=5)


async def test_background_child_holding_the_pipe_does_not_hang_the_check() -> None:
    t = LocalTransport()
    loop = asyncio.get_running_loop()
    began = loop.time()
    res = await t.run("sleep 5 & echo started", timeout=10)
    assert res.exit_code == 0
    assert res.stdout == "started\n"
    assert loop.time() - began < 4
