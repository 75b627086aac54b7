"""Tests the runner's caps: the global cap bounds local checks only; SSH checks are capped per host.

Stand-in transports count the commands in flight; the SSH pool's own caps (handshakes, channels
per host) are tested against a real sshd by the integration tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import (
    CommandResult,
    ItemFinished,
    ItemStarted,
    OutputCallback,
    RunEvent,
)
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.runner import Runner

Make = Callable[..., Checklist]
Items = Callable[..., str]


class InFlight:
    """Counts the commands running at once, across every stand-in transport that shares it."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0


class CountingTransport:
    """Answers every command after a short wait, counting how many run together."""

    def __init__(self, counter: InFlight, per_host: dict[str, InFlight] | None = None) -> None:
        self.counter = counter
        self.per_host = per_host

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None, env: Mapping[str, str] | None = None,
                  cwd: str | None = None) -> CommandResult:
        counters = [self.counter]
        if self.per_host is not None:
            counters.append(self.per_host.setdefault(str(command), InFlight()))
        for counter in counters:
            counter.now += 1
            counter.peak = max(counter.peak, counter.now)
        try:
            await asyncio.sleep(0.1)
        finally:
            for counter in counters:
                counter.now -= 1
        return CommandResult(0, "ok\n")


class CountingConnections(RunConnections):
    def __init__(self, remote: InFlight, local: InFlight, per_host: dict[str, InFlight]) -> None:
        super().__init__()
        self.remote = CountingTransport(remote, per_host)
        self.local_counting = CountingTransport(local)

    def transport(self, host: str | None) -> CountingTransport:  # type: ignore[override]
        return self.local_counting if host is None else self.remote


HOSTS = """
hosts:
  web1: {host: 127.0.0.1}
  web2: {host: 127.0.0.1}
  web3: {host: 127.0.0.1}
  web4: {host: 127.0.0.1}
host_groups:
  web: {hosts: [web1, web2, web3, web4]}
"""


async def test_ssh_checks_take_no_global_slot_while_local_checks_stay_capped(
        make_checklist: Make, items: Items) -> None:
    # Each host's commands name the host, so the stand-in can count per host.
    specs = [f"{{id: r{n}h{h}, title: R{n}, check: {{type: ssh, host: web{h}, run: 'web{h}'}}}}"
             for n in range(10) for h in range(1, 5)]
    specs += [f"{{id: l{n}, title: L{n}, check: {{type: shell, run: 'true'}}}}" for n in range(10)]
    checklist = make_checklist(items(*specs), head=HOSTS)
    remote, local, per_host = InFlight(), InFlight(), dict[str, InFlight]()
    events: list[RunEvent] = []
    runner = Runner(checklist, {}, by="t", max_concurrency=2, channels_per_host=4,
                    listeners=[events.append],
                    connections=CountingConnections(remote, local, per_host))
    results = await runner.run()
    await runner.aclose()
    assert all(r.status is Status.PASS for r in results.values()), results
    # 40 remote checks over 4 hosts, 4 per host at once: 16 together although the global cap is 2
    assert remote.peak == 16
    assert {name: c.peak for name, c in per_host.items()} == {f"web{h}": 4 for h in range(1, 5)}
    assert local.peak == 2
    # A queued check says it started only once it holds a slot: not all 50 at once. (The next
    # batch may start before the first finish is reported, hence two batches of 18.)
    first_finish = next(n for n, e in enumerate(events) if isinstance(e, ItemFinished))
    assert sum(isinstance(e, ItemStarted) for e in events[:first_finish]) <= 36
