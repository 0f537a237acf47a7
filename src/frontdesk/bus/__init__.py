"""Realtime fan-out: a Bus carries events between processes; the Hub hands them to sockets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
OnStatus = Callable[[bool], None]  # told when the bus loses (False) or regains (True) its link


class Bus(Protocol):
    """Every published event reaches `deliver` in every process, the publisher's included, in
    the order that process published them — while `up`. Two processes' events may interleave
    (publishing is queued, not awaited by the write); clients apply events by `seq`.
    When the link to the other processes is lost, `on_status` is told (the hub then closes the
    sockets, which resume from the events table)."""

    @property
    def up(self) -> bool: ...

    async def start(self, deliver: Deliver, on_status: OnStatus | None = None) -> None: ...

    async def publish(self, events: list[dict[str, Any]]) -> None:
        """Never waits on the network: a write's request is not held by the fan-out."""

    async def close(self) -> None: ...


def make_bus(redis_url: str, channel: str = "frontdesk:events") -> Bus:
    if redis_url:
        from frontdesk.bus.redis import RedisBus

        return RedisBus(redis_url, channel)
    from frontdesk.bus.memory import MemoryBus

    return MemoryBus()
