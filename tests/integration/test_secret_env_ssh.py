"""Secrets reach a command over SSH on its stdin, never its command line (the remote ``ps``).

Against the real OpenSSH sshd on loopback: the remote shell's own argv is read from /proc.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from types import MappingProxyType

import pytest
from servers import sshd as sshd_server

from predeploy_tui.core.checklist import CheckSpec
from predeploy_tui.engine.base import CheckContext, Observation
from predeploy_tui.engine.checks import builtin
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.template import Template

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not sshd_server.available(), reason="sshd is not installed")]

SECRET = "ssh s3cr3t with 'quotes' \"and\" $HOME"


@pytest.fixture
async def conns(sshd: sshd_server.SSHServer,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[RunConnections]:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    run = RunConnections(hosts={}, ssh_config=sshd.ssh_config, known_hosts=sshd.known_hosts)
    yield run
    await run.aclose()


async def run_ssh(conns: RunConnections, run: str) -> Observation:
    template = Template({"db_password": SECRET}, environ={"DEPLOY_TOKEN": SECRET},
                        secret_names={"db_password"})
    check = template.check(CheckSpec("ssh", MappingProxyType({"run": run, "host": "web1"}),
                                     None, 10.0))
    ctx = CheckContext(item_key="s.i", check=check, host="web1", connections=conns,
                       output=lambda _text: None, folder=Path.cwd(),
                       deadline=asyncio.get_running_loop().time() + 10)
    return await builtin("ssh").run(ctx)


async def test_a_remote_command_gets_secrets_on_stdin_not_its_command_line(
        conns: RunConnections) -> None:
    # Given an ssh check naming an ${env:} secret and a secret variable
    obs = await run_ssh(conns, "tr '\\0' ' ' < /proc/$$/cmdline; echo; "
                               "printf %s ${env:DEPLOY_TOKEN} | sha256sum; "
                               "printf %s \"<${db_password}>\" | sha256sum; cat; echo end")
    # Then the remote shell's argv (what the remote ps shows) does not hold the value
    lines = obs.output.splitlines()
    assert "s3cr3t" not in lines[0]
    assert "PREDEPLOY_SECRET_1" in lines[0]
    # And the command received it whole; its stdin holds nothing more (it ends, not hangs)
    assert lines[1].split()[0] == hashlib.sha256(SECRET.encode()).hexdigest()
    assert lines[2].split()[0] == hashlib.sha256(f"<{SECRET}>".encode()).hexdigest()
    assert lines[3:] == ["end"]
    assert obs.exit_code == 0
