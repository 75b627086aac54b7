"""Provides throwaway redis-server processes on free loopback ports: a primary and its replica."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PASSWORD = "s3cret-redis-pass"
"""requirepass of the password-protected server."""


def free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    """Whether redis-server is installed here."""
    return shutil.which("redis-server") is not None


@dataclass
class RedisServer:
    """One running redis-server."""

    process: subprocess.Popen[bytes]
    """The server process."""
    port: int
    """Its port on 127.0.0.1."""
    folder: Path
    """Its working folder (no persistence is written)."""

    def stop(self) -> None:
        """Terminate it and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start(*extra: str, port: int | None = None) -> RedisServer:
    """Start redis-server with ``extra`` directives; returns once it answers PING."""
    port = port or free_port()
    folder = Path(tempfile.mkdtemp(prefix="predeploy-redis-"))
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(folder), "--daemonize", "no",
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", *extra]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(process, port, folder)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                reply = conn.recv(64)
                if reply.startswith((b"+PONG", b"-NOAUTH")):
                    return server
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"redis-server did not start on port {port}")


def wait_for_link(replica: RedisServer, timeout: float = 15) -> None:
    """Wait until the replica reports master_link_status:up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", replica.port), timeout=1) as conn:
            conn.sendall(b"INFO replication\r\n")
            time.sleep(0.05)
            if b"master_link_status:up" in conn.recv(4096):
                return
        time.sleep(0.1)
    raise RuntimeError("the replica did not link to its primary")


def cli_info(server: RedisServer, section: str = "replication") -> dict[str, str]:
    """``redis-cli info SECTION`` of a server, the reference client's own reading, as a mapping."""
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(server.port), "info", section],
                          capture_output=True, text=True, timeout=10, check=True)
    pairs = (line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    return {key: value.strip() for key, value in pairs}


def wait_for_link_idle(replica: RedisServer, seconds: int, timeout: float = 30) -> None:
    """Wait until the replica has heard nothing from its primary for ``seconds`` (an idle link)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(cli_info(replica).get("master_last_io_seconds_ago", "-1")) >= seconds:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the replica's link never stayed idle for {seconds} s")


def remove(*servers: RedisServer) -> None:
    """Stop servers and delete their folders."""
    for server in servers:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
