"""Provides the local transport: commands on this machine, each in its own process group.

A command runs in a new session (``start_new_session=True``) so that on timeout or cancellation
the whole group (the shell and everything it started) gets SIGTERM, then SIGKILL after a short
grace: a child that ignores SIGTERM still dies.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
import weakref
from collections.abc import Mapping, Sequence

from predeploy_tui.engine.base import CheckError, CommandResult, OutputCallback, could_not_run
from predeploy_tui.engine.capture import HOLD_LIMIT, Capture

KILL_GRACE = 0.5
"""Seconds between SIGTERM and SIGKILL of a process group."""
DRAIN_GRACE = 0.5
"""Seconds to keep reading after the command exited: a background child may hold the pipes."""

# One spawn at a time per event loop. A fork blocks the loop for a few milliseconds; two hundred
# checks started together would otherwise fork back to back in one turn of the loop and freeze the
# UI for a second. Queued on a lock, each fork is followed by whatever else was waiting (a key).
_SPAWN_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = \
    weakref.WeakKeyDictionary()


def _spawn_gate() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    gate = _SPAWN_GATES.get(loop)
    if gate is None:
        gate = _SPAWN_GATES[loop] = asyncio.Lock()
    return gate


class _Capture(Capture):
    """Decodes one stream as it arrives, forwards it, and holds it by the capping policy."""

    def __init__(self, on_output: OutputCallback | None, limit: int = HOLD_LIMIT) -> None:
        super().__init__(limit)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._on_output = on_output

    def feed_bytes(self, data: bytes, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        if not text:
            return
        if self._on_output is not None:
            self._on_output(text)
        self.feed(text)


async def _pump(stream: asyncio.StreamReader | None, capture: _Capture) -> None:
    if stream is None:
        return
    while True:
        data = await stream.read(65536)
        if not data:
            capture.feed_bytes(b"", final=True)
            return
        capture.feed_bytes(data)


def _missing_folder(cwd: str) -> bool:
    # A stat of one path: cheap enough on the loop, and only on the failure path.
    return not os.path.isdir(cwd)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


async def kill_group(proc: asyncio.subprocess.Process, grace: float = KILL_GRACE) -> None:
    """SIGTERM the process group, wait up to ``grace``, then SIGKILL whatever is left."""
    pgid = proc.pid
    _signal_group(pgid, signal.SIGTERM)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while loop.time() < deadline:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 0.05)
        if proc.returncode is not None and not _group_alive(pgid):
            return
    _signal_group(pgid, signal.SIGKILL)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 2.0)


class LocalTransport:
    """Runs commands on this machine: text through ``/bin/sh -c``, a list as argv."""

    name = "local"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None,
                  env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
        """Run ``command``; CheckError for a missing program or folder, or on timeout."""
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else [str(a) for a in command]
        if not argv:
            raise CheckError("empty command")
        full_env = {**self._environ, **(env or {})}
        loop = asyncio.get_running_loop()
        began = loop.time()
        try:
            async with _spawn_gate():
                proc = await asyncio.create_subprocess_exec(
                    *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, env=full_env, cwd=cwd,
                    start_new_session=True)
        except FileNotFoundError:
            if cwd is not None and _missing_folder(cwd):
                raise CheckError(f"working folder not found: {cwd}") from None
            raise CheckError(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise CheckError(f"permission denied: {argv[0]}") from None
        except NotADirectoryError:
            raise CheckError(f"working folder is not a folder: {cwd}") from None
        out, err = _Capture(on_output), _Capture(on_output)
        pumps = [asyncio.create_task(_pump(proc.stdout, out)),
                 asyncio.create_task(_pump(proc.stderr, err))]
        try:
            async with asyncio.timeout(timeout):
                await _until_done(proc, pumps)
        except TimeoutError:
            await asyncio.shield(_stop(proc, pumps))
            raise CheckError(f"timed out after {timeout:g} s") from None
        except BaseException:
            await asyncio.shield(_stop(proc, pumps))
            raise
        finally:
            _close_pipes(proc)
        code = proc.returncode
        result = CommandResult(exit_code=code if code is not None and code >= 0 else None,
                               stdout=out.text(), stderr=err.text(), host=None,
                               duration=loop.time() - began, cut=out.cut + err.cut)
        why = could_not_run(result)
        if why:
            raise CheckError(why)
        return result


async def _until_done(proc: asyncio.subprocess.Process, pumps: list[asyncio.Task[None]]) -> None:
    """Wait for the output to end and the command to exit.

    ``proc.wait()`` only returns once every pipe is closed, and a background child (``server &``)
    may hold them for ever; so the exit is seen through ``returncode`` and reading stops a
    moment later.
    """
    while True:
        _, pending = await asyncio.wait(pumps, timeout=0.1)
        if not pending:
            await proc.wait()
            return
        if proc.returncode is not None:
            _, pending = await asyncio.wait(pending, timeout=DRAIN_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            _close_pipes(proc)
            return


async def _stop(proc: asyncio.subprocess.Process, pumps: list[asyncio.Task[None]]) -> None:
    await kill_group(proc)
    for task in pumps:
        task.cancel()
    await asyncio.gather(*pumps, return_exceptions=True)


def _close_pipes(proc: asyncio.subprocess.Process) -> None:
    for stream in (proc.stdout, proc.stderr):
        transport = getattr(stream, "_transport", None)
        if transport is not None:
            with contextlib.suppress(Exception):
                transport.close()
