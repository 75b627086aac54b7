"""Provides SSH transports over asyncssh: one shared connection per host, capped handshakes and channels.

Hosts are resolved like OpenSSH does (``~/.ssh/config`` aliases, User, Port, IdentityFile, ProxyJump),
with the checklist's own host fields taking precedence. Host keys are judged as OpenSSH judges them
(``engine.hostkeys``: the name or HostKeyAlias decides, every known_hosts file the ssh_config names
counts) and an unknown, changed or revoked key is refused with its fingerprint. Every failure
becomes a :class:`CheckError` whose one line names the host and the reason.
"""

from __future__ import annotations

import asyncio
import codecs
import shlex
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncssh
from asyncssh.public_key import decode_ssh_certificate

from predeploy_tui.core.checklist import Host
from predeploy_tui.engine import sshtarget
from predeploy_tui.engine.base import CheckError, CommandResult, OutputCallback, could_not_run
from predeploy_tui.engine.capture import Capture
from predeploy_tui.engine.hostkeys import HostKeyTrust, Status
from predeploy_tui.engine.sshtarget import Resolver, Target

KEEPALIVE_INTERVAL = 15.0
"""Seconds between keepalives, so a dead server is noticed on an idle shared connection."""
KEEPALIVE_COUNT_MAX = 3
"""Unanswered keepalives before the connection is given up."""


class _Client(asyncssh.SSHClient):
    """Decides host keys as OpenSSH would and records connection loss and why a key was refused."""

    def __init__(self, pool: SSHPool, key: str, target: Target, trust: HostKeyTrust,
                 direct: bool) -> None:
        self._pool = pool
        self._key = key
        self._target = target
        self._trust = trust
        self._direct = direct
        self.refusal: str | None = None
        self.connection: asyncssh.SSHClientConnection | None = None

    def connection_made(self, conn: asyncssh.SSHClientConnection) -> None:
        self.connection = conn
        # The key exchange hands the server's key blob to conn.validate_server_host_key; a
        # certificate is judged here first, because OpenSSH falls back to its plain key when no
        # CA vouches for it, and asyncssh's hooks never see the certificate itself.
        validate = conn.validate_server_host_key

        def judged(key_data: bytes) -> asyncssh.SSHKey:
            return validate(self._plain_unless_vouched(key_data))
        setattr(conn, "validate_server_host_key", judged)  # noqa: B010  # an instance's own method

    def _plain_unless_vouched(self, key_data: bytes) -> bytes:
        """The key blob asyncssh should judge: the certificate, or its plain key (OpenSSH's rule)."""
        try:
            cert = decode_ssh_certificate(key_data)
        except asyncssh.KeyImportError:
            return key_data  # a plain key: validate_host_public_key decides
        if cert.is_x509:
            self.refusal = f"host key for {self._target.where} is an X.509 certificate (not OpenSSH's)"
            raise asyncssh.HostKeyNotVerifiable(self.refusal)
        status = self._trust.check_certificate(cert, key_data)
        if status is Status.OK:
            return key_data
        if status is Status.REVOKED:
            self.refusal = self._trust.refusal(self._target.where, cert.key, status)
            raise asyncssh.HostKeyNotVerifiable(self.refusal)
        self._direct = False  # OpenSSH compares no address for a certificate's key
        return bytes(cert.key.public_data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.connection is not None:
            self._pool._forget(self._key, self.connection)

    def validate_host_public_key(self, host: str, addr: str, port: int,
                                 key: asyncssh.SSHKey) -> bool:
        # Every plain key comes here (asyncssh is given no trusted keys): the name decides, not addr.
        # OpenSSH has no address to compare through a ProxyJump/ProxyCommand tunnel.
        addr = addr if self._direct else ""
        status = self._trust.check_key(key, addr)
        if status is Status.OK:
            return True
        self.refusal = self._trust.refusal(self._target.where, key, status, addr)
        return False

    def validate_host_ca_key(self, host: str, addr: str, port: int,
                             key: asyncssh.SSHKey) -> bool:
        # Reached only for a certificate _plain_unless_vouched found valid and vouched for.
        return self._trust.check_ca(key)


class _Session(asyncssh.SSHClientSession[bytes]):
    """Collects one command's output, streaming decoded chunks as they arrive."""

    def __init__(self, on_output: OutputCallback | None) -> None:
        self._on_output = on_output
        utf8 = codecs.getincrementaldecoder("utf-8")
        self._decoders: dict[int | None, codecs.IncrementalDecoder] = {
            None: utf8("replace"), asyncssh.EXTENDED_DATA_STDERR: utf8("replace")}
        self.stdout = Capture()
        self.stderr = Capture()
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
        stream.feed(text)
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
        result = CommandResult(exit_code=status, stdout=session.stdout.text(),
                               stderr=session.stderr.text(), host=self.name,
                               duration=loop.time() - started,
                               cut=session.stdout.cut + session.stderr.cut)
        why = could_not_run(result)
        if why:
            raise CheckError(f"{why} on {self.name}")
        return result


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
        self._handshakes = asyncio.Semaphore(max(1, handshake_cap))
        self._channels_per_host = max(1, channels_per_host)
        self.targets = Resolver(hosts, config_path, known_hosts)
        """Resolves names to targets (ssh_config, checklist fields, known_hosts)."""
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
        target = await asyncio.to_thread(self.targets.resolve, name)
        tunnel: asyncssh.SSHClientConnection | None = None
        # A hop reached through an earlier hop of a chain does not apply its own ProxyJump again.
        jumps = [] if via is not None else sshtarget.jumps(target)
        if jumps:
            previous: str | None = via
            for hop in jumps:
                try:
                    tunnel, _ = await self._connection(hop, max(0.0, deadline - loop.time()), previous)
                except CheckError as exc:
                    raise CheckError(f"{target.where} via jump host {hop}: {exc}") from None
                previous = hop if previous is None else f"{hop} via {previous}"
        trust = target.trust
        options: dict[str, Any] = {
            "config": [str(self.targets.config_path)] if self.targets.config_path.is_file() else [],
            # No key is trusted up front: every key reaches _Client, which decides by the name.
            "known_hosts": ([], [], trust.revoked()),
            "host_key_alias": trust.alias,
            "tunnel": tunnel,
            "agent_forwarding": False,
            "keepalive_interval": KEEPALIVE_INTERVAL,
            "keepalive_count_max": KEEPALIVE_COUNT_MAX,
        }
        algorithms = trust.host_key_algorithms(_supported_host_key_algs(), target.host_key_algorithms)
        options["server_host_key_algs"] = algorithms
        if target.port_override is not None:
            options["port"] = target.port_override
        if target.user_override is not None:
            options["username"] = target.user_override
        if target.identity_file:
            options["client_keys"] = [target.identity_file]
        async with self._handshakes:
            client = _Client(self, key, target, trust, direct=tunnel is None)
            return await self._handshake(target, client, options, deadline, timeout)

    async def _handshake(self, target: Target, client: _Client, options: dict[str, Any],
                         deadline: float, timeout: float) -> asyncssh.SSHClientConnection:
        """Connect and log in."""
        loop = asyncio.get_running_loop()
        remaining = max(0.05, deadline - loop.time())
        try:
            return await asyncio.wait_for(asyncssh.connect(
                target.alias, client_factory=lambda: client, connect_timeout=remaining, **options),
                remaining)
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
        except asyncssh.Error as exc:
            raise CheckError(f"SSH to {target.where} failed: {_reason(exc)}") from None
        except (OSError, ValueError) as exc:
            raise CheckError(f"cannot connect to {target.where}: {_reason(exc)}") from None


def _supported_host_key_algs() -> list[str]:
    """The host key algorithms asyncssh can verify here."""
    from asyncssh.public_key import get_certificate_algs, get_public_key_algs

    return [a.decode("ascii") for a in get_certificate_algs() + get_public_key_algs()]
