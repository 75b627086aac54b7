"""Differential test: predeploy trusts an SSH host key if and only if OpenSSH ``ssh`` does.

Each situation writes its own ssh_config and known_hosts files, then connects to a real sshd twice:
with ``ssh -F CONFIG -o BatchMode=yes ALIAS true`` and through the engine (an ``ssh`` check on a
``RunConnections``). Both outcomes must equal the expected one, so a situation where both wrongly
connect fails too. Two servers: the shared ``sshd`` (one ED25519 host key) and one of this module
with an ED25519 key signed by a throwaway CA (``HostCertificate``) and an ECDSA key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from servers import sshd as openssh
from servers.run_check import run_check

from predeploy_tui.core.checklist import Host
from predeploy_tui.core.results import Status
from predeploy_tui.engine.connections import RunConnections

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not openssh.available(), reason="sshd is not installed")]


@dataclass(frozen=True)
class World:
    """The two servers and every key a situation may write into a known_hosts file."""

    plain: openssh.SSHServer
    """The shared sshd: one ED25519 host key."""
    cert: openssh.SSHServer
    """This module's sshd: ED25519 key with a CA-signed certificate, and an ECDSA key."""
    fields: dict[str, str]
    """Template fields: ports, keys, CA keys, user and identity."""


def _pub(path: Path) -> str:
    return " ".join(Path(f"{path}.pub").read_text().split()[:2])


def _keygen(path: Path, kind: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True, timeout=30)
    return _pub(path)


def hashed(name: str) -> str:
    """A hashed known_hosts host field for ``name`` (what ``HashKnownHosts yes`` writes)."""
    salt = os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.fixture(scope="module")
def cert_sshd(sshd_server: openssh.SSHServer) -> Iterator[tuple[openssh.SSHServer, str]]:
    """An sshd presenting a host certificate (principals 127.0.0.1, certhost); and the CA's key."""
    with tempfile.TemporaryDirectory(prefix="predeploy-certsshd-") as name:
        folder = Path(name)
        server = openssh.make_server(folder)
        ca = folder / "host_ca"
        ca_line = _keygen(ca, "ed25519")
        host_key = folder / "ssh_host_ed25519_key"
        subprocess.run(["ssh-keygen", "-q", "-s", str(ca), "-I", "certhost", "-h",
                        "-n", "127.0.0.1,certhost", f"{host_key}.pub"], check=True, timeout=30)
        _keygen(folder / "ssh_host_ecdsa_key", "ecdsa")
        # An RSA host key certified by an RSA CA with an SHA-1 signature (ssh-rsa), which
        # OpenSSH's default CASignatureAlgorithms no longer accept.
        rsa_key = folder / "ssh_host_rsa_key"
        _keygen(rsa_key, "rsa")
        rsa_ca = folder / "rsa_ca"
        _keygen(rsa_ca, "rsa")
        subprocess.run(["ssh-keygen", "-q", "-s", str(rsa_ca), "-t", "ssh-rsa", "-I", "sha1", "-h",
                        "-n", "127.0.0.1", f"{rsa_key}.pub"], check=True, timeout=30)
        with (folder / "sshd_config").open("a") as config:
            config.write(f"HostKey {folder}/ssh_host_ecdsa_key\nHostKey {rsa_key}\n"
                         f"HostCertificate {host_key}-cert.pub\nHostCertificate {rsa_key}-cert.pub\n")
        # One identity for both servers.
        (folder / "authorized_keys").write_text(Path(f"{sshd_server.user_key}.pub").read_text())
        server.start()
        try:
            yield server, ca_line
        finally:
            server.kill()


@pytest.fixture(scope="module")
def world(sshd_server: openssh.SSHServer, cert_sshd: tuple[openssh.SSHServer, str],
          tmp_path_factory: pytest.TempPathFactory) -> World:
    """Both servers and the keys the situations use."""
    cert, ca_line = cert_sshd
    keys = tmp_path_factory.mktemp("keys")
    fields = {
        "P": str(sshd_server.port), "C": str(cert.port), "user": sshd_server.user,
        "id": str(sshd_server.user_key),
        "key": sshd_server.host_key_line, "other": _keygen(keys / "other", "ed25519"),
        "other_ecdsa": _keygen(keys / "other_ecdsa", "ecdsa"),
        "cert_key": cert.host_key_line, "cert_ecdsa": _pub(cert.folder / "ssh_host_ecdsa_key"),
        "ca": ca_line, "other_ca": _keygen(keys / "other_ca", "ed25519"),
        "rsa_ca": _pub(cert.folder / "rsa_ca"), "cert_rsa": _pub(cert.folder / "ssh_host_rsa_key"),
        "hashed_port": hashed(f"[127.0.0.1]:{sshd_server.port}"), "hashed_bare": hashed("127.0.0.1"),
    }
    return World(sshd_server, cert, fields)


@dataclass(frozen=True)
class Situation:
    """One ssh_config + known_hosts arrangement and whether OpenSSH connects."""

    id: str
    connects: bool
    """What OpenSSH does (and so predeploy must do)."""
    hosts: str
    """ssh_config blocks before the common ``Host *`` block (alias ``target`` is connected to)."""
    known_hosts: str = ""
    """The user known_hosts file (``{dir}/known_hosts``)."""
    other_files: tuple[tuple[str, str], ...] = ()
    """Further files in the situation's folder: (name, content)."""
    override: str | None = None
    """A file in the folder given as PREDEPLOY_KNOWN_HOSTS (ssh gets -o UserKnownHostsFile)."""


def _target(port: str = "{P}", hostname: str = "127.0.0.1", extra: str = "") -> str:
    return f"Host target\n    HostName {hostname}\n    Port {port}\n{extra}"


SITUATIONS = [
    Situation("known-port-entry", True, _target(), "[127.0.0.1]:{P} {key}\n"),
    Situation("unknown-host", False, _target(), "[127.0.0.1]:1 {key}\n"),
    Situation("changed-key", False, _target(), "[127.0.0.1]:{P} {other}\n"),
    Situation("key-of-another-type", False, _target(), "[127.0.0.1]:{P} {other_ecdsa}\n"),
    Situation("changed-entry-beside-matching-one", True, _target(),
              "[127.0.0.1]:{P} {other}\n[127.0.0.1]:{P} {key}\n"),
    Situation("hashed-entry", True, _target(), "{hashed_port} {key}\n"),
    Situation("hashed-entry-changed", False, _target(), "{hashed_port} {other}\n"),
    Situation("host-key-alias", True, _target(extra="    HostKeyAlias bastion-box\n"),
              "bastion-box {key}\n"),
    Situation("host-key-alias-ignores-address", False,
              _target(extra="    HostKeyAlias bastion-box\n"), "[127.0.0.1]:{P} {key}\n"),
    Situation("host-key-alias-has-no-port", False,
              _target(extra="    HostKeyAlias bastion-box\n"), "[bastion-box]:{P} {key}\n"),
    Situation("user-known-hosts-files-several", True,
              _target(extra="    UserKnownHostsFile {dir}/first {dir}/second\n"), "",
              (("first", "[127.0.0.1]:1 {key}\n"), ("second", "[127.0.0.1]:{P} {key}\n"))),
    Situation("user-known-hosts-file-named-is-the-only-one", False,
              _target(extra="    UserKnownHostsFile {dir}/first\n"), "[127.0.0.1]:{P} {key}\n",
              (("first", ""),)),
    Situation("global-known-hosts-file", True, _target(), "",
              (("global_known_hosts", "[127.0.0.1]:{P} {key}\n"),)),
    Situation("global-changed-user-matches", True, _target(), "[127.0.0.1]:{P} {key}\n",
              (("global_known_hosts", "[127.0.0.1]:{P} {other}\n"),)),
    Situation("revoked-key", False, _target(), "@revoked * {key}\n[127.0.0.1]:{P} {key}\n"),
    Situation("revoked-other-key", True, _target(), "@revoked * {other}\n[127.0.0.1]:{P} {key}\n"),
    Situation("name-not-ip-decides-unknown", False, _target(hostname="localhost"),
              "[127.0.0.1]:{P} {key}\n"),
    Situation("name-not-ip-decides-changed", False, _target(hostname="localhost"),
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {other}\n"),
    Situation("name-known", True, _target(hostname="localhost"), "[localhost]:{P} {key}\n"),
    Situation("bare-host-on-non-default-port", True, _target(), "127.0.0.1 {key}\n"),
    Situation("bare-host-changed-on-non-default-port", False, _target(), "127.0.0.1 {other}\n"),
    Situation("port-entry-changed-bare-matches", False, _target(),
              "[127.0.0.1]:{P} {other}\n127.0.0.1 {key}\n"),
    Situation("wildcard-pattern", True, _target(), "[127.0.0.?]:*,otherhost {key}\n"),
    Situation("negated-pattern", False, _target(), "[127.0.0.*]:*,![127.0.0.1]:{P} {key}\n"),
    Situation("known-type-chosen-among-several", True, _target("{C}"), "[127.0.0.1]:{C} {cert_ecdsa}\n"),
    Situation("cert-authority", True, _target("{C}"), "@cert-authority * {ca}\n"),
    Situation("cert-authority-for-other-names", False, _target("{C}"),
              "@cert-authority *.example.com {ca}\n"),
    Situation("cert-authority-other-ca", False, _target("{C}"), "@cert-authority * {other_ca}\n"),
    Situation("cert-authority-revoked", False, _target("{C}"),
              "@cert-authority * {ca}\n@revoked * {ca}\n"),
    Situation("cert-authority-certificate-key-revoked", False, _target("{C}"),
              "@cert-authority * {ca}\n@revoked * {cert_key}\n"),
    Situation("cert-authority-sha1-signature", False,
              _target("{C}", extra="    HostKeyAlgorithms rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512\n"),
              "@cert-authority * {rsa_ca}\n"),
    Situation("cert-authority-sha1-signature-plain-key-known", True,
              _target("{C}", extra="    HostKeyAlgorithms rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512\n"),
              "@cert-authority * {rsa_ca}\n[127.0.0.1]:{C} {cert_rsa}\n"),
    Situation("cert-authority-sha1-signature-allowed", True,
              _target("{C}", extra="    HostKeyAlgorithms rsa-sha2-512-cert-v01@openssh.com,rsa-sha2-512\n"
                      "    CASignatureAlgorithms +ssh-rsa\n"),
              "@cert-authority * {rsa_ca}\n"),
    Situation("cert-principal-mismatch", False, _target("{C}", "localhost"), "@cert-authority * {ca}\n"),
    Situation("cert-principal-mismatch-plain-key-known", True, _target("{C}", "localhost"),
              "@cert-authority * {ca}\n[localhost]:{C} {cert_key}\n"),
    Situation("cert-host-key-alias-principal", True,
              _target("{C}", extra="    HostKeyAlias certhost\n"), "@cert-authority certhost {ca}\n"),
    Situation("proxyjump-both-known", True,
              _target(extra="    ProxyJump hop\n") + "Host hop\n    HostName localhost\n    Port {P}\n",
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {key}\n"),
    Situation("proxyjump-hop-unknown", False,
              _target(extra="    ProxyJump hop\n") + "Host hop\n    HostName localhost\n    Port {P}\n",
              "[127.0.0.1]:{P} {key}\n"),
    Situation("proxyjump-hop-changed", False,
              _target(extra="    ProxyJump hop\n") + "Host hop\n    HostName localhost\n    Port {P}\n",
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {other}\n"),
    Situation("proxyjump-destination-unknown", False,
              _target(extra="    ProxyJump hop\n") + "Host hop\n    HostName localhost\n    Port {P}\n",
              "[localhost]:{P} {key}\n"),
    Situation("revoked-host-keys-file", False, _target(extra="    RevokedHostKeys {dir}/revoked\n"),
              "[127.0.0.1]:{P} {key}\n", (("revoked", "{other}\n{key}\n"),)),
    Situation("revoked-host-keys-file-other-key", True,
              _target(extra="    RevokedHostKeys {dir}/revoked\n"), "[127.0.0.1]:{P} {key}\n",
              (("revoked", "{other}\n"),)),
    Situation("revoked-host-keys-file-missing", False,
              _target(extra="    RevokedHostKeys {dir}/absent\n"), "[127.0.0.1]:{P} {key}\n"),
    Situation("revoked-host-keys-file-ca", False,
              _target("{C}", extra="    RevokedHostKeys {dir}/revoked\n"), "@cert-authority * {ca}\n",
              (("revoked", "{ca}\n"),)),
    Situation("revoked-host-keys-file-certificate-key", False,
              _target("{C}", extra="    RevokedHostKeys {dir}/revoked\n"), "@cert-authority * {ca}\n",
              (("revoked", "{cert_key}\n"),)),
    Situation("check-host-ip-off-for-loopback", True,
              _target(hostname="localhost", extra="    CheckHostIP yes\n"),
              "[localhost]:{P} {key}\n[127.0.0.1]:{P} {other}\n"),
    Situation("host-key-algorithms-from-config", False,
              _target("{C}", extra="    HostKeyAlgorithms ecdsa-sha2-nistp256\n"),
              "[127.0.0.1]:{C} {cert_key}\n"),
    Situation("host-key-algorithms-from-config-known", True,
              _target("{C}", extra="    HostKeyAlgorithms ecdsa-sha2-nistp256,ssh-ed25519\n"),
              "[127.0.0.1]:{C} {cert_ecdsa}\n"),
    Situation("host-key-algorithms-appended", True,
              _target("{C}", extra="    HostKeyAlgorithms +ssh-rsa\n"), "[127.0.0.1]:{C} {cert_ecdsa}\n"),
    Situation("host-key-algorithms-first", False,
              _target("{C}", extra="    HostKeyAlgorithms ^ecdsa-sha2-nistp256\n"),
              "[127.0.0.1]:{C} {cert_key}\n"),
    Situation("certificate-shown-plain-key-known", True, _target("{C}"), "[127.0.0.1]:{C} {cert_key}\n"),
    Situation("certificate-shown-unknown", False, _target("{C}"), "[127.0.0.1]:1 {cert_key}\n"),
    Situation("host-name-case", True, _target(hostname="LocalHost"), "[localhost]:{P} {key}\n"),
    Situation("pattern-case", True, _target(hostname="localhost"), "[LOCALHOST]:{P} {key}\n"),
    Situation("hashed-bare-host-on-non-default-port", True, _target(), "{hashed_bare} {key}\n"),
    Situation("proxyjump-spec-with-user-and-port", True,
              _target(extra="    ProxyJump {user}@localhost:{P}\n"),
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {key}\n"),
    Situation("proxyjump-spec-hop-unknown", False,
              _target(extra="    ProxyJump {user}@localhost:{P}\n"), "[127.0.0.1]:{P} {key}\n"),
    Situation("proxyjump-two-hops", True,
              _target(extra="    ProxyJump hop,hop2\n") + "Host hop\n    HostName localhost\n    Port {P}\n"
              "Host hop2\n    HostName 127.0.0.1\n    Port {P}\n    HostKeyAlias second-hop\n",
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {key}\nsecond-hop {key}\n"),
    Situation("proxyjump-second-hop-changed", False,
              _target(extra="    ProxyJump hop,hop2\n") + "Host hop\n    HostName localhost\n    Port {P}\n"
              "Host hop2\n    HostName 127.0.0.1\n    Port {P}\n    HostKeyAlias second-hop\n",
              "[127.0.0.1]:{P} {key}\n[localhost]:{P} {key}\nsecond-hop {other}\n"),
    Situation("user-known-hosts-file-none", True,
              _target(extra="    UserKnownHostsFile none\n"), "[127.0.0.1]:1 {key}\n",
              (("global_known_hosts", "[127.0.0.1]:{P} {key}\n"),)),
    Situation("predeploy-known-hosts-override", True, _target(), "[127.0.0.1]:{P} {other}\n",
              (("override", "[127.0.0.1]:{P} {key}\n"),), override="override"),
    Situation("predeploy-known-hosts-override-unknown", False, _target(), "[127.0.0.1]:{P} {key}\n",
              (("override", ""),), override="override"),
]


def write_situation(situation: Situation, world: World, folder: Path) -> Path:
    """Write the situation's files; returns its ssh_config."""
    fields = dict(world.fields, dir=str(folder))
    config = situation.hosts.format(**fields) + f"""
Host *
    User {fields['user']}
    IdentityFile {fields['id']}
    IdentitiesOnly yes
    BatchMode yes
    UpdateHostKeys no
    UserKnownHostsFile {folder}/known_hosts
    GlobalKnownHostsFile {folder}/global_known_hosts
"""
    (folder / "ssh_config").write_text(config)
    (folder / "known_hosts").write_text(situation.known_hosts.format(**fields))
    for name, text in situation.other_files:
        (folder / name).write_text(text.format(**fields))
    return folder / "ssh_config"


def openssh_connects(config: Path, alias: str, *extra: str) -> tuple[bool, str]:
    """Whether ``ssh -F CONFIG -o BatchMode=yes ALIAS true`` connects, and its stderr."""
    env = {k: v for k, v in os.environ.items() if k != "SSH_AUTH_SOCK"}
    done = subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", *extra, alias, "true"],
                          capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL, start_new_session=True)
    return done.returncode == 0, done.stderr.strip()


async def predeploy_connects(config: Path, alias: str, *, override: Path | None = None,
                             hosts: dict[str, Host] | None = None) -> tuple[bool, str]:
    """Whether an ``ssh`` check on ``alias`` connects, through the engine a run uses."""
    run = RunConnections(hosts=hosts or {}, ssh_config=config, known_hosts=override)
    try:
        outcome = await run_check("ssh", {"run": "true", "host": alias}, host=alias, timeout=20,
                                  connections=run)
    finally:
        await run.aclose()
    return outcome.status is Status.PASS, outcome.summary


@pytest.fixture
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SSH agent, and no PREDEPLOY_KNOWN_HOSTS from the environment."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.delenv("PREDEPLOY_KNOWN_HOSTS", raising=False)


def test_the_table_is_large_enough() -> None:
    assert len(SITUATIONS) >= 20
    assert len({s.id for s in SITUATIONS}) == len(SITUATIONS)
    assert {True, False} == {s.connects for s in SITUATIONS}


@pytest.mark.usefixtures("no_agent")
@pytest.mark.parametrize("situation", SITUATIONS, ids=[s.id for s in SITUATIONS])
async def test_predeploy_connects_iff_openssh_does(situation: Situation, world: World,
                                                   tmp_path: Path) -> None:
    config = write_situation(situation, world, tmp_path)
    override = tmp_path / situation.override if situation.override else None
    # predeploy first: OpenSSH never writes known_hosts here (BatchMode, UpdateHostKeys no), but
    # nothing it might do can then change what predeploy saw.
    ours, why = await predeploy_connects(config, "target", override=override)
    extra = ("-o", f"UserKnownHostsFile={override}") if override else ()
    theirs, stderr = openssh_connects(config, "target", *extra)
    assert theirs is situation.connects, f"OpenSSH: {stderr}"
    assert ours is theirs, f"predeploy: {why}; OpenSSH: {stderr}"
    if not ours:
        assert "host key" in why, why  # refused for its host key, not for another reason


@pytest.mark.usefixtures("no_agent")
async def test_checklist_host_localhost_is_judged_by_its_name_not_its_address(
        world: World, tmp_path: Path) -> None:
    # Given a checklist host {host: localhost, port: P} and known_hosts trusting the key under
    # [127.0.0.1]:P while [localhost]:P is pinned to another key
    fields = world.fields
    port = int(fields["P"])
    config = tmp_path / "ssh_config"
    config.write_text(f"Host *\n    UserKnownHostsFile {tmp_path}/known_hosts\n"
                      f"    GlobalKnownHostsFile {tmp_path}/global\n    UpdateHostKeys no\n")
    known = tmp_path / "known_hosts"
    hosts = {"app": Host(name="app", host="localhost", port=port, user=fields["user"],
                         identity_file=fields["id"])}
    cases = {"changed": f"[127.0.0.1]:{port} {fields['key']}\n[localhost]:{port} {fields['other']}\n",
             "unknown": f"[127.0.0.1]:{port} {fields['key']}\n",
             "known": f"[localhost]:{port} {fields['key']}\n"}
    for case, text in cases.items():
        known.write_text(text)
        # When predeploy and OpenSSH connect to it
        ours, why = await predeploy_connects(config, "app", hosts=hosts)
        theirs, stderr = openssh_connects(config, "localhost", "-p", str(port), "-l", fields["user"],
                                          "-i", fields["id"], "-o", "IdentitiesOnly=yes")
        # Then both refuse unless [localhost]:P itself has the key
        assert theirs is (case == "known"), f"{case}: {stderr}"
        assert ours is theirs, f"{case}: {why}"
        if case == "changed":
            assert "CHANGED" in why, why
            assert f"[localhost]:{port}" in why, why


DELIBERATE = [
    (Situation("strict-host-key-checking-no", True, _target(extra="    StrictHostKeyChecking no\n"),
               "[127.0.0.1]:1 {key}\n"), "StrictHostKeyChecking no is not honoured"),
    (Situation("strict-host-key-checking-accept-new", True,
               _target(extra="    StrictHostKeyChecking accept-new\n"), "[127.0.0.1]:1 {key}\n"),
     "StrictHostKeyChecking accept-new is not honoured"),
    (Situation("known-hosts-command", True, _target(extra="    KnownHostsCommand /bin/true\n"),
               "[127.0.0.1]:{P} {key}\n"), "KnownHostsCommand, which predeploy does not run"),
]
"""Where predeploy refuses and OpenSSH connects, by design (README: SSH host keys)."""


@pytest.mark.usefixtures("no_agent")
@pytest.mark.parametrize(("situation", "reason"), DELIBERATE, ids=[s.id for s, _ in DELIBERATE])
async def test_settings_that_let_openssh_trust_more_are_refused(situation: Situation, reason: str,
                                                               world: World, tmp_path: Path) -> None:
    config = write_situation(situation, world, tmp_path)
    ours, why = await predeploy_connects(config, "target")
    theirs, stderr = openssh_connects(config, "target")
    assert theirs, stderr
    assert not ours
    assert reason in why
