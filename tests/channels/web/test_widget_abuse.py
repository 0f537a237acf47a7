"""The widget against abuse: forged tokens, message floods over HTTP and the socket (429 or an
error frame with retry_after, nothing stored beyond the limit, other visitors still served),
per-address limits, and rate-limit memory that stays bounded."""

from __future__ import annotations

import json
import time

import httpx
import sqlalchemy as sa
import websockets

from frontdesk.channels.web.ratelimit import IP_REQUESTS, IP_SESSIONS, VISITOR_MESSAGES
from frontdesk.domain.ratelimit import Buckets, Rate
from frontdesk.store import tables as t
from tests.channels.web.test_web_channel import count, make_web_inbox, say, session, visitor
from tests.channels.web.test_widget_socket import close_code, next_frame, visitor_socket
from tests.conftest import Server
from tests.factories import make_admin


def from_ip(ip: str) -> dict[str, str]:
    # The test server trusts 127.0.0.1 as a proxy (uvicorn's FORWARDED_ALLOW_IPS default).
    return {"X-Forwarded-For": ip}


async def test_forged_tokens_get_nothing(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    real = (await session(http, inbox))["visitor_token"]
    prefix, part, _ = real.split(".")
    forged = f"{prefix}.{part}.{'f' * 64}"
    for path, method in (
        ("messages", "GET"),
        ("messages", "POST"),
        ("csat", "POST"),
        ("attachments", "POST"),
    ):
        r = await http.request(method, f"{inbox.base}/{path}", headers=visitor(forged), json={})
        assert r.status_code in (401, 422), (path, r.text)
        if r.status_code == 422:  # the body is checked first; with a valid body the token fails
            assert r.json()["error"]["field"] != "authorization"
    r = await say(http, inbox, forged, "hi", "1")
    assert r.status_code == 401
    async with visitor_socket(server, inbox, forged) as ws:
        assert await close_code(ws) == 4401
    assert await count(server, t.messages) == 0


async def test_message_flood_is_cut_at_the_limit_and_others_are_served(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    flooder = (await session(http, inbox))["visitor_token"]
    bystander = (await session(http, inbox))["visitor_token"]
    started, burst = time.monotonic(), 0
    while (refused := await say(http, inbox, flooder, f"spam {burst}", f"s-{burst}")).status_code == 200:
        burst += 1
        assert burst <= 2 * VISITOR_MESSAGES.burst
    refill = (time.monotonic() - started) * VISITOR_MESSAGES.per_second
    assert VISITOR_MESSAGES.burst <= burst <= VISITOR_MESSAGES.burst + refill + 1
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["access-control-allow-origin"] == "*"
    assert await count(server, t.messages) == burst
    # The socket shares the visitor's budget: an error frame, nothing stored.
    async with visitor_socket(server, inbox, flooder) as ws:
        await next_frame(ws, "ready")
        await ws.send(json.dumps({"type": "message", "client_id": "s-x", "text": "more"}))
        error = await next_frame(ws, "error")
        assert (error["code"], error["client_id"]) == ("rate_limited", "s-x")
        assert error["retry_after"] >= 1
        await ws.send(json.dumps({"type": "ping"}))
        await next_frame(ws, "pong")  # still connected
    files = await http.post(
        f"{inbox.base}/attachments",
        headers=visitor(flooder),
        data={"client_id": "f"},
        files={"file": ("a.txt", b"hello", "text/plain")},
    )
    assert files.status_code == 429
    assert await count(server, t.messages) == burst
    assert await count(server, t.attachments) == 0
    # Another visitor is not affected.
    assert (await say(http, inbox, bystander, "hello", "b-1")).status_code == 200
    async with server.services.db.read() as conn:
        texts = (await conn.execute(sa.select(t.messages.c.text))).scalars().all()
    assert "more" not in texts and "hello" in texts


async def test_sessions_and_requests_are_limited_per_address(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started, served = time.monotonic(), 0
    while (
        r := await http.post(f"{inbox.base}/sessions", json={}, headers=from_ip("203.0.113.7"))
    ).status_code == 200:
        served += 1
        assert served <= 2 * IP_SESSIONS.burst
    assert (
        IP_SESSIONS.burst
        <= served
        <= IP_SESSIONS.burst + (time.monotonic() - started) * IP_SESSIONS.per_second + 1
    )
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert await count(server, t.contacts) == served  # the refused one created nothing
    assert (
        await http.post(f"{inbox.base}/sessions", json={}, headers=from_ip("203.0.113.8"))
    ).status_code == 200

    address = from_ip("198.51.100.1")
    started, served = time.monotonic(), 0
    while (r := await http.get(f"{inbox.base}/config", headers=address)).status_code == 200:
        served += 1
        assert served <= 2 * IP_REQUESTS.burst
    refill = (time.monotonic() - started) * IP_REQUESTS.per_second
    assert IP_REQUESTS.burst <= served <= IP_REQUESTS.burst + refill + 1
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    async with websockets.connect(server.ws_url(f"{inbox.base}/socket"), additional_headers=address) as ws:
        error = await next_frame(ws, "error")
        assert error["code"] == "rate_limited" and error["retry_after"] >= 1
        assert await close_code(ws) == 4429
    assert (await http.get(f"{inbox.base}/config", headers=from_ip("198.51.100.2"))).status_code == 200


def test_buckets_refill_and_forget_idle_keys() -> None:
    rate = Rate(per_window=20, window_seconds=60, burst=8)
    buckets = Buckets(rate, max_keys=1000)
    assert [buckets.take("a", 0.0) for _ in range(8)] == [0.0] * 8
    wait = buckets.take("a", 0.0)
    assert 2.9 < wait < 3.1  # one token every 3 s
    assert buckets.take("a", 3.0) == 0.0
    for i in range(500):
        buckets.take(f"visitor-{i}", 10.0)
    assert len(buckets) == 501
    # Once full again (8 tokens at 1/3 per second: 24 s idle) a bucket is forgotten.
    buckets.take("late", 40.0)
    assert len(buckets) == 1
    # A flood of new keys never holds more than max_keys.
    small = Buckets(rate, max_keys=100)
    for i in range(10_000):
        small.take(f"k{i}", 0.0)
    assert len(small) == 100


async def test_frame_floods_are_refused_and_returning_visitors_are_not_new_sessions(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    address = from_ip("192.0.2.50")
    token = (await http.post(f"{inbox.base}/sessions", json={}, headers=address)).json()["visitor_token"]
    # A returning visitor (a page load with the token) is not a new session.
    for _ in range(IP_SESSIONS.burst + 5):
        r = await http.post(f"{inbox.base}/sessions", json={"visitor_token": token}, headers=address)
        assert r.status_code == 200, r.text
    await say(http, inbox, token, "hi", "c-1")
    url = server.ws_url(f"{inbox.base}/socket")
    async with websockets.connect(url, additional_headers=from_ip("192.0.2.51")) as ws:
        await ws.send(json.dumps({"type": "hello", "visitor_token": token}))
        await next_frame(ws, "ready")
        # Typing that changes state each frame would publish each time: it counts against the address.
        for i in range(IP_REQUESTS.burst + 10):
            await ws.send(json.dumps({"type": "typing", "typing": i % 2 == 0}))
        error = await next_frame(ws, "error")
        assert error["code"] == "rate_limited" and error["retry_after"] >= 1
        await ws.send(json.dumps({"type": "ping"}))
        await next_frame(ws, "pong")  # pings are always answered
