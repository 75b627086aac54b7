"""Provides the real servers integration tests talk to, started on free 127.0.0.1 ports.

Fixtures (use them from any test under ``tests/integration``):

- ``sshd``: a session-wide OpenSSH server (``servers.openssh.SSHServer``): aliases web1..web4, ``behind``
  (ProxyJump web1) and ``wrongkey`` in ``sshd.ssh_config``; ``sshd.known_hosts`` trusts it.
- ``ssh_env``: points the engine at ``sshd`` through ``PREDEPLOY_SSH_CONFIG`` / ``PREDEPLOY_KNOWN_HOSTS``
  and hides any SSH agent; returns the server. Use it for ``predeploy run`` and ``Runner`` tests.
- ``doomed_sshd``: a server of its own that a test may kill or restart.
- ``https_servers``: HTTPS servers with valid / expiring / expired / wrong-name certificates.
- ``dns_server``: an authoritative DNS server (UDP + TCP) answering ``servers.dns.RECORDS``.
- ``silent_port`` / ``refused_port``: a TCP port that accepts and never answers, one that refuses.

To run a recorded command "over SSH" (e.g. a fake ``nvidia-smi``), put a script in a temp folder
and run it by absolute path through any alias: the sshd runs as the test user on this machine.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import dns as zone
from servers import https, tcp
from servers import sshd as openssh


@pytest.fixture(scope="session")
def sshd_server() -> Iterator[openssh.SSHServer]:
    """The shared sshd (prefer the ``sshd`` or ``ssh_env`` fixtures)."""
    if not openssh.available():
        pytest.skip("OpenSSH server (sshd) is not installed")
    with tempfile.TemporaryDirectory(prefix="predeploy-sshd-") as folder:
        server = openssh.make_server(Path(folder))
        try:
            yield server
        finally:
            server.kill()


@pytest.fixture
def sshd(sshd_server: openssh.SSHServer) -> openssh.SSHServer:
    """The shared sshd, restarted if an earlier test stopped it."""
    if sshd_server.process is None or sshd_server.process.poll() is not None:
        sshd_server.start()
    return sshd_server


@pytest.fixture
def ssh_env(sshd: openssh.SSHServer, monkeypatch: pytest.MonkeyPatch) -> openssh.SSHServer:
    """``sshd`` wired in through the environment, with no SSH agent in the way."""
    monkeypatch.setenv("PREDEPLOY_SSH_CONFIG", str(sshd.ssh_config))
    monkeypatch.setenv("PREDEPLOY_KNOWN_HOSTS", str(sshd.known_hosts))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return sshd


@pytest.fixture
def doomed_sshd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[openssh.SSHServer]:
    """An sshd of this test's own, to kill mid-run."""
    if not openssh.available():
        pytest.skip("OpenSSH server (sshd) is not installed")
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    server = openssh.make_server(tmp_path / "sshd")
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture(scope="session")
def https_servers() -> Iterator[https.HTTPSServers]:
    """HTTPS servers, one per certificate case, signed by a throwaway CA."""
    with tempfile.TemporaryDirectory(prefix="predeploy-https-") as folder:
        servers = https.start(Path(folder))
        try:
            yield servers
        finally:
            servers.close()


@pytest.fixture(scope="session")
def dns_server() -> Iterator[zone.DNSServer]:
    """A loopback DNS server answering :data:`servers.dns.RECORDS`."""
    server = zone.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word."""
    sock = tcp.silent_listener()
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


@pytest.fixture
def refused_port() -> int:
    """A port nothing listens on."""
    return tcp.refused_port()
