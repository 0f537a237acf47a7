"""Realtime fan-out: a Bus carries events between processes; the Hub hands them to sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class Bus(Protocol):
    """Every published event reaches `deliver` in every process, the publisher's included."""

    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, events: list[dict[str, Any]]) -> None: ...

    async def close(self) -> None: ...


def make_bus(redis_url: str, channel: str = "frontdesk:events") -> Bus:
    if redis_url:
        from frontdesk.bus.redis import RedisBus

        return RedisBus(redis_url, channel)
    from frontdesk.bus.memory import MemoryBus

    return MemoryBus()
