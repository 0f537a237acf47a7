"""Redis pub/sub fan-out, so several `serve` processes share one event stream.

Pub/sub keeps nothing: a process that was disconnected catches up from the events table, which
is the record; Redis only makes the live path fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
import redis.asyncio as aioredis

from frontdesk.bus import Deliver

log = logging.getLogger(__name__)


class RedisBus:
    def __init__(self, url: str, channel: str) -> None:
        self._channel = channel
        self._redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._listener: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._listener = asyncio.create_task(self._listen(pubsub, deliver))

    async def _listen(self, pubsub: Any, deliver: Deliver) -> None:
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except (ConnectionError, OSError, aioredis.RedisError) as exc:
                log.warning("redis bus connection lost, retrying", extra={"error": str(exc)})
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            for event in orjson.loads(message["data"]):
                await deliver(event)

    async def publish(self, events: list[dict[str, Any]]) -> None:
        await self._redis.publish(self._channel, orjson.dumps(events))

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._redis.aclose()
