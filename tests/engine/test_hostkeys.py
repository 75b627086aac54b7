"""Host-key trust rules of ``engine.hostkeys``, the parts a differential test against sshd cannot reach.

Loopback never triggers OpenSSH's address check, so these pin the pieces of its lookup directly:
host field matching (wildcards, negation, hashing, case), the lookup name, the fallback without the
port, the file list, and the order of host key algorithms.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import asyncssh
import pytest

from predeploy_tui.engine.hostkeys import (
    HostKeyTrust,
    Status,
    certificate_signature_algorithm,
    host_port,
    key_type_of,
    known_hosts_files,
    name_matches,
    parse_known_hosts,
    read_revoked_keys,
)

SERVER = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
OTHER = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
ECDSA = asyncssh.generate_private_key("ecdsa-sha2-nistp256").convert_to_public()


def line(key: asyncssh.SSHKey) -> str:
    return key.export_public_key().decode().strip()


def trust(text: str, hostname: str = "db.example.com", port: int = 2222,
          alias: str | None = None) -> HostKeyTrust:
    return HostKeyTrust(hostname, port, alias, tuple(parse_known_hosts(text, "known_hosts")))


def hashed(name: str) -> str:
    salt = b"0123456789abcdefghij"
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.mark.parametrize(("patterns", "name", "expected"), [
    ("db.example.com", "db.example.com", True),
    ("DB.Example.COM", "db.example.com", True),
    ("*.example.com", "db.example.com", True),
    ("db?.example.com", "db1.example.com", True),
    ("db?.example.com", "db.example.com", False),
    ("*.example.com,!db.example.com", "db.example.com", False),
    ("!db.example.com", "db.example.com", False),
    ("!other.example.com", "db.example.com", False),  # a negation alone matches nothing
    ("[db.example.com]:2222", "[db.example.com]:2222", True),
    ("db.example.com", "[db.example.com]:2222", False),
    ("db[1].example.com", "db1.example.com", False),  # no character classes in OpenSSH patterns
    (hashed("[db.example.com]:2222"), "[db.example.com]:2222", True),
    (hashed("[db.example.com]:2222"), "db.example.com", False),
    ("|1|not base64|x", "db.example.com", False),
])
def test_host_field_matching(patterns: str, name: str, expected: bool) -> None:
    assert name_matches(patterns, name) is expected


def test_lookup_name_is_the_alias_without_port_else_host_and_port() -> None:
    assert host_port("db", 22) == "db"
    assert host_port("db", 2222) == "[db]:2222"
    assert trust("").name == "[db.example.com]:2222"
    assert trust("", port=22).name == "db.example.com"
    assert trust("", alias="Bastion").name == "bastion"  # ssh lowercases the alias
    assert trust("", hostname="DB.Example.com").name == "[db.example.com]:2222"


def test_verdicts_by_name_only() -> None:
    text = f"[db.example.com]:2222 {line(OTHER)}\n[10.0.0.5]:2222 {line(SERVER)}\n"
    assert trust(text).check_key(SERVER) is Status.CHANGED
    assert trust(f"[10.0.0.5]:2222 {line(SERVER)}\n").check_key(SERVER) is Status.NEW
    assert trust(f"[db.example.com]:2222 {line(SERVER)}\n").check_key(SERVER) is Status.OK
    revoked = f"@revoked * {line(SERVER)}\n[db.example.com]:2222 {line(SERVER)}\n"
    assert trust(revoked).check_key(SERVER) is Status.REVOKED


def test_bare_name_only_when_nothing_is_known_with_the_port() -> None:
    assert trust(f"db.example.com {line(SERVER)}\n").check_key(SERVER) is Status.OK
    both = f"[db.example.com]:2222 {line(OTHER)}\ndb.example.com {line(SERVER)}\n"
    assert trust(both).check_key(SERVER) is Status.CHANGED
    assert trust(f"bastion {line(SERVER)}\n", alias="bastion").check_key(SERVER) is Status.OK
    assert trust(f"[bastion]:2222 {line(SERVER)}\n", alias="bastion").check_key(SERVER) is Status.NEW


def test_cert_authority_by_name() -> None:
    ca = trust(f"@cert-authority *.example.com {line(SERVER)}\n")
    assert ca.check_ca(SERVER)
    assert not ca.check_ca(OTHER)
    assert not trust(f"@cert-authority *.example.org {line(SERVER)}\n").check_ca(SERVER)
    assert not trust(f"@cert-authority * {line(SERVER)}\n@revoked * {line(SERVER)}\n").check_ca(SERVER)


def test_unusable_lines_are_skipped() -> None:
    text = (f"# comment\n\n@unknown-marker * {line(SERVER)}\nonlyhost\nhost ssh-ed25519 !!!\n"
            f"db.example.com {line(SERVER)} a comment\n")
    entries = parse_known_hosts(text, "f")
    assert [e.where for e in entries] == ["f:6"]


def test_host_key_algorithms_prefer_known_types_like_openssh() -> None:
    supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256",
                 "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com"]
    ecdsa_known = trust(f"[db.example.com]:2222 {line(ECDSA)}\n").host_key_algorithms(supported)
    assert ecdsa_known[:2] == ["ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256"]
    verbatim = trust(f"[db.example.com]:2222 {line(SERVER)}\n").host_key_algorithms(supported)
    assert verbatim[0] == "ssh-ed25519-cert-v01@openssh.com"
    with_ca = trust(f"@cert-authority * {line(ECDSA)}\n").host_key_algorithms(supported)
    assert with_ca[:2] == ["ssh-ed25519-cert-v01@openssh.com",
                           "ecdsa-sha2-nistp256-cert-v01@openssh.com"]
    assert key_type_of("rsa-sha2-512-cert-v01@openssh.com") == "ssh-rsa"
    assert key_type_of("sk-ssh-ed25519-cert-v01@openssh.com") == "sk-ssh-ed25519@openssh.com"


def test_known_hosts_files_follow_the_ssh_config(tmp_path: Path) -> None:
    tokens = {"h": "db.example.com", "u": "deploy", "d": "/home/deploy", "%": "%"}
    defaults = known_hosts_files(None, None, None, tokens)
    assert defaults[-2:] == (Path("/etc/ssh/ssh_known_hosts"), Path("/etc/ssh/ssh_known_hosts2"))
    assert defaults[0] == Path("~/.ssh/known_hosts").expanduser()
    named = known_hosts_files(["%d/kh-%h", "/x/%%"], [], None, tokens)
    assert named == (Path("/home/deploy/kh-db.example.com"), Path("/x/%"))
    assert known_hosts_files([], ["/g"], None, tokens) == (Path("/g"),)
    override = tmp_path / "kh"
    assert known_hosts_files(["/a"], ["/g"], override, tokens) == (override, Path("/g"))


def test_check_host_ip_refuses_an_address_entry_with_another_key() -> None:
    text = f"[db.example.com]:2222 {line(SERVER)}\n[192.0.2.7]:2222 {line(OTHER)}\n"
    checking = HostKeyTrust("db.example.com", 2222, None, tuple(parse_known_hosts(text, "kh")),
                            check_host_ip=True)
    assert checking.check_key(SERVER, "192.0.2.7") is Status.CHANGED
    assert "CheckHostIP" in checking.refusal("db", SERVER, Status.CHANGED, "192.0.2.7")
    # Not for loopback, not without an address (a proxy, a certificate), not when it is off.
    assert checking.check_key(SERVER, "127.0.0.1") is Status.OK
    assert checking.check_key(SERVER, "") is Status.OK
    assert trust(text).check_key(SERVER) is Status.OK
    unknown_ip = HostKeyTrust("db.example.com", 2222, None,
                              tuple(parse_known_hosts(f"[db.example.com]:2222 {line(SERVER)}\n", "kh")),
                              check_host_ip=True)
    assert unknown_ip.check_key(SERVER, "192.0.2.7") is Status.OK


def test_revoked_host_keys_file(tmp_path: Path) -> None:
    listed = tmp_path / "revoked"
    listed.write_text(f"# revoked\n{line(OTHER)}\n")
    keys, problem = read_revoked_keys(listed)
    assert problem is None
    assert [k.public_data for k in keys] == [OTHER.public_data]
    krl = tmp_path / "krl"
    krl.write_bytes(b"SSHKRL\n\0binary")
    assert read_revoked_keys(krl) == ((), f"RevokedHostKeys {krl} is a KRL, which predeploy cannot read")
    keys, problem = read_revoked_keys(tmp_path / "absent")
    assert problem is not None
    assert "cannot be read" in problem
    blocked = HostKeyTrust("db", 22, None, tuple(parse_known_hosts(f"db {line(SERVER)}\n", "kh")),
                           unusable=problem)
    assert blocked.check_key(SERVER) is Status.REVOKED
    assert not blocked.check_ca(SERVER)


def test_configured_host_key_algorithms_as_openssh_assembles_them() -> None:
    supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "ssh-rsa",
                 "ssh-ed25519-cert-v01@openssh.com"]
    rsa_known = trust(f"[db.example.com]:2222 {line(ECDSA)}\n")
    assert rsa_known.host_key_algorithms(supported, "rsa-sha2-256,ssh-ed25519") == \
        ["rsa-sha2-256", "ssh-ed25519"]  # as written, known types not moved first
    assert rsa_known.host_key_algorithms(supported, "+ssh-rsa") == \
        ["ecdsa-sha2-nistp256", "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519", "rsa-sha2-256",
         "ssh-rsa"]
    assert rsa_known.host_key_algorithms(supported, "-*-cert-v01@openssh.com,rsa-*") == \
        ["ssh-ed25519", "ecdsa-sha2-nistp256"]
    assert rsa_known.host_key_algorithms(supported, "^rsa-sha2-256")[:2] == \
        ["rsa-sha2-256", "ssh-ed25519-cert-v01@openssh.com"]


def test_certificate_judgement() -> None:
    ca = asyncssh.generate_private_key("ssh-rsa")
    host = asyncssh.generate_private_key("ssh-ed25519")
    ca_line = line(ca.convert_to_public())
    vouching = trust(f"@cert-authority *.example.com {ca_line}\n")

    def cert(sig_alg: str, principals: list[str]) -> asyncssh.SSHCertificate:
        return ca.generate_host_certificate(host, "id", principals=principals, sig_alg=sig_alg,
                                            valid_after="-1d", valid_before="+1d")

    good = cert("rsa-sha2-256", ["db.example.com"])
    assert certificate_signature_algorithm(good.public_data) == "rsa-sha2-256"
    assert vouching.check_certificate(good, good.public_data) is Status.OK
    sha1 = cert("ssh-rsa", ["db.example.com"])
    assert certificate_signature_algorithm(sha1.public_data) == "ssh-rsa"
    assert vouching.check_certificate(sha1, sha1.public_data) is Status.NEW
    other_name = cert("rsa-sha2-512", ["web.example.com"])
    assert vouching.check_certificate(other_name, other_name.public_data) is Status.NEW
    expired = ca.generate_host_certificate(host, "id", principals=["db.example.com"],
                                           valid_after=1, valid_before=2)
    assert vouching.check_certificate(expired, expired.public_data) is Status.NEW
    revoked = trust(f"@cert-authority * {ca_line}\n@revoked * {line(host.convert_to_public())}\n")
    assert revoked.check_certificate(good, good.public_data) is Status.REVOKED
    assert trust("").check_certificate(good, good.public_data) is Status.NEW
