"""A real HTTP server on 127.0.0.1 standing in for the app behind an API-channel inbox: it checks
each delivery's signature and records it; its answers can be scripted. Shared by every suite."""

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
    status: int  # what the receiver answered

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message_id(self) -> str:
        return self.headers.get("x-frontdesk-message-id", "")


@dataclass
class Receiver:
    secret: str = ""
    statuses: list[int] = field(default_factory=list)  # answers to give, in order; then `status`
    status: int = 200
    delay: float = 0.0  # seconds to wait before answering each delivery
    hold_first_seconds: float = 0.0  # extra wait before answering the very first delivery
    deliveries: list[Delivery] = field(default_factory=list)
    bad_signatures: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None
    _handlers: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def delivered(self) -> dict[str, bytes]:
        """Accepted deliveries, deduplicated by X-Frontdesk-Message-Id as a real receiver does."""
        accepted: dict[str, bytes] = {}
        for d in self.deliveries:
            if d.status < 300:
                accepted.setdefault(d.message_id, d.body)
        return accepted

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._handlers:  # e.g. a request held open when its sender was killed
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                first = not self.deliveries
                status = self._answer(headers, body)
                await asyncio.sleep(self.delay + (self.hold_first_seconds if first else 0.0))
                payload = json.dumps({"source_id": f"rcv-{len(self.deliveries) - 1}"}).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def _answer(self, headers: dict[str, str], body: bytes) -> int:
        if self.secret and headers.get("x-frontdesk-signature") != sign(self.secret, body):
            self.bad_signatures += 1
            return 401
        status = self.statuses.pop(0) if self.statuses else self.status
        self.deliveries.append(Delivery(headers, body, status))
        self.arrived.set()
        return status
