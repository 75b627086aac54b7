"""Provides one way for integration tests to run one check type the way the engine does.

The check module comes from the engine's registry, gets a real ``RunConnections`` (thread pool,
shared clients, transports) and a deadline, and its observation is judged by ``expect.judge``;
a ``CheckError`` becomes an ``error`` outcome, as the runner records it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import CheckContext, CheckError, Observation, ResolvedCheck
from predeploy_tui.engine.checks import builtin
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.expect import judge


@dataclass
class Outcome:
    """What one check run came to."""

    status: Status
    """pass / warn / fail / error."""
    summary: str
    """The one-line summary (the CheckError's reason for an error)."""
    obs: Observation | None
    """What the check saw (None for an error)."""
    elapsed: float
    """Seconds the check took."""


async def run_check(ctype: str, params: Mapping[str, Any], *, expect: Mapping[str, Any] | None = None,
                    timeout: float = 10.0, host: str | None = None, is_action: bool = False,
                    connections: Any = None) -> Outcome:
    """Run one check of type ``ctype`` with ``params`` and judge it."""
    own = connections is None
    conns = RunConnections() if own else connections
    check = ResolvedCheck(ctype, dict(params), dict(params), expect, timeout)
    loop = asyncio.get_running_loop()
    ctx = CheckContext(item_key=f"test.{ctype}", check=check, host=host, connections=conns,
                       output=lambda _text: None, folder=Path.cwd(), is_action=is_action,
                       deadline=loop.time() + timeout)
    started = time.monotonic()
    try:
        # A generous outer bound: the check itself must keep to its timeout, which tests assert.
        async with asyncio.timeout(timeout + 10):
            obs = ctx.observed(await builtin(ctype).run(ctx))
    except CheckError as exc:
        return Outcome(Status.ERROR, str(exc), None, time.monotonic() - started)
    finally:
        if own:
            await conns.aclose()
    status, summary = judge(obs, expect)
    return Outcome(status, summary, obs, time.monotonic() - started)


def undocumented(ctype: str, data: Any) -> list[str]:
    """Keys of ``data`` (and of the objects in its lists) that ``predeploy explain`` never names."""
    import importlib
    import re

    from predeploy_tui.engine.checks import BUILTIN

    text = importlib.import_module(BUILTIN[ctype]).DATA
    keys: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, Mapping):
            keys.update(str(k) for k in value)
            for child in value.values():
                if isinstance(child, list):
                    for element in child:
                        collect(element)
    collect(data)
    return sorted(k for k in keys if not re.search(rf"(?<!\w){re.escape(k)}\b", text))
