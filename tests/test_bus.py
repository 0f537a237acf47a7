"""One contract for every bus: memory always, Redis when the run has one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from frontdesk.bus import make_bus
from frontdesk.bus.hub import Hub
from tests.conftest import REDIS_CHANNEL as CHANNEL
from tests.conftest import REDIS_URL

BACKENDS = ["memory"] + (["redis"] if REDIS_URL else [])


@pytest.mark.parametrize("kind", BACKENDS)
async def test_every_process_receives_every_event_in_each_publishers_order(kind: str) -> None:
    url = REDIS_URL if kind == "redis" else ""
    # In memory there is one process, whose own events must come back; Redis links two.
    processes = (
        [make_bus(url, CHANNEL)] if kind == "memory" else [make_bus(url, CHANNEL), make_bus(url, CHANNEL)]
    )
    received: list[list[dict[str, Any]]] = [[] for _ in processes]
    for bus, sink in zip(processes, received, strict=True):

        async def deliver(event: dict[str, Any], sink: list[dict[str, Any]] = sink) -> None:
            sink.append(event)

        await bus.start(deliver)
    try:
        events = [{"seq": i, "type": "t", "workspace_id": 1, "inbox_id": 1, "data": {}} for i in range(5)]
        await processes[0].publish(events[:3])
        await processes[-1].publish(events[3:])
        async with asyncio.timeout(5):
            while any(len(sink) < 5 for sink in received):
                await asyncio.sleep(0.01)
        # Each publisher's events keep its order; two processes' sends may interleave (publishing
        # is queued, never awaited by the write: clients apply events by seq, docs/events.md).
        for sink in received:
            seqs = [e["seq"] for e in sink]
            assert sorted(seqs) == [0, 1, 2, 3, 4]
            assert [q for q in seqs if q < 3] == [0, 1, 2] and [q for q in seqs if q >= 3] == [3, 4]
    finally:
        for bus in processes:
            await bus.close()


async def test_hub_filters_by_workspace_and_inbox() -> None:
    hub = Hub()
    agent = hub.subscribe(workspace_id=1, user_id=7, inbox_ids=frozenset({10}))
    admin = hub.subscribe(workspace_id=1, user_id=8, inbox_ids=None)
    stranger = hub.subscribe(workspace_id=2, user_id=9, inbox_ids=None)
    for inbox_id in (10, 11, None):
        await hub.deliver({"seq": 1, "type": "t", "workspace_id": 1, "inbox_id": inbox_id, "data": {}})
    assert agent.queue.qsize() == 2 and admin.queue.qsize() == 3 and stranger.queue.qsize() == 0
    hub.unsubscribe(agent)
    assert hub.connection_count == 2


async def test_a_socket_subscribing_after_its_credentials_were_revoked_is_closed() -> None:
    """Authenticated just before the revocation, subscribed just after its news: still closed."""
    hub = Hub()
    await hub.deliver(
        {
            "seq": None,
            "type": "credentials.revoked",
            "workspace_id": 0,
            "inbox_id": None,
            "data": {"user_id": 7, "token_ids": [3], "session_ids": [9]},
        }
    )
    late_token = hub.subscribe(1, 7, None, token_id=3)
    late_session = hub.subscribe(1, 7, None, session_id=9)
    other = hub.subscribe(1, 7, None, token_id=4)
    assert late_token.close_code == late_session.close_code == 4401
    assert other.close_code is None and other.queue.empty()
