"""Provides SSH transports over asyncssh: one shared connection per host, capped handshakes and channels.

Hosts are resolved like OpenSSH does (``~/.ssh/config`` aliases, User, Port, IdentityFile, ProxyJump),
with the checklist's own host fields taking precedence. Host keys are checked against known_hosts and
an unknown or changed key is refused with its fingerprint. Every failure becomes a :class:`CheckError`
whose one line names the host and the reason.
"""

from __future__ import annotations

import asyncio
import codecs
import getpass
import shlex
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

from predeploy_tui import paths
from predeploy_tui.core.checklist import Host
from predeploy_tui.engine.base import CheckError, CommandResult, OutputCallback

KEEPALIVE_INTERVAL = 15.0
"""Seconds between keepalives, so a dead server is noticed on an idle shared connection."""
KEEPALIVE_COUNT_MAX = 3
"""Unanswered keepalives before the connection is given up."""
STREAM_KEEP = 4 * 1024 * 1024
"""Characters of each stream kept in memory (everything still streams to ``on_output``)."""

_KEY_NAMES = {
    "ssh-ed25519": "ED25519", "ssh-rsa": "RSA", "ssh-dss": "DSA",
    "ecdsa-sha2-nistp256": "ECDSA", "ecdsa-sha2-nistp384": "ECDSA", "ecdsa-sha2-nistp521": "ECDSA",
    "sk-ssh-ed25519@openssh.com": "ED25519-SK", "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
}


def key_description(key: asyncssh.SSHKey) -> str:
    """A host key the way OpenSSH prints it: ``ED25519 SHA256:...``."""
    algorithm = key.algorithm.decode("ascii", "replace")
    return f"{_KEY_NAMES.get(algorithm, algorithm.upper())} {key.get_fingerprint('sha256')}"


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
    port_override: int | None = None
    """A port the checklist (or jump spec) gives, overriding the ssh_config."""
    user_override: str | None = None
    """A user the checklist (or jump spec) gives, overriding the ssh_config."""

    @property
    def where(self) -> str:
        """``web1 (127.0.0.1:2222)`` for messages."""
        endpoint = f"{self.address}:{self.port}"
        return self.name if self.name == endpoint else f"{self.name} ({endpoint})"


class _Client(asyncssh.SSHClient):
    """Records connection loss and the host key a refused server offered."""

    def __init__(self, pool: SSHPool, key: str, target: Target,
                 known_hosts: asyncssh.SSHKnownHosts) -> None:
        self._pool = pool
        self._key = key
        self._target = target
        self._known_hosts = known_hosts
        self.refusal: str | None = None
        self.connection: asyncssh.SSHClientConnection | None = None

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.connection = conn

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self._pool._forget(self._key, self.connection)

    def validate_host_public_key(self, host: str, addr: str, port: int,
                                 key: asyncssh.SSHKey) -> bool:
        # Only reached when the key is not trusted: say whether it is new or changed, never accept.
        trusted = asyncssh.match_known_hosts(self._known_hosts, host, addr, port)[0]
        offered = key_description(key)
        if trusted:
            expected = ", ".join(key_description(k) for k in trusted)
            self.refusal = (f"host key for {self._target.where} CHANGED: the server offered {offered}, "
                            f"known_hosts has {expected}; refusing to connect")
        else:
            self.refusal = f"host key for {self._target.where} is not in known_hosts: {offered}"
        return False


class _Session(asyncssh.SSHClientSession[bytes]):
    """Collects one command's output, streaming decoded chunks as they arrive."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self._on_output = on_output
        utf8 = codecs.getincrementaldecoder("utf-8")
        self._decoders: dict[int | None, codecs.IncrementalDecoder] = {
            None: utf8("replace"), asyncssh.EXTENDED_DATA_STDERR: utf8("replace")}
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._kept: dict[int | None, int] = {None: 0, asyncssh.EXTENDED_DATA_STDERR: 0}
        self.done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def itself(self) -> _Session:
        """The session factory asyncssh calls: this session."""
        return self

    def data_received(self, data: bytes, datatype: int | None) -> None:
        decoder = self._decoders.get(datatype) or self._decoders[None]
        self._keep(decoder.decode(data), datatype)

    def _keep(self, text: str, datatype: int | None) -> None:
        if not text:
            return
        stream = self.stderr if datatype == asyncssh.EXTENDED_DATA_STDERR else self.stdout
        kept = self._kept.get(datatype, 0)
        if kept < STREAM_KEEP:
            stream.append(text[: STREAM_KEEP - kept])
            self._kept[datatype] = kept + len(text)
        if self._on_output is not None:
            self._on_output(text)

    def connection_lost(self, exc: Exception | None) -> None:
        for datatype, decoder in self._decoders.items():
            self._keep(decoder.decode(b"", final=True), datatype)
        if not self.done.done():
            self.done.set_result(exc)


def _remote_command(command: str | Sequence[str], env: Mapping[str, str] | None,
                    cwd: str | None) -> tuple[str, bytes | None]:
    """The command line sent, and what to write on its stdin (``env``'s values), if anything.

    sshd drops environment requests unless AcceptEnv allows them, and the command line is in the
    remote ``ps`` for every user: so the values travel on stdin, one line each, read by the
    shell (``read`` is a builtin: no argv) before the command runs.
    """
    text = command if isinstance(command, str) else shlex.join(command)
    names = list(env or {})
    for name in names:
        if not name.isidentifier() or not name.isascii():
            raise CheckError(f"cannot pass environment variable {name!r} over SSH (not a name)")
        if "\n" in (env or {})[name]:
            raise CheckError(f"cannot pass {name} over SSH: its value holds a line break")
    prefix = ""
    if names:
        prefix = ("".join(f"IFS= read -r {name} && " for name in names)
                  + f"export {' '.join(names)} || exit 1; ")
    if cwd:
        prefix += f"cd {shlex.quote(cwd)} || exit 1; "
    feed = "".join(f"{(env or {})[name]}\n" for name in names).encode() if names else None
    return prefix + text, feed


class SSHTransport:
    """Runs commands on one SSH host through the pool's shared connection."""

    def __init__(self, pool: SSHPool, name: str) -> None:
        self._pool = pool
        self.name = name

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None,
                  env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
        """Run ``command`` on the host; ``timeout`` bounds connect, auth, channel open and the command."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        remote, feed = _remote_command(command, env, cwd)
        channels = self._pool._channels(self.name)
        try:
            await asyncio.wait_for(channels.acquire(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise CheckError(f"timed out after {_secs(timeout)}s waiting for a free channel on "
                             f"{self.name}") from None
        try:
            return await self._run_on_channel(remote, deadline, timeout, on_output, started, feed)
        finally:
            channels.release()

    async def _run_on_channel(self, remote: str, deadline: float, timeout: float,
                              on_output: OutputCallback | None, started: float,
                              feed: bytes | None = None) -> CommandResult:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            conn, fresh = await self._pool._connection(self.name, max(0.0, deadline - loop.time()))
            session = _Session(on_output)
            try:
                chan, _ = await asyncio.wait_for(
                    conn.create_session(session.itself, remote, encoding=None),
                    max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise CheckError(f"timed out after {_secs(timeout)}s opening a channel on "
                                 f"{self.name}") from None
            except (asyncssh.ConnectionLost, asyncssh.DisconnectError, BrokenPipeError) as exc:
                self._pool._forget(self.name, conn)
                if attempt == 1 and not fresh:
                    continue  # the shared connection had died quietly: reconnect once
                raise CheckError(f"connection to {self.name} lost: {_reason(exc)}") from None
            except asyncssh.ChannelOpenError as exc:
                raise CheckError(f"{self.name} refused a channel: {_reason(exc)}") from None
            if feed is not None:
                chan.write(feed)
                chan.write_eof()
            return await self._finish(chan, session, deadline, timeout, started)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _finish(self, chan: asyncssh.SSHClientChannel[bytes], session: _Session, deadline: float,
                      timeout: float, started: float) -> CommandResult:
        loop = asyncio.get_running_loop()
        try:
            lost = await asyncio.wait_for(asyncio.shield(session.done),
                                          max(0.0, deadline - loop.time()))
        except TimeoutError:
            _abandon(chan)
            raise CheckError(f"timed out after {_secs(timeout)}s running the command on "
                             f"{self.name}") from None
        except BaseException:
            _abandon(chan)
            raise
        status = chan.get_exit_status()
        if lost is not None and status is None:
            raise CheckError(f"connection to {self.name} lost while the command ran: "
                             f"{_reason(lost)}")
        if status is None or status < 0:
            signal = chan.get_exit_signal()
            if status is None and signal is None:
                raise CheckError(f"{self.name} closed the channel without an exit status")
            status = None
        return CommandResult(exit_code=status, stdout="".join(session.stdout),
                             stderr="".join(session.stderr), host=self.name,
                             duration=loop.time() - started)


def _abandon(chan: asyncssh.SSHClientChannel[bytes]) -> None:
    # KILL first (OpenSSH >= 7.9 delivers it): a command that ignores SIGTERM still stops; then close.
    try:
        chan.send_signal("KILL")
    except Exception:  # the channel may already be gone; closing is what matters
        pass
    chan.close()


def _secs(seconds: float) -> str:
    return f"{round(seconds, 1):g}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.Error):
        return exc.reason or type(exc).__name__
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class SSHPool:
    """One SSH connection per host per run, shared by all that host's checks."""

    def __init__(self, *, hosts: Mapping[str, Host], handshake_cap: int, channels_per_host: int,
                 config_path: Path | None = None, known_hosts: Path | None = None) -> None:
        self._hosts = hosts
        self._handshakes = asyncio.Semaphore(max(1, handshake_cap))
        self._channels_per_host = max(1, channels_per_host)
        self._config_path = config_path if config_path is not None else paths.ssh_config_file()
        self._known_hosts_path = known_hosts if known_hosts is not None else paths.known_hosts_file()
        self._known: asyncssh.SSHKnownHosts | None = None
        self._pending: dict[str, asyncio.Task[asyncssh.SSHClientConnection]] = {}
        self._channel_caps: dict[str, asyncio.Semaphore] = {}
        self._closed = False

    def transport(self, host: str) -> SSHTransport:
        """The transport for a checklist host name or an ssh_config alias."""
        return SSHTransport(self, host)

    async def close(self) -> None:
        """Cancel handshakes in flight and close every connection."""
        self._closed = True
        tasks = list(self._pending.values())
        self._pending.clear()
        conns: list[asyncssh.SSHClientConnection] = []
        for task in tasks:
            if task.done():
                if not task.cancelled() and task.exception() is None:
                    conns.append(task.result())
            else:
                task.cancel()
        for conn in conns:
            conn.close()
        for conn in conns:
            try:
                await asyncio.wait_for(conn.wait_closed(), 2.0)
            except (TimeoutError, OSError, asyncssh.Error):
                pass
        await asyncio.gather(*(t for t in tasks if not t.done()), return_exceptions=True)

    def _settled(self, key: str, task: asyncio.Task[asyncssh.SSHClientConnection]) -> None:
        # A failed handshake is not cached (a later check retries), and its error is retrieved
        # here so one nobody waits for any more does not log "exception was never retrieved".
        if (task.cancelled() or task.exception() is not None) and self._pending.get(key) is task:
            del self._pending[key]

    def _channels(self, name: str) -> asyncio.Semaphore:
        cap = self._channel_caps.get(name)
        if cap is None:
            cap = self._channel_caps[name] = asyncio.Semaphore(self._channels_per_host)
        return cap

    def _forget(self, key: str, conn: asyncssh.SSHClientConnection) -> None:
        task = self._pending.get(key)
        if task is not None and task.done() and not task.cancelled() and task.exception() is None \
                and task.result() is conn:
            del self._pending[key]

    async def _connection(self, name: str, timeout: float,
                          via: str | None = None) -> tuple[asyncssh.SSHClientConnection, bool]:
        """The shared connection for ``name`` (made now if needed) and whether it is new."""
        if self._closed:
            raise CheckError("the run is closing: no new SSH connections")
        key = name if via is None else f"{name} via {via}"
        task = self._pending.get(key)
        fresh = task is None
        if task is None:
            task = asyncio.ensure_future(self._connect(key, name, timeout, via))
            task.add_done_callback(lambda done: self._settled(key, done))
            self._pending[key] = task
        try:
            conn = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            raise CheckError(f"timed out after {_secs(timeout)}s connecting to {name}") from None
        except CheckError:
            if self._pending.get(key) is task:
                del self._pending[key]  # a failed handshake is not cached: a later check retries
            raise
        return conn, fresh

    async def _connect(self, key: str, name: str, timeout: float,
                       via: str | None) -> asyncssh.SSHClientConnection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        target = await asyncio.to_thread(self._resolve, name)
        known = await self._known_hosts()
        tunnel: asyncssh.SSHClientConnection | None = None
        # A hop reached through an earlier hop of a chain does not apply its own ProxyJump again.
        jumps = [] if via is not None else [
            hop.strip() for hop in (target.proxy_jump or "").split(",") if hop.strip()]
        if jumps and jumps[0].lower() != "none":
            previous: str | None = via
            for hop in jumps:
                try:
                    tunnel, _ = await self._connection(hop, max(0.0, deadline - loop.time()), previous)
                except CheckError as exc:
                    raise CheckError(f"{target.where} via jump host {hop}: {exc}") from None
                previous = hop if previous is None else f"{hop} via {previous}"
        client = _Client(self, key, target, known)
        options: dict[str, Any] = {
            "config": [str(self._config_path)] if self._config_path.is_file() else [],
            "known_hosts": known,
            "tunnel": tunnel,
            "agent_forwarding": False,
            "keepalive_interval": KEEPALIVE_INTERVAL,
            "keepalive_count_max": KEEPALIVE_COUNT_MAX,
            "client_factory": lambda: client,
        }
        if target.port_override is not None:
            options["port"] = target.port_override
        if target.user_override is not None:
            options["username"] = target.user_override
        if target.identity_file:
            options["client_keys"] = [target.identity_file]
        async with self._handshakes:
            remaining = max(0.05, deadline - loop.time())
            options["connect_timeout"] = remaining
            try:
                return await asyncio.wait_for(asyncssh.connect(target.alias, **options), remaining)
            except asyncssh.HostKeyNotVerifiable as exc:
                raise CheckError(client.refusal or f"host key for {target.where} refused: "
                                                   f"{_reason(exc)}") from None
            except asyncssh.PermissionDenied:
                raise CheckError(f"authentication failed for {target.user}@{target.where}: "
                                 "no offered key was accepted") from None
            except TimeoutError:
                raise CheckError(f"timed out after {_secs(timeout)}s connecting to {target.where}") from None
            except ConnectionRefusedError:
                raise CheckError(f"connection refused by {target.where}") from None
            except socket.gaierror as exc:
                raise CheckError(f"cannot resolve {target.address} (for {target.name}): "
                                 f"{exc.strerror}") from None
            except (asyncssh.KeyExchangeFailed, asyncssh.ConnectionLost, ConnectionResetError,
                    ConnectionAbortedError, BrokenPipeError) as exc:
                # sshd drops a client that accepts none of its host key types; whether the
                # client sees a clean disconnect or a TCP reset depends on timing.
                changed = await self._changed_key_type(target, known, tunnel, deadline)
                raise CheckError(changed or f"SSH to {target.where} failed: {_reason(exc)}") from None
            except asyncssh.Error as exc:
                raise CheckError(f"SSH to {target.where} failed: {_reason(exc)}") from None
            except (OSError, ValueError) as exc:
                raise CheckError(f"cannot connect to {target.where}: {_reason(exc)}") from None

    async def _changed_key_type(self, target: Target, known: asyncssh.SSHKnownHosts,
                                tunnel: asyncssh.SSHClientConnection | None,
                                deadline: float) -> str | None:
        """Why a key exchange failed when known_hosts pins key types the server no longer has."""
        trusted = asyncssh.match_known_hosts(known, target.address, target.address, target.port)[0]
        if not trusted:
            return None
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0.05:
            return None
        try:
            offered = await asyncio.wait_for(asyncssh.get_server_host_key(
                target.address, target.port, tunnel=tunnel, config=[]), remaining)
        except (TimeoutError, OSError, asyncssh.Error):
            return None
        if offered is None or offered in trusted:
            return None
        expected = ", ".join(key_description(k) for k in trusted)
        return (f"host key for {target.where} CHANGED: the server offered {key_description(offered)}, "
                f"known_hosts has {expected}; refusing to connect")

    async def _known_hosts(self) -> asyncssh.SSHKnownHosts:
        if self._known is None:
            path = self._known_hosts_path
            text = await asyncio.to_thread(lambda: path.read_text() if path.is_file() else "")
            try:
                self._known = asyncssh.import_known_hosts(text)
            except (ValueError, asyncssh.KeyImportError) as exc:
                raise CheckError(f"cannot read known_hosts {path}: {exc}") from None
        return self._known

    def _resolve(self, name: str) -> Target:
        """Resolve a name like OpenSSH would, checklist fields first (runs in a thread: reads files)."""
        host = self._hosts.get(name)
        user_override: str | None = None
        port_override: int | None = None
        alias = name
        if host is not None:
            alias = host.host or name
            user_override, port_override = host.user, host.port
        elif "@" in name or (":" in name and name.rsplit(":", 1)[1].isdigit()):
            # A ProxyJump hop written as [user@]host[:port].
            if "@" in alias:
                user_override, alias = alias.rsplit("@", 1)
            if ":" in alias and alias.rsplit(":", 1)[1].isdigit():
                alias, port_text = alias.rsplit(":", 1)
                port_override = int(port_text)
        local_user = getpass.getuser()
        try:
            config = asyncssh.config.SSHClientConfig.load(
                None, [self._config_path] if self._config_path.is_file() else [], False, False, False,
                local_user, user_override or (), alias, port_override or ())
        except (asyncssh.config.ConfigParseError, OSError) as exc:
            raise CheckError(f"cannot read ssh config {self._config_path}: {exc}") from None
        address = str(config.get("Hostname", alias))
        port = port_override or int(str(config.get("Port", 22)))
        user = user_override or str(config.get("User", local_user))
        proxy_jump = host.proxy_jump if host is not None and host.proxy_jump else config.get("ProxyJump")
        return Target(name=name, alias=alias, address=address, port=port, user=user,
                      identity_file=str(Path(host.identity_file).expanduser())
                      if host is not None and host.identity_file else None,
                      proxy_jump=str(proxy_jump) if proxy_jump else None,
                      port_override=port_override, user_override=user_override)


