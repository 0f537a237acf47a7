"""Redis pub/sub fan-out, so several `serve` processes share one event stream.

Pub/sub keeps nothing: a process that was disconnected catches up from the events table, which
is the record; Redis only makes the live path fast. So the bus never holds a request:

- `publish` queues the events and returns; one task sends them in order, each send bounded by a
  timeout. A hung Redis (SIGSTOP, a frozen host) costs the writer nothing.
- The link is watched (a PING every `health_seconds`, two failing in a row; the listener's errors;
  a failed send). When it is lost, `on_status(False)` tells the hub, which closes every socket
  with 4503 so that the clients resume from the events table; events queued meanwhile are
  dropped (they are in that table). `on_status(True)` follows when Redis answers again and the
  listener is subscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
import redis.asyncio as aioredis

from frontdesk.bus import Deliver, OnStatus

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000  # batches waiting to be sent; beyond it the link counts as lost
PING_MISSES = 2  # failed pings in a row that make the link lost
BATCH_EVENTS = 500  # queued batches are sent together up to this many events
ERRORS = (ConnectionError, OSError, TimeoutError, aioredis.RedisError)


def _stop_if_cancelled() -> None:
    """Called where a loop catches a connection error: redis-py closes its connection when a
    command is cancelled, and that close can raise a ConnectionError in place of the
    CancelledError. Caught as a lost link, the task would go round again and never stop, and the
    shutdown waiting for it would hang (seen in full PostgreSQL test runs)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class RedisBus:
    def __init__(self, url: str, channel: str, *, health_seconds: float = 1.0, timeout: float = 2.0) -> None:
        self._channel = channel
        self._health_seconds, self._timeout = health_seconds, timeout
        self._redis = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=timeout)
        self._queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._tasks: list[asyncio.Task[None]] = []
        self._on_status: OnStatus | None = None
        self._subscribed = False
        self.up = False

    async def start(self, deliver: Deliver, on_status: OnStatus | None = None) -> None:
        self._on_status = on_status
        pubsub = await self._subscribe()  # the first subscription must work: fail to start
        self.up = True  # as everyone assumes at first: only changes are told
        self._tasks = [
            asyncio.create_task(self._listen(pubsub, deliver)),
            asyncio.create_task(self._send()),
            asyncio.create_task(self._watch()),
        ]

    async def publish(self, events: list[dict[str, Any]]) -> None:
        if not self.up:
            return  # lost: the sockets were closed and resume from the events table
        try:
            self._queue.put_nowait(events)
        except asyncio.QueueFull:
            self._lost("publish queue full")

    async def close(self) -> None:
        sender = self._tasks[1] if len(self._tasks) > 1 else None
        if sender is not None and self.up:
            # What was committed before the shutdown still goes out, if Redis answers soon.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._timeout):
                    await self._queue.join()
        for task in self._tasks:
            task.cancel()
        # Bounded: a task that still swallowed its cancellation must not hold the shutdown.
        _, stuck = await asyncio.wait(self._tasks, timeout=self._timeout) if self._tasks else ((), ())
        if stuck:
            log.warning("redis bus tasks did not stop", extra={"tasks": [t.get_name() for t in stuck]})
        await self._redis.aclose()

    # The link --------------------------------------------------------------------------------

    def _set_up(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if self._on_status is not None:
            self._on_status(up)

    def _lost(self, why: str) -> None:
        if self.up:
            log.warning("redis bus lost; sockets are told to resume", extra={"error": why})
        self._set_up(False)

    async def _subscribe(self) -> Any:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        async with asyncio.timeout(self._timeout):
            await pubsub.subscribe(self._channel)
        self._subscribed = True
        return pubsub

    async def _watch(self) -> None:
        misses = 0
        while True:
            await asyncio.sleep(self._health_seconds)
            try:
                async with asyncio.timeout(self._timeout):
                    await self._redis.ping()
            except ERRORS as exc:
                _stop_if_cancelled()
                # Two misses in a row: one slow answer on a busy process must not close every
                # socket (a dead Redis is seen at once by the listener anyway).
                misses += 1
                if misses >= PING_MISSES:
                    self._lost(f"ping: {exc!r}")
                continue
            misses = 0
            if self._subscribed and not self.up:
                log.info("redis bus is back")
                self._set_up(True)

    async def _listen(self, pubsub: Any, deliver: Deliver) -> None:
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except ERRORS as exc:
                _stop_if_cancelled()
                self._subscribed = False
                self._lost(f"listen: {exc!r}")
                pubsub = await self._resubscribe(pubsub)
                continue
            if message is None or message.get("type") != "message":
                continue
            for event in orjson.loads(message["data"]):
                await deliver(event)

    async def _resubscribe(self, old: Any) -> Any:
        with contextlib.suppress(*ERRORS):
            await old.aclose()
        while True:
            try:
                return await self._subscribe()
            except ERRORS:
                _stop_if_cancelled()
                await asyncio.sleep(min(self._health_seconds, 0.5))

    async def _send(self) -> None:
        while True:
            batch = list(await self._queue.get())  # a copy: the first list is the writer's
            taken = 1
            while len(batch) < BATCH_EVENTS and not self._queue.empty():
                batch.extend(self._queue.get_nowait())
                taken += 1
            try:
                if self.up:
                    async with asyncio.timeout(self._timeout):
                        await self._redis.publish(self._channel, orjson.dumps(batch))
            except ERRORS as exc:
                _stop_if_cancelled()
                self._lost(f"publish: {exc!r}")
            finally:
                for _ in range(taken):
                    self._queue.task_done()
