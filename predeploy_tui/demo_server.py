"""Provides the demo's health endpoint: a tiny asyncio HTTP server on 127.0.0.1 and a free port.

``GET /health`` answers ``{"status": "ok"}``; anything else is 404. Used as an async context
manager by ``predeploy run`` / ``predeploy demo`` of the bundled demo checklist.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from types import TracebackType

READ_TIMEOUT = 5.0
"""Seconds a client may take to send its request."""


class DemoServer:
    """A loopback HTTP server for the demo checklist's ``network.health`` item."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests = 0
        """How many requests were answered."""
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The health URL to give the checklist as ``demo_url``."""
        return f"http://{self.host}:{self.port}/health"

    async def start(self) -> None:
        """Listen (on a free port unless one was given)."""
        self._server = await asyncio.start_server(self._answer, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close connections."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> DemoServer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split()
            method, target = (parts[0], parts[1]) if len(parts) >= 2 else ("", "")
            if method in ("GET", "HEAD") and target.split("?", 1)[0] == "/health":
                status, body = "200 OK", json.dumps({"status": "ok"}).encode()
            else:
                status, body = "404 Not Found", json.dumps({"error": "not found"}).encode()
            self.requests += 1
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + (body if method != "HEAD" else b""))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
