"""Provides host-key trust decided the way OpenSSH decides it: which files, which name, which verdict.

OpenSSH (``sshconnect.c`` ``check_host_key``, ``hostfile.c``) looks the server's key up under one
name: the ``HostKeyAlias``, else the ``HostName`` the ssh_config resolved, written ``[name]:port``
for a port other than 22. The address the name resolved to does not decide (``CheckHostIP`` is off
by default and always off for loopback and ProxyJump). Every matching entry of every
``UserKnownHostsFile`` and ``GlobalKnownHostsFile`` counts: an equal key is known, a different one is
a changed key, an ``@revoked`` key refuses, an ``@cert-authority`` key vouches for host certificates.
Only when nothing at all is known under ``[name]:port`` is the bare name tried, and only a matching
key there is accepted. A certificate that no CA validly vouches for (principal, validity,
CASignatureAlgorithms) is judged as its plain key. RevokedHostKeys and CheckHostIP are honoured.

asyncssh matches by name and address, always retries without the port and never falls back from a
certificate to its key, so the decision is made here and ``engine.ssh`` hands asyncssh the verdicts
through its validation hooks rather than the files.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import os
import re
from binascii import Error as BinasciiError
from binascii import a2b_base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path

import asyncssh
from asyncssh.public_key import CERT_TYPE_HOST, SSHOpenSSHCertificate

DEFAULT_PORT = 22
DEFAULT_USER_FILES = ("~/.ssh/known_hosts", "~/.ssh/known_hosts2")
"""OpenSSH's UserKnownHostsFile when the ssh_config names none."""
DEFAULT_GLOBAL_FILES = ("/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2")
"""OpenSSH's GlobalKnownHostsFile when the ssh_config names none."""
OPENSSH_HOST_KEY_ALGS = (
    "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
)
"""OpenSSH's default HostKeyAlgorithms (myproposal.h), in its order of preference."""
OPENSSH_CA_SIGNATURE_ALGS = (
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "rsa-sha2-512", "rsa-sha2-256",
)
"""OpenSSH's default CASignatureAlgorithms: a certificate signed with SHA-1 (ssh-rsa) is not valid."""
_CERT_SUFFIX = "-cert-v01@openssh.com"
_KEY_NAMES = {
    "ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ssh-dss": "DSA",
    "ecdsa-sha2-nistp256": "ECDSA", "ecdsa-sha2-nistp384": "ECDSA", "ecdsa-sha2-nistp521": "ECDSA",
    "sk-ssh-ed25519@openssh.com": "ED25519-SK", "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
}
CA_MARKER = "cert-authority"

REVOKED_MARKER = "revoked"


def key_description(key: asyncssh.SSHKey) -> str:
    """A host key the way OpenSSH prints it: ``ED25519 SHA256:...``."""
    algorithm = key.algorithm.decode("ascii", "replace")
    return f"{_KEY_NAMES.get(algorithm, algorithm.upper())} {key.get_fingerprint('sha256')}"


def key_type_of(algorithm: str) -> str:
    """The plain key type a host key algorithm uses: ``rsa-sha2-512-cert-v01@...`` -> ``ssh-rsa``."""
    if algorithm.endswith(_CERT_SUFFIX):
        algorithm = algorithm[: -len(_CERT_SUFFIX)]
        if algorithm.startswith("sk-"):
            algorithm += "@openssh.com"
    return "ssh-rsa" if algorithm.startswith("rsa-sha2-") else algorithm


def host_port(host: str, port: int) -> str:
    """OpenSSH's ``put_host_port``: ``[host]:port`` unless the port is 22."""
    return host if port in (0, DEFAULT_PORT) else f"[{host}]:{port}"


@lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    # OpenSSH's match_pattern knows only * and ?, compared in lower case.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                              for c in pattern.lower()), re.DOTALL)


def name_matches(patterns: str, name: str) -> bool:
    """Whether a known_hosts host field matches ``name`` (OpenSSH ``match_hostname``).

    A hashed field (``|1|salt|hash``) matches exactly the name that was hashed. Otherwise the
    comma-separated patterns take ``*`` and ``?``; a matching ``!pattern`` rules the line out.
    """
    if patterns.startswith("|"):
        parts = patterns[1:].split("|")
        if len(parts) != 3 or parts[0] != "1":
            return False
        try:
            salt, digest = a2b_base64(parts[1]), a2b_base64(parts[2])
        except (BinasciiError, ValueError):
            return False
        return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)
    lowered = name.lower()
    positive = False
    for pattern in patterns.split(","):
        negated = pattern.startswith("!")
        if _wildcard(pattern[1:] if negated else pattern).fullmatch(lowered):
            if negated:
                return False
            positive = True
    return positive


@dataclass(frozen=True)
class KnownHost:
    """One usable line of a known_hosts file."""

    marker: str
    """``""``, ``cert-authority`` or ``revoked``."""
    patterns: str
    """The host field: comma-separated patterns or one hashed name."""
    key: asyncssh.SSHKey
    """The public key of the line."""
    where: str
    """``file:line`` for messages."""


def parse_known_hosts(text: str, source: str) -> list[KnownHost]:
    """The usable lines of one known_hosts file; lines OpenSSH would skip are skipped."""
    entries: list[KnownHost] = []
    for number, raw in enumerate(text.splitlines(), 1):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        marker = ""
        if words[0].startswith("@"):
            marker = words.pop(0)[1:]
            if marker not in (CA_MARKER, REVOKED_MARKER):
                continue
        if len(words) < 3:
            continue
        try:
            key = asyncssh.import_public_key(f"{words[1]} {words[2]}")
        except (asyncssh.KeyImportError, ValueError):
            continue
        entries.append(KnownHost(marker, words[0], key, f"{source}:{number}"))
    return entries


class Status(enum.Enum):
    """What known_hosts says about an offered key (OpenSSH's HostStatus)."""

    OK = "ok"
    NEW = "new"
    CHANGED = "changed"
    REVOKED = "revoked"


def assemble(default: Sequence[str], configured: str | None) -> list[str]:
    """An algorithm list as OpenSSH assembles an option: a list as written, or ``+`` (append),
    ``-`` (remove, with wildcards) or ``^`` (put first) applied to the default."""
    base = list(default)
    listed = [a.strip() for a in (configured or "").lstrip("+-^").split(",") if a.strip()]
    if not configured:
        return base
    if configured.startswith("+"):
        return base + [a for a in listed if a not in base]
    if configured.startswith("-"):
        return [a for a in base if not any(fnmatchcase(a, p) for p in listed)]
    if configured.startswith("^"):
        return listed + [a for a in base if a not in listed]
    return listed


def certificate_signature_algorithm(blob: bytes) -> str | None:
    """The algorithm of the CA signature closing an OpenSSH certificate blob (None if unreadable).

    The signature is the blob's last string: ``string(string(algorithm) string(signature))``.
    """
    for start in range(len(blob) - 12, 3, -1):
        if int.from_bytes(blob[start:start + 4], "big") != len(blob) - start - 4:
            continue
        name_len = int.from_bytes(blob[start + 4:start + 8], "big")
        rest = start + 8 + name_len
        if name_len > 64 or rest + 4 > len(blob) \
                or int.from_bytes(blob[rest:rest + 4], "big") != len(blob) - rest - 4:
            continue
        try:
            return blob[start + 8:rest].decode("ascii")
        except UnicodeDecodeError:
            return None
    return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _same(a: asyncssh.SSHKey, b: asyncssh.SSHKey) -> bool:
    return bool(a.public_data == b.public_data)


@dataclass(frozen=True)
class HostKeyTrust:
    """The known_hosts verdicts for one destination, as OpenSSH would give them."""

    hostname: str
    """The HostName the ssh_config resolved (what certificate principals are checked against)."""
    port: int
    """The port connected to."""
    alias: str | None
    """The HostKeyAlias, which replaces ``[hostname]:port`` in lookups."""
    entries: tuple[KnownHost, ...] = field(repr=False)
    """Every entry of the user's then the global known_hosts files."""
    files: tuple[Path, ...] = ()
    """The files read, for messages."""
    host_revoked: tuple[asyncssh.SSHKey, ...] = ()
    """Keys listed in the ssh_config's RevokedHostKeys file: refused for every host."""
    unusable: str | None = None
    """Why no key can be trusted at all (an unreadable RevokedHostKeys file, a KnownHostsCommand)."""
    check_host_ip: bool = False
    """CheckHostIP: an address entry with another key refuses too (never for loopback or a proxy)."""
    strict_off: str | None = None
    """A StrictHostKeyChecking value that would let OpenSSH accept a new key (not honoured here)."""
    ca_signature_algs: tuple[str, ...] = OPENSSH_CA_SIGNATURE_ALGS
    """CASignatureAlgorithms: how a CA may have signed a certificate for it to be valid."""
    _matches: dict[str, tuple[KnownHost, ...]] = field(default_factory=dict, repr=False, compare=False)
    """Entries matched per lookup name, filled by :meth:`matching`."""

    def __post_init__(self) -> None:
        # ssh lowercases the host name (not an address) and the alias before any lookup.
        if not _is_address(self.hostname):
            object.__setattr__(self, "hostname", self.hostname.lower())
        if self.alias:
            object.__setattr__(self, "alias", self.alias.lower())

    @property
    def name(self) -> str:
        """The name keys are looked up under: ``HostKeyAlias`` or ``[HostName]:port``."""
        return self.alias if self.alias else host_port(self.hostname, self.port)

    @property
    def bare_name(self) -> str | None:
        """The name tried when nothing is known under :attr:`name` (a non-default port, no alias)."""
        if self.alias or self.port in (0, DEFAULT_PORT):
            return None
        return self.hostname

    def matching(self, name: str) -> tuple[KnownHost, ...]:
        """The entries whose host field matches ``name`` (remembered: a hashed file costs an HMAC
        per line, and the verdict is given on the event loop)."""
        found = self._matches.get(name)
        if found is None:
            found = self._matches[name] = tuple(e for e in self.entries
                                                if name_matches(e.patterns, name))
        return found

    def prepared(self) -> HostKeyTrust:
        """This trust with the lookups a connection needs done now (call it off the event loop)."""
        self.matching(self.name)
        if self.bare_name is not None:
            self.matching(self.bare_name)
        return self

    def revoked(self) -> list[asyncssh.SSHKey]:
        """Keys marked ``@revoked`` for :attr:`name`, and those of RevokedHostKeys.

        Given to asyncssh, which refuses a certificate whose key or CA is among them.
        """
        return [*(e.key for e in self.matching(self.name) if e.marker == REVOKED_MARKER),
                *self.host_revoked]

    @staticmethod
    def _status(entries: Sequence[KnownHost], key: asyncssh.SSHKey) -> Status:
        status = Status.NEW
        for entry in entries:
            if entry.marker:
                continue
            if _same(entry.key, key):
                status = Status.OK
                break
            status = Status.CHANGED
        if any(e.marker == REVOKED_MARKER and _same(e.key, key) for e in entries):
            return Status.REVOKED
        return status

    def check_key(self, key: asyncssh.SSHKey, addr: str = "") -> Status:
        """The verdict on a plain host key (a certificate's key once no CA vouches for it).

        ``addr`` is the address connected to, for CheckHostIP; empty for a certificate's key.
        """
        if self.unusable is not None or any(_same(k, key) for k in self.host_revoked):
            return Status.REVOKED
        status = self._status(self.matching(self.name), key)
        bare = self.bare_name
        if status is Status.NEW and bare is not None \
                and self._status(self.matching(bare), key) is Status.OK:
            status = Status.OK
        if status is Status.OK and self.ip_conflict(key, addr) is not None:
            return Status.CHANGED
        return status

    def ip_conflict(self, key: asyncssh.SSHKey, addr: str) -> KnownHost | None:
        """With CheckHostIP, an entry for ``[addr]:port`` holding another key (OpenSSH refuses)."""
        if not self.check_host_ip or not addr or addr == self.hostname or not _is_address(addr) \
                or ipaddress.ip_address(addr).is_loopback:
            return None
        entries = [e for e in self.matching(host_port(addr, self.port)) if not e.marker]
        if self._status(entries, key) is not Status.CHANGED:
            return None
        return next(e for e in entries if not _same(e.key, key))

    def check_ca(self, ca_key: asyncssh.SSHKey) -> bool:
        """Whether an ``@cert-authority`` entry for this host vouches for certificates of ``ca_key``."""
        if self.unusable is not None or any(_same(k, ca_key) for k in self.host_revoked):
            return False
        for name in (self.name, self.bare_name):
            if name is None:
                continue
            entries = self.matching(name)
            if any(e.marker == REVOKED_MARKER and _same(e.key, ca_key) for e in entries):
                return False
            cas = [e for e in entries if e.marker == CA_MARKER]
            if any(_same(e.key, ca_key) for e in cas):
                return True
            if cas:
                return False
        return False

    def check_certificate(self, cert: asyncssh.SSHCertificate, blob: bytes) -> Status:
        """The verdict on a host certificate: OK if a CA vouches and it is valid for this host.

        REVOKED (its key or CA is revoked) refuses; NEW means no valid vouching, and OpenSSH then
        judges the certificate's plain key (:meth:`check_key`).
        """
        if not isinstance(cert, SSHOpenSSHCertificate):
            return Status.NEW
        key, signer = cert.key, cert.signing_key
        if self.unusable is not None or any(_same(k, key) or _same(k, signer) for k in self.revoked()):
            return Status.REVOKED
        if not self.check_ca(signer):
            return Status.NEW
        if certificate_signature_algorithm(blob) not in self.ca_signature_algs:
            return Status.NEW
        try:
            cert.validate(CERT_TYPE_HOST, self.alias or self.hostname)
        except ValueError:
            return Status.NEW
        return Status.OK

    def known_keys(self) -> list[KnownHost]:
        """The plain keys pinned for :attr:`name` (or the bare name when none), for messages."""
        found = [e for e in self.matching(self.name) if not e.marker]
        bare = self.bare_name
        if not found and bare is not None:
            found = [e for e in self.matching(bare) if not e.marker]
        return found

    def host_key_algorithms(self, supported: Iterable[str], configured: str | None = None) -> list[str]:
        """The host key algorithms to offer, in OpenSSH's order (they decide which key is shown).

        ``configured`` is the ssh_config's HostKeyAlgorithms: a list is used as written, and
        ``-`` / ``^`` change OpenSSH's default as written. Unset or ``+``, OpenSSH's
        ``order_hostkeyalgs`` applies: algorithms of keys known for the host come first.
        """
        base = assemble(OPENSSH_HOST_KEY_ALGS, configured)
        usable = set(supported)
        algs = [a for a in base if a in usable]
        if configured and not configured.startswith("+"):
            return algs
        entries = self.matching(self.name)
        known = {e.key.algorithm.decode("ascii", "replace") for e in entries if not e.marker}
        if base and key_type_of(base[0]) in known:
            return algs
        has_ca = any(e.marker == CA_MARKER for e in entries)
        first = [a for a in algs if (a.endswith(_CERT_SUFFIX) and has_ca) or key_type_of(a) in known]
        return first + [a for a in algs if a not in first]

    def refusal(self, where: str, key: asyncssh.SSHKey, status: Status, addr: str = "") -> str:
        """The one line saying why ``key`` is refused for ``where``."""
        offered = key_description(key)
        if self.unusable is not None:
            return f"host key for {where} cannot be checked: {self.unusable}"
        if any(_same(k, key) for k in self.host_revoked):
            return (f"host key for {where} is listed in RevokedHostKeys: {offered}; "
                    "refusing to connect")
        if status is Status.REVOKED:
            return (f"host key for {where} is marked @revoked in known_hosts: {offered}; "
                    "refusing to connect")
        conflict = self.ip_conflict(key, addr) if status is Status.CHANGED else None
        if conflict is not None:
            return (f"host key for {where} differs from the key known_hosts has for its address "
                    f"{host_port(addr, self.port)} ({key_description(conflict.key)}, "
                    f"{conflict.where}); CheckHostIP is set: refusing to connect")
        known = self.known_keys()
        note = (f"; StrictHostKeyChecking {self.strict_off} is not honoured"
                if self.strict_off and status in (Status.NEW, Status.CHANGED) else "")
        if status is Status.CHANGED and known:
            expected = ", ".join(dict.fromkeys(key_description(e.key) for e in known))
            return (f"host key for {where} CHANGED: the server offered {offered}, "
                    f"known_hosts has {expected} for {self.name}; refusing to connect{note}")
        return (f"host key for {where} is not in known_hosts: {offered} (looked up as {self.name})"
                f"{note}")


def read_revoked_keys(path: Path) -> tuple[tuple[asyncssh.SSHKey, ...], str | None]:
    """The public keys of a RevokedHostKeys file, or why it cannot be used.

    OpenSSH refuses every host key when the file cannot be read; a binary KRL is not read here,
    so it refuses everything too rather than miss a revocation.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        return (), f"RevokedHostKeys {path} cannot be read: {exc.strerror or exc}"
    if data.startswith(b"SSHKRL"):
        return (), f"RevokedHostKeys {path} is a KRL, which predeploy cannot read"
    keys = parse_known_hosts("\n".join(f"* {line}" for line in data.decode("utf-8", "replace")
                                         .splitlines()), str(path))
    return tuple(e.key for e in keys), None


def expand_path(value: str, tokens: dict[str, str]) -> Path:
    """``~`` and the ``%`` tokens OpenSSH expands in UserKnownHostsFile (``%d %u %h %p %r %n %%``)."""
    def token(match: re.Match[str]) -> str:
        return tokens.get(match.group(1), match.group(0))
    expanded = re.sub(r"%(.)", token, value) if "%" in value else value
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: os.environ.get(m.group(1), ""), expanded)
    return Path(os.path.expanduser(expanded))


def known_hosts_files(config_user: Sequence[str] | None, config_global: Sequence[str] | None,
                      override: Path | None, tokens: dict[str, str]) -> tuple[Path, ...]:
    """The files OpenSSH reads: the user's (``override`` replaces them), then the global ones.

    ``None`` means the ssh_config does not set the option (OpenSSH's defaults apply); an empty
    list means ``none``.
    """
    if override is not None:
        user = [override]
    else:
        names = DEFAULT_USER_FILES if config_user is None else config_user
        user = [expand_path(name, tokens) for name in names]
    names = DEFAULT_GLOBAL_FILES if config_global is None else config_global
    return tuple(user) + tuple(Path(os.path.expanduser(name)) for name in names)
