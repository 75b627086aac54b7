"""Provides throwaway HTTPS servers with trustme certificates: valid, expiring soon, expired, wrong name.

Each certificate gets its own server (a ``ThreadingHTTPServer`` in a thread) on a free loopback
port, all signed by one throwaway CA whose PEM file the checks name as ``ca_file``. The handler
serves a few routes the HTTP tests ask for.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TOKEN = "tok-7f3a9c1e5b2d4068"
"""The bearer token ``/private`` accepts."""
HEALTH = {"status": "ok", "version": "1.4.2", "replicas": {"ready": 3, "wanted": 3},
          "checked_at": "2026-01-01T00:00:00Z"}
"""The JSON body of ``/health``."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output clean

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, json.dumps(HEALTH).encode(), "application/json")
        elif path == "/text":
            self._send(200, b"all systems nominal\nqueue depth 4\n", "text/plain")
        elif path == "/big":
            # Two MiB of text, its one error past the first MiB: more than the http check reads.
            self._send(200, b"x" * (2 * 1024 * 1024) + b"\nerror: disk full\n", "text/plain")
        elif path == "/slow":
            time.sleep(0.6)
            self._send(200, b"slow but fine\n", "text/plain")
        elif path == "/private":
            if self.headers.get("Authorization") == f"Bearer {TOKEN}":
                self._send(200, b'{"secret_area": "welcome"}', "application/json")
            else:
                self._send(401, b'{"error": "unauthorized"}', "application/json")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self._send(code, f"status {code}\n".encode(), "text/plain")
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._send(200, json.dumps({"received": json.loads(body or b"null")}).encode(),
                   "application/json")


@dataclass
class HTTPSServers:
    """Running HTTPS servers, one per certificate, and the CA that signed them."""

    ca_file: Path
    """PEM of the throwaway CA (pass as ``ca_file``)."""
    valid: int
    """Port of the server whose certificate is valid for localhost / 127.0.0.1 for a year."""
    expiring: int
    """Port of the server whose certificate expires in 10 days (and an hour)."""
    expired: int
    """Port of the server whose certificate expired 3 days ago."""
    just_expired: int
    """Port of the server whose certificate expired 9 hours ago (less than a whole day)."""
    wrong_name: int
    """Port of the server whose certificate names only wrong.example.net."""
    servers: tuple[ThreadingHTTPServer, ...] = ()
    """The servers, for shutdown."""

    def close(self) -> None:
        """Stop every server."""
        for server in self.servers:
            server.shutdown()
            server.server_close()


def start(folder: Path) -> HTTPSServers:
    """Issue the certificates into ``folder`` and start one server per certificate."""
    import trustme

    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = datetime.now(UTC)
    certs = {
        "valid": ca.issue_cert("localhost", "127.0.0.1", not_after=now + timedelta(days=365)),
        "expiring": ca.issue_cert("localhost", "127.0.0.1", not_after=now + timedelta(days=10, hours=1)),
        "expired": ca.issue_cert("localhost", "127.0.0.1", not_before=now - timedelta(days=30),
                                 not_after=now - timedelta(days=3)),
        "just_expired": ca.issue_cert("localhost", "127.0.0.1", not_before=now - timedelta(days=30),
                                      not_after=now - timedelta(hours=9)),
        "wrong_name": ca.issue_cert("wrong.example.net"),
    }
    ports: dict[str, int] = {}
    servers: list[ThreadingHTTPServer] = []
    for name, cert in certs.items():
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, name=f"https-{name}", daemon=True).start()
        ports[name] = int(server.server_address[1])
        servers.append(server)
    return HTTPSServers(ca_file=ca_file, servers=tuple(servers), **ports)
