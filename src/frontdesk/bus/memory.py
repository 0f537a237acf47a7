"""The in-process bus: publishing is delivering."""

from __future__ import annotations

from typing import Any

from frontdesk.bus import Deliver, OnStatus


class MemoryBus:
    up = True  # one process: there is no link to lose

    def __init__(self) -> None:
        self._deliver: Deliver | None = None

    async def start(self, deliver: Deliver, on_status: OnStatus | None = None) -> None:
        self._deliver = deliver

    async def publish(self, events: list[dict[str, Any]]) -> None:
        if self._deliver is None:
            return
        for event in events:
            await self._deliver(event)

    async def close(self) -> None:
        self._deliver = None
