"""Over SSH, a command the remote shell could not find is "could not check" too (real sshd)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from servers import sshd as sshd_server
from servers.run_check import run_check

from predeploy_tui.core.results import Status
from predeploy_tui.engine.connections import RunConnections

pytestmark = pytest.mark.integration


@pytest.fixture
async def conns(sshd: sshd_server.SSHServer,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunConnections]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    run = RunConnections(hosts={}, ssh_config=sshd.ssh_config, known_hosts=sshd.known_hosts)
    yield run
    await run.aclose()


@pytest.mark.parametrize("command", ["no-such-tool-xyz --version",
                                     "no-such-tool-xyz --version; echo done"])
async def test_a_missing_remote_tool_is_an_error(conns: RunConnections, command: str) -> None:
    outcome = await run_check("ssh", {"run": command, "host": "web1"}, host="web1", timeout=15,
                              connections=conns)
    assert outcome.status is Status.ERROR, outcome.summary
    assert "command not found: no-such-tool-xyz on web1" in outcome.summary
