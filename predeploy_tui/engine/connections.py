"""Provides the per-run shared clients: the local transport, the SSH pool, a sized thread pool.

Everything expensive is created on first use and closed by :meth:`RunConnections.aclose`, so a run
that only executes local commands never imports asyncssh or starts a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from predeploy_tui.core.checklist import Host
from predeploy_tui.engine.base import CheckError, Transport
from predeploy_tui.engine.local import LocalTransport


class SSHPool(Protocol):
    """What the runner needs of ``engine.ssh.SSHPool`` (kept structural: asyncssh loads lazily)."""

    def transport(self, host: str) -> Transport:
        """The transport of one host, sharing that host's connection."""
        ...

    async def close(self) -> None:
        """Close every connection."""
        ...


log = logging.getLogger(__name__)


class RunConnections:
    """Implements :class:`engine.base.Connections` for one runner."""

    def __init__(self, *, hosts: Mapping[str, Host] | None = None, handshake_cap: int = 10,
                 channels_per_host: int = 4, threads: int = 16,
                 environ: Mapping[str, str] | None = None,
                 ssh_config: Path | None = None, known_hosts: Path | None = None) -> None:
        self._hosts = dict(hosts or {})
        self._handshake_cap = handshake_cap
        self._channels_per_host = channels_per_host
        self._threads = max(1, threads)
        self._ssh_config = ssh_config
        self._known_hosts = known_hosts
        self.local = LocalTransport(environ)
        self._pool: SSHPool | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._shared: dict[str, Any] = {}

    def transport(self, host: str | None) -> Transport:
        """The local transport (None) or the SSH transport of a host name or alias."""
        if host is None:
            return self.local
        return self.ssh_pool().transport(host)

    def ssh_pool(self) -> SSHPool:
        """The run's SSH pool: one connection per host, created on first use."""
        if self._pool is None:
            try:
                from predeploy_tui.engine import ssh
            except ImportError as exc:
                raise CheckError(f"SSH is not available here: {exc}") from None
            kwargs: dict[str, Any] = {}
            if self._ssh_config is not None:
                kwargs["config_path"] = self._ssh_config
            if self._known_hosts is not None:
                kwargs["known_hosts"] = self._known_hosts
            self._pool = ssh.SSHPool(hosts=self._hosts, handshake_cap=self._handshake_cap,
                                 channels_per_host=self._channels_per_host, **kwargs)
        return self._pool

    async def to_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call on the engine's dedicated, sized thread pool."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self._threads,
                                                thread_name_prefix="predeploy-check")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """A per-run cached object (an httpx client, a boto3 Session) created on first use."""
        if key not in self._shared:
            self._shared[key] = factory()
        return self._shared[key]

    async def aclose(self) -> None:
        """Close the SSH connections, every shared client and the thread pool."""
        shared, self._shared = self._shared, {}
        for key, value in shared.items():
            try:
                closer = getattr(value, "aclose", None) or getattr(value, "close", None)
                if closer is None:
                    continue
                outcome = closer()
                if inspect.isawaitable(outcome):
                    async with asyncio.timeout(5):
                        await outcome
            except Exception:
                log.warning("closing the shared client %r failed", key, exc_info=True)
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await pool.close()
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
