"""Provides a tiny authoritative DNS server on loopback (UDP and TCP) built on dnspython's message API.

It answers from a dict of records; an unknown name is NXDOMAIN, a known name without the asked
type is an empty NOERROR answer. One port serves both UDP and TCP, in two daemon threads.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RECORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "api.deploy.test.": {
        "A": ("10.0.0.10", "10.0.0.11"),
        "AAAA": ("2001:db8::10",),
        "TXT": ('"v=spf1 -all"', '"release=1.4.2"'),
    },
    "www.deploy.test.": {"CNAME": ("api.deploy.test.",)},
    "deploy.test.": {
        "MX": ("10 mail1.deploy.test.", "20 mail2.deploy.test."),
        "NS": ("ns1.deploy.test.",),
    },
}
"""Zone data: name -> type -> rdata texts."""


@dataclass
class DNSServer:
    """A running loopback DNS server."""

    port: int
    """The UDP and TCP port on 127.0.0.1."""
    records: Mapping[str, Mapping[str, Sequence[str]]]
    """What it answers."""
    _sockets: list[socket.socket] = field(default_factory=list, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def close(self) -> None:
        """Stop serving."""
        self._stop.set()
        for sock in self._sockets:
            sock.close()


def _answer(wire: bytes, records: Mapping[str, Mapping[str, Sequence[str]]]) -> bytes:
    import dns.message
    import dns.rcode
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset

    query = dns.message.from_wire(wire)
    response = dns.message.make_response(query)
    response.flags |= 0x0400  # authoritative answer
    question = query.question[0]
    name = question.name.to_text().lower()
    rtype = dns.rdatatype.to_text(question.rdtype)
    if name not in records:
        response.set_rcode(dns.rcode.NXDOMAIN)
    else:
        values = records[name].get(rtype, ())
        if values:
            response.answer.append(dns.rrset.from_text_list(question.name, 60, dns.rdataclass.IN,
                                                            rtype, list(values)))
    return bytes(response.to_wire())


def _serve_udp(sock: socket.socket, server: DNSServer) -> None:
    while not server._stop.is_set():
        try:
            wire, peer = sock.recvfrom(4096)
        except OSError:
            return
        try:
            sock.sendto(_answer(wire, server.records), peer)
        except Exception:
            continue


def _serve_tcp(sock: socket.socket, server: DNSServer) -> None:
    while not server._stop.is_set():
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.settimeout(5)
                size = struct.unpack("!H", conn.recv(2))[0]
                wire = b""
                while len(wire) < size:
                    chunk = conn.recv(size - len(wire))
                    if not chunk:
                        break
                    wire += chunk
                reply = _answer(wire, server.records)
                conn.sendall(struct.pack("!H", len(reply)) + reply)
            except Exception:
                continue


def start(records: Mapping[str, Mapping[str, Sequence[str]]] = RECORDS) -> DNSServer:
    """Bind UDP and TCP on one free loopback port and serve ``records``."""
    for _ in range(20):
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        port = int(udp.getsockname()[1])
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            tcp.bind(("127.0.0.1", port))
        except OSError:
            udp.close()
            tcp.close()
            continue
        tcp.listen(16)
        server = DNSServer(port=port, records=records, _sockets=[udp, tcp])
        threading.Thread(target=_serve_udp, args=(udp, server), daemon=True).start()
        threading.Thread(target=_serve_tcp, args=(tcp, server), daemon=True).start()
        return server
    raise RuntimeError("no free port for both UDP and TCP")
