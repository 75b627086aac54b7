"""Provides TCP endpoints that misbehave: one that accepts and never answers, one that refuses."""

from __future__ import annotations

import socket


def silent_listener() -> socket.socket:
    """A listening socket nobody reads from: the kernel completes connections, nothing answers.

    Close it to stop.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def refused_port() -> int:
    """A loopback port with nothing listening (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
