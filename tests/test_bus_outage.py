"""Redis lost or hung under a running server (a redis-server of the test's own): open sockets
are told (closed with 4503, not final, so the clients resume), /readyz answers 503 naming redis
until the bus is back, writes never wait on Redis, and after it returns the events missed are
replayed with ?since= and live events flow again."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis import exceptions as redis_errors

from frontdesk.bus.redis import RedisBus
from tests.channels.web.test_web_channel import make_web_inbox, session
from tests.channels.web.test_widget_socket import close_code, next_frame, visitor_socket
from tests.conftest import Server, make_settings, serving
from tests.factories import Agent, make_admin, make_inbox, receive
from tests.redis_server import RedisServer


@pytest.fixture
async def server(database_url: str, tmp_path: Path, own_redis: RedisServer) -> AsyncIterator[Server]:
    """The app on the test's own Redis (the shared one is never stopped)."""
    settings = make_settings(database_url, tmp_path / "data", redis_url=own_redis.url)
    async with serving(settings) as running:
        yield running


async def _stream(server: Server, agent: Agent, ws_id: int, since: int | None = None) -> Any:
    query = "" if since is None else f"?since={since}"
    sock = await websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws_id}/stream{query}"), additional_headers=agent.headers
    )
    return sock


async def _until(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def _readyz(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    r = await http.get("/readyz")
    return r.status_code, r.json()


async def _frames_until_ready(sock: Any) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while True:
            frame = json.loads(await sock.recv())
            if frame["type"] == "ready":
                return frames
            frames.append(frame)


DURING = ["during 0", "during 1", "during 2"]


def _written_during(frames: list[dict[str, Any]]) -> list[str]:
    """The replies written during the outage, among the replayed frames (a resume also re-sends
    the last seconds' events just before `since`: docs/events.md)."""
    texts = [f["data"]["message"]["text"] for f in frames if f["type"] == "message.created"]
    return [text for text in texts if text.startswith("during")]


@pytest.mark.parametrize("outage", ["killed", "hung"])
async def test_sockets_are_told_readyz_fails_and_events_resume(
    server: Server, http: httpx.AsyncClient, own_redis: RedisServer, outage: str
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    conv = (await receive(http, inbox, "m-0"))["conversation_id"]
    replies = f"/api/v1/workspaces/{ws_id}/conversations/{conv}/messages"
    web = await make_web_inbox(http, admin, ws_id)
    visitor_token = (await session(http, web, name="Ann"))["visitor_token"]
    agent_sock = await _stream(server, admin, ws_id)
    last_seq = int((await next_frame(agent_sock, "ready"))["last_seq"])
    assert await _readyz(http) == (200, {"status": "ok"})

    async with visitor_socket(server, web, visitor_token) as visitor_sock:
        await next_frame(visitor_sock, "ready")
        if outage == "killed":
            own_redis.kill()
        else:
            own_redis.stop()
        try:
            # Both kinds of socket are closed with 4503: reconnect and resume.
            assert await close_code(agent_sock, timeout=10) == 4503
            assert await close_code(visitor_sock, timeout=10) == 4503

            async def not_ready() -> bool:
                return await _readyz(http) == (503, {"status": "unavailable", "reason": "redis"})

            await _until(not_ready, 10, "/readyz never reported redis")
            # Writes go on and never wait for Redis (inline publishing waited 5 s on a hung one).
            took = []
            for i in range(3):
                started = time.monotonic()
                r = await http.post(replies, headers=admin.headers, json={"text": f"during {i}"})
                took.append(time.monotonic() - started)
                assert r.status_code == 201, r.text
            assert max(took) < 1.0, took
            # A socket opened while the bus is lost gets the replay, then is told to come back.
            meanwhile = await _stream(server, admin, ws_id, since=last_seq)
            assert _written_during(await _frames_until_ready(meanwhile)) == DURING
            assert await close_code(meanwhile) == 4503
        finally:
            if outage == "killed":
                own_redis.start()
            else:
                own_redis.cont()

    async def ready_again() -> bool:
        return await _readyz(http) == (200, {"status": "ok"})

    await _until(ready_again, 10, "/readyz never recovered")
    resumed = await _stream(server, admin, ws_id, since=last_seq)
    try:
        assert _written_during(await _frames_until_ready(resumed)) == DURING
        r = await http.post(replies, headers=admin.headers, json={"text": "after"})
        assert r.status_code == 201
        live = await next_frame(resumed, "message.created", timeout=10)
        assert live["data"]["message"]["text"] == "after"
    finally:
        await resumed.close()
    async with visitor_socket(server, web, visitor_token) as visitor_sock:
        await next_frame(visitor_sock, "ready")


async def test_publish_never_waits_and_keeps_its_order(own_redis: RedisServer) -> None:
    """The bus itself: publish returns at once while Redis hangs; what was queued before the hang
    and after it reaches the other process in order once Redis answers again."""
    statuses: list[bool] = []
    sender = RedisBus(own_redis.url, "t", health_seconds=0.2, timeout=0.5)
    receiver = RedisBus(own_redis.url, "t", health_seconds=0.2, timeout=0.5)
    received: list[int] = []

    async def deliver(event: dict[str, Any]) -> None:
        received.append(int(event["seq"]))

    async def ignore(event: dict[str, Any]) -> None:
        return None

    await receiver.start(deliver)
    await sender.start(ignore, statuses.append)
    try:
        for seq in range(100):
            await sender.publish([{"seq": seq}])
        await _until(_true_when(lambda: len(received) == 100), 5, "not all delivered")
        assert received == list(range(100))
        own_redis.stop()
        started = time.monotonic()
        for seq in range(100, 200):
            await sender.publish([{"seq": seq}])
        assert time.monotonic() - started < 0.1
        await _until(_true_when(lambda: statuses == [False]), 5, "the hang was never noticed")
        own_redis.cont()
        await _until(_true_when(lambda: statuses == [False, True]), 5, "never back")
        for seq in range(200, 300):
            await sender.publish([{"seq": seq}])
        await _until(_true_when(lambda: received[-1:] == [299]), 5, "nothing after the hang")
        assert received == sorted(received)  # what got through kept its order
    finally:
        own_redis.cont()
        await sender.close()
        await receiver.close()


def _true_when(condition: Any) -> Any:
    async def check() -> bool:
        return bool(condition())

    return check


async def test_close_stops_a_task_whose_redis_call_turned_its_cancel_into_an_error(
    own_redis: RedisServer,
) -> None:
    """redis-py closes a connection whose command is cancelled, and that close can raise a
    ConnectionError in place of the CancelledError. The watcher must still stop, or the app's
    shutdown waits for it for ever (seen in full PostgreSQL test runs)."""

    async def ignore(event: dict[str, Any]) -> None:
        return None

    bus = RedisBus(own_redis.url, "t", health_seconds=0.01, timeout=0.5)
    await bus.start(ignore)

    async def ping_that_loses_the_cancel() -> bool:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise redis_errors.ConnectionError("connection closed while cancelled") from None
        return True

    bus._redis.ping = ping_that_loses_the_cancel  # type: ignore[method-assign]
    await asyncio.sleep(0.1)  # a ping is in flight
    started = time.monotonic()
    closing = asyncio.create_task(bus.close())
    done, _ = await asyncio.wait({closing}, timeout=5)
    assert done, "close() is still waiting for the bus's tasks"
    assert time.monotonic() - started < 1.5
    assert all(task.done() for task in bus._tasks)
