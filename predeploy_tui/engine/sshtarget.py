"""Provides SSH target resolution as OpenSSH does it: ssh_config, checklist fields, jump hops, trust.

A name (a checklist host, an ssh_config alias or a ProxyJump hop ``[user@]host[:port]``) becomes a
:class:`Target`: the HostName, Port and User the ssh_config gives (checklist fields first), its
ProxyJump hops, and the known_hosts verdicts for it (``engine.hostkeys``) from the files the
ssh_config names. Nothing here connects.
"""

from __future__ import annotations

import functools
import getpass
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncssh
import asyncssh.config

from predeploy_tui import paths
from predeploy_tui.core.addressing import port_number
from predeploy_tui.core.checklist import Host
from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.hostkeys import (
    OPENSSH_CA_SIGNATURE_ALGS,
    HostKeyTrust,
    KnownHost,
    assemble,
    expand_path,
    known_hosts_files,
    parse_known_hosts,
    read_revoked_keys,
)


@functools.lru_cache(maxsize=8192)
def _split_line(line: str) -> tuple[str, ...]:
    return tuple(shlex.split(line))


class _LineLexer:
    """``shlex`` for asyncssh's ssh_config reader, remembering each line's words.

    asyncssh reads the whole ssh_config for every host it resolves (a ``Host`` or ``Match`` block
    applies or not by the host), and this resolver reads it once more per host for the host-key
    options asyncssh ignores; splitting every line with :func:`shlex.split` is most of that work,
    so 200 hosts of a 200-alias ssh_config split the same 400 lines 400 times. The words of a line
    depend on its text alone, so they are split once and handed out as a new list each time
    (a line that does not split raises the same ValueError every time: errors are not kept).
    """

    @staticmethod
    def split(line: str) -> list[str]:
        """The words of ``line``, as :func:`shlex.split` gives them."""
        return list(_split_line(line))


# asyncssh.config calls ``shlex.split`` through its module's ``shlex`` name and nothing else of it.
setattr(asyncssh.config, "shlex", _LineLexer)  # noqa: B010  # not an attribute asyncssh exports


@dataclass(frozen=True)
class Target:
    """Where one SSH connection goes, as resolved from the checklist and the ssh_config."""

    name: str
    """The name checks use (a checklist host, an ssh_config alias or a jump spec)."""
    alias: str
    """What is looked up in the ssh_config and passed to asyncssh as the host."""
    address: str
    """The resolved HostName, for messages and known_hosts."""
    port: int
    """The resolved port."""
    user: str
    """The login user."""
    identity_file: str | None
    """A key file the checklist names (the ssh_config's IdentityFile applies otherwise)."""
    proxy_jump: str | None
    """The ProxyJump spec (``[user@]host[:port][,...]``), or None."""
    trust: HostKeyTrust
    """The known_hosts verdicts for this destination."""
    port_override: int | None = None
    """A port the checklist (or jump spec) gives, overriding the ssh_config."""
    user_override: str | None = None
    """A user the checklist (or jump spec) gives, overriding the ssh_config."""
    host_key_algorithms: str | None = None
    """The ssh_config's HostKeyAlgorithms, if set."""

    @property
    def where(self) -> str:
        """``web1 (127.0.0.1:2222)`` for messages."""
        endpoint = f"{self.address}:{self.port}"
        return self.name if self.name == endpoint else f"{self.name} ({endpoint})"


class Resolver:
    """Resolves names against one ssh_config; each known_hosts file is read once."""

    def __init__(self, hosts: Mapping[str, Host], config_path: Path | None = None,
                 known_hosts: Path | None = None) -> None:
        self._hosts = hosts
        self.config_path = config_path if config_path is not None else paths.ssh_config_file()
        """The ssh_config read (absent: OpenSSH's defaults)."""
        # Like ``ssh -o UserKnownHostsFile=FILE``: replaces the ssh_config's user files.
        self._known_hosts_override = known_hosts if known_hosts is not None \
            else paths.known_hosts_override()
        self._known_files: dict[Path, tuple[KnownHost, ...]] = {}

    def route(self, name: str, via: str | None = None, depth: int = 0) -> list[Target]:
        """Where a connection to ``name`` goes: its jump hops in order, then itself (connects nothing).

        The same rules as ``SSHPool._connect``: a hop reached through an earlier hop does not apply
        its own ProxyJump again.
        """
        if depth > 8:
            raise CheckError("the ProxyJump chain goes through more than 8 hops (a loop?)")
        target = self.resolve(name)
        hops: list[Target] = []
        previous = via
        for hop in [] if via is not None else jumps(target):
            hops += self.route(hop, previous, depth + 1)
            previous = hop if previous is None else f"{hop} via {previous}"
        return [*hops, target]


    def _known_entries(self, files: tuple[Path, ...]) -> tuple[KnownHost, ...]:
        """The entries of ``files``, each file read once per run (runs in a thread)."""
        entries: list[KnownHost] = []
        for path in files:
            cached = self._known_files.get(path)
            if cached is None:
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    text = ""  # OpenSSH skips a known_hosts file it cannot open
                cached = self._known_files[path] = tuple(parse_known_hosts(text, str(path)))
            entries += cached
        return tuple(entries)

    def resolve(self, name: str) -> Target:
        """Resolve a name like OpenSSH would, checklist fields first (runs in a thread: reads files)."""
        host = self._hosts.get(name)
        user_override: str | None = None
        port_override: int | None = None
        alias = name
        if host is not None:
            alias = host.host or name
            user_override = host.user
            try:  # filled by the runner's template; a ${variable} left here is not a port
                port_override = None if host.port is None else port_number(host.port)
            except ValueError as exc:
                raise CheckError(f"host {name}: {exc}") from None
        elif "@" in name or (":" in name and name.rsplit(":", 1)[1].isdigit()):
            # A ProxyJump hop written as [user@]host[:port].
            if "@" in alias:
                user_override, alias = alias.rsplit("@", 1)
            if ":" in alias and alias.rsplit(":", 1)[1].isdigit():
                alias, port_text = alias.rsplit(":", 1)
                port_override = int(port_text)
        local_user = getpass.getuser()
        try:
            config = _ClientConfig.load(
                None, [self.config_path] if self.config_path.is_file() else [], False, False, False,
                local_user, user_override or (), alias, port_override or ())
        except (asyncssh.config.ConfigParseError, OSError) as exc:
            raise CheckError(f"cannot read ssh config {self.config_path}: {exc}") from None
        address = str(config.get("Hostname", alias))
        port = port_override or int(str(config.get("Port", 22)))
        user = user_override or str(config.get("User", local_user))
        proxy_jump = host.proxy_jump if host is not None and host.proxy_jump else config.get("ProxyJump")
        tokens = {"d": str(Path.home()), "u": local_user, "h": address, "p": str(port), "r": user,
                  "n": alias, "%": "%"}
        files = known_hosts_files(_strings(config.get("UserKnownHostsFile")),
                                  _strings(config.get("GlobalKnownHostsFile")),
                                  self._known_hosts_override, tokens)
        alias_option = config.get("HostKeyAlias")
        strict = str(config.get("StrictHostKeyChecking") or "").lower()
        revoked_file = config.get("RevokedHostKeys")
        revoked, unusable = read_revoked_keys(expand_path(str(revoked_file), tokens)) \
            if revoked_file else ((), None)
        if config.get("KnownHostsCommand"):
            # Its output could revoke or replace keys OpenSSH would then judge by: not run here.
            unusable = unusable or "the ssh_config sets KnownHostsCommand, which predeploy does not run"
        trust = HostKeyTrust(hostname=address, port=port,
                             alias=str(alias_option) if alias_option else None,
                             entries=self._known_entries(files), files=files,
                             host_revoked=revoked, unusable=unusable,
                             check_host_ip=str(config.get("CheckHostIP", "no")).lower() == "yes"
                             and not config.get("ProxyCommand"),
                             strict_off=strict if strict in ("no", "off", "accept-new") else None,
                             ca_signature_algs=tuple(assemble(
                                 OPENSSH_CA_SIGNATURE_ALGS,
                                 str(config.get("CASignatureAlgorithms") or "") or None)),
                             ).prepared()
        return Target(name=name, alias=alias, address=address, port=port, user=user,
                      identity_file=str(Path(host.identity_file).expanduser())
                      if host is not None and host.identity_file else None,
                      proxy_jump=str(proxy_jump) if proxy_jump else None,
                      port_override=port_override, user_override=user_override, trust=trust,
                      host_key_algorithms=str(config.get("HostKeyAlgorithms") or "") or None)


class _ClientConfig(asyncssh.config.SSHClientConfig):
    """asyncssh's ssh_config reader, also keeping the host-key options asyncssh itself ignores."""

    _handlers = {**asyncssh.config.SSHClientConfig._handlers,  # noqa: RUF012  # asyncssh's table
                 **{name.lower(): (name, asyncssh.config.SSHConfig._set_string)
                    for name in ("CheckHostIP", "KnownHostsCommand", "RevokedHostKeys",
                                 "StrictHostKeyChecking")}}


def jumps(target: Target) -> list[str]:
    """The ProxyJump hops of ``target`` in order (none for ``ProxyJump none``)."""
    hops = [hop.strip() for hop in (target.proxy_jump or "").split(",") if hop.strip()]
    return [] if hops and hops[0].lower() == "none" else hops


def _strings(value: object) -> list[str] | None:
    """An ssh_config list option: None when unset, [] for ``none``."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]  # type: ignore[attr-defined]
