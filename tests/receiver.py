"""A real HTTP server on 127.0.0.1 standing in for the app behind an API-channel inbox:
it checks each delivery's signature and records it; its answers can be scripted."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from tests.factories import sign


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then 200
    deliveries: list[Delivery] = field(default_factory=list)
    bad_signatures: int = 0
    delay: float = 0.0  # seconds to wait before answering each delivery
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {
                    k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.delay:
                    await asyncio.sleep(self.delay)
                status = self._answer(headers, body)
                payload = json.dumps({"source_id": f"rcv-{len(self.deliveries) - 1}"}).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        if self.secret and headers.get("x-frontdesk-signature") != sign(self.secret, body):
            self.bad_signatures += 1
            return 401
        self.deliveries.append(Delivery(headers, body))
        self.arrived.set()
        return self.statuses.pop(0) if self.statuses else 200
