"""Ports written as ``${variables}`` reach real servers: a TLS port and an SSH host's port.

One variable file points the same checklist at another port, without editing an item.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import sshd as sshd_server
from servers.https import HTTPSServers

from predeploy_tui.cli import main
from predeploy_tui.core import store

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not sshd_server.available(), reason="sshd is not installed")]

CHECKLIST = """\
id: ports
title: Ports from variables
variables:
  tls_port: {prompt: TLS port, required: true}
  ssh_port: {prompt: SSH port, required: true}
  ca: {prompt: CA file, required: true}
hosts:
  box: {host: web1, port: '${ssh_port}'}
sections:
  - id: s
    title: S
    groups:
      - title: G
        items:
          - id: cert
            title: Certificate valid for a month
            check: {type: tls, address: 127.0.0.1, port: '${tls_port}', server_name: localhost,
                    ca_file: '${ca}', expect: {ge: 30}}
          - id: up
            title: The box answers
            check: {type: ssh, host: box, run: 'echo up', expect: {contains: up}}
"""


def run(tmp_path: Path, name: str, tls_port: object, ssh_port: object, ca: Path) -> int:
    (tmp_path / "c.yaml").write_text(CHECKLIST, encoding="utf-8")
    (tmp_path / f"{name}.toml").write_text(
        f'tls_port = {tls_port!r}\nssh_port = {ssh_port}\nca = "{ca}"\n', encoding="utf-8")
    return main(["run", str(tmp_path / "c.yaml"), "--vars", str(tmp_path / f"{name}.toml"),
                 "--session", str(tmp_path / f"{name}-session.toml"), "--deployer", "Dana"])


def test_ports_from_a_variable_file_reach_the_servers(
        ssh_env: sshd_server.SSHServer, https_servers: HTTPSServers, tmp_path: Path,
        refused_port: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "good", str(https_servers.valid), ssh_env.port,
               https_servers.ca_file) == 0, capsys.readouterr()
    good = store.load(tmp_path / "good-session.toml")
    assert good.items["s.cert"].status == "pass"
    assert good.items["s.up"].status == "pass"
    # The same checklist, another file: the SSH port now refuses, so the item could not check.
    capsys.readouterr()
    assert run(tmp_path, "moved", str(https_servers.valid), refused_port,
               https_servers.ca_file) == 4  # CONDITIONAL GO: a non-critical item errored
    assert f"box (127.0.0.1:{refused_port})" in capsys.readouterr().out
    moved = store.load(tmp_path / "moved-session.toml")
    assert moved.items["s.cert"].status == "pass"
    assert moved.items["s.up"].status == "error"


def test_a_port_variable_that_is_not_a_port_is_refused_in_one_line(
        ssh_env: sshd_server.SSHServer, https_servers: HTTPSServers, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "bad", "44x", ssh_env.port, https_servers.ca_file) == 2
    err = capsys.readouterr().err
    assert "s.cert: port ${tls_port} gives '44x' is not a port" in err
    assert err.count("\n") == 1
