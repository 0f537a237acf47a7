"""A small authoritative DNS server on 127.0.0.1 (UDP and TCP, one port) for the tests, answering
from records the test sets: TXT, MX, NXDOMAIN (any name not set), SERVFAIL, or no answer at all.

It runs in threads, not on the test's event loop, so synchronous callers (dkimpy's DNS lookup)
can ask it too. A UDP answer too big for the question is sent truncated, as real servers do,
and the resolver asks again over TCP.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.TXT import TXT

Failure = Literal["servfail", "silent"]


class Zone:
    """What the server answers; names are case-insensitive and without the final dot."""

    def __init__(self) -> None:
        self.txt: dict[str, list[list[bytes]]] = {}
        self.mx: dict[str, list[tuple[int, str]]] = {}
        self.failures: dict[str, Failure] = {}
        self.questions: list[tuple[str, str, str]] = []  # (name, type, "udp" | "tcp")
        self.lock = threading.Lock()

    def add_txt(self, name: str, value: str | Sequence[str]) -> None:
        """One TXT record; a str longer than 255 bytes is split into strings as DNS requires,
        a sequence gives the strings as they are."""
        if isinstance(value, str):
            raw = value.encode()
            strings = [raw[i : i + 255] for i in range(0, len(raw), 255)] or [b""]
        else:
            strings = [s.encode() for s in value]
        self.txt.setdefault(_key(name), []).append(strings)

    def add_mx(self, name: str, host: str, preference: int = 10) -> None:
        self.mx.setdefault(_key(name), []).append((preference, host))

    def fail(self, name: str, how: Failure) -> None:
        self.failures[_key(name)] = how

    def answer(self, query: dns.message.Message, transport: str) -> dns.message.Message | None:
        question = query.question[0]
        name, rdtype = _key(question.name.to_text()), question.rdtype
        with self.lock:
            self.questions.append((name, dns.rdatatype.to_text(rdtype), transport))
        failure = self.failures.get(name)
        if failure == "silent":
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if failure == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        if name not in self.txt and name not in self.mx:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        rrset = dns.rrset.RRset(question.name, dns.rdataclass.IN, rdtype)
        if rdtype == dns.rdatatype.TXT:
            for strings in self.txt.get(name, []):
                rrset.add(TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings), 300)
        elif rdtype == dns.rdatatype.MX:
            for preference, host in self.mx.get(name, []):
                mx = MX(dns.rdataclass.IN, dns.rdatatype.MX, preference, dns.name.from_text(host))
                rrset.add(mx, 300)
        if rrset:
            response.answer.append(rrset)
        return response  # an empty answer: the name exists, without records of this type


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def _limit(query: dns.message.Message) -> int:
    return max(512, query.payload) if query.edns >= 0 else 512


class _Udp(socketserver.BaseRequestHandler):
    server: _UdpServer

    def handle(self) -> None:
        data, sock = self.request
        query = dns.message.from_wire(data)
        response = self.server.zone.answer(query, "udp")
        if response is None:
            return
        wire = response.to_wire()
        if len(wire) > _limit(query):
            response.answer = []
            response.flags |= dns.flags.TC
            wire = response.to_wire()
        sock.sendto(wire, self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(5)
        try:
            header = conn.recv(2, socket.MSG_WAITALL)
            if len(header) < 2:
                return
            data = conn.recv(struct.unpack("!H", header)[0], socket.MSG_WAITALL)
            response = self.server.zone.answer(dns.message.from_wire(data), "tcp")
            if response is None:
                conn.recv(1)  # keep the connection open and silent until the client gives up
                return
            wire = response.to_wire()
            conn.sendall(struct.pack("!H", len(wire)) + wire)
        except OSError:
            return


class _UdpServer(socketserver.ThreadingUDPServer):
    daemon_threads = True

    def __init__(self, zone: Zone, port: int) -> None:
        self.zone = zone
        super().__init__(("127.0.0.1", port), _Udp)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, zone: Zone, port: int) -> None:
        self.zone = zone
        super().__init__(("127.0.0.1", port), _Tcp)


class DnsServer:
    def __init__(self, zone: Zone, udp: _UdpServer, tcp: _TcpServer) -> None:
        self.zone, self._udp, self._tcp = zone, udp, tcp
        self.port: int = udp.server_address[1]

    @property
    def address(self) -> str:
        """For FRONTDESK_DNS_SERVERS."""
        return f"127.0.0.1:{self.port}"

    def txt_lookup(self, name: bytes, timeout: float = 5) -> bytes | None:
        """A dnsfunc for dkimpy's verify: the first TXT record at name, its strings joined."""
        query = dns.message.make_query(name.decode().rstrip("."), dns.rdatatype.TXT)
        response = dns.query.tcp(query, "127.0.0.1", port=self.port, timeout=timeout)
        for rrset in response.answer:
            for rdata in rrset:
                return b"".join(rdata.strings)
        return None


def _bind(zone: Zone, port: int) -> tuple[_UdpServer, _TcpServer]:
    if port:
        return _UdpServer(zone, port), _TcpServer(zone, port)
    for _ in range(20):
        udp = _UdpServer(zone, 0)
        try:
            return udp, _TcpServer(zone, udp.server_address[1])
        except OSError:
            udp.server_close()  # that port is taken for TCP: try another one
    raise RuntimeError("no free port for the test DNS server")


@contextmanager
def dns_server(port: int = 0) -> Iterator[DnsServer]:
    """A running server on port (0: a free one), the same for UDP and TCP; stopped on exit."""
    zone = Zone()
    udp, tcp = _bind(zone, port)
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for s in (udp, tcp)
    ]
    for thread in threads:
        thread.start()
    try:
        yield DnsServer(zone, udp, tcp)
    finally:
        for s in (udp, tcp):
            s.shutdown()
            s.server_close()
