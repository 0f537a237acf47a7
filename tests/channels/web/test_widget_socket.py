"""The website visitor's socket against a real server: hello/ready, messages and their acks,
agent replies (never notes), typing and read both ways, blocked contacts, disabled inboxes, and
one visitor never seeing another's conversation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
import websockets

from frontdesk.app import create_app
from frontdesk.store import tables as t
from tests.channels.web.test_web_channel import WebInbox, count, make_web_inbox, say, session
from tests.conftest import BACKEND, Server, free_port, make_settings
from tests.factories import Agent, make_admin, make_member

Socket = Any


def hello(token: str, last: int = 0) -> str:
    return json.dumps({"type": "hello", "visitor_token": token, "last_message_id": last})


@asynccontextmanager
async def visitor_socket(server: Server, inbox: WebInbox, token: str, last: int = 0) -> AsyncIterator[Socket]:
    async with websockets.connect(server.ws_url(f"{inbox.base}/socket")) as ws:
        await ws.send(hello(token, last))
        yield ws


@asynccontextmanager
async def agent_socket(server: Server, agent: Agent, ws_id: int) -> AsyncIterator[Socket]:
    url = server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")
    async with websockets.connect(url, additional_headers=agent.headers) as ws:
        await next_frame(ws, "ready")
        yield ws


async def next_frame(ws: Socket, type_: str, timeout: float = 5, **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == type_ and all(
                frame.get("data", frame).get(k) == v for k, v in match.items()
            ):
                return dict(frame)


async def nothing_of(ws: Socket, type_: str, seconds: float = 0.5) -> None:
    """No frame of this type arrives within `seconds` (other frames are skipped)."""
    with pytest.raises(TimeoutError):
        await next_frame(ws, type_, timeout=seconds)


async def close_code(ws: Socket, timeout: float = 5) -> int:
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return int(closed.value.rcvd.code)


async def test_hello_ready_message_ack_and_idempotent_client_id(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox, name="Ann", email="ann@example.com")
    token = started["visitor_token"]
    async with visitor_socket(server, inbox, token) as ws:
        ready = await next_frame(ws, "ready")
        assert ready["conversation_id"] is None and ready["messages"] == []
        assert ready["contact"] == {"name": "Ann", "email": "ann@example.com"}
        assert ready["agents_online"] is False  # nobody has the dashboard open
        await ws.send(json.dumps({"type": "message", "client_id": "c-1", "text": "Hello?"}))
        ack = await next_frame(ws, "ack")
        assert ack["client_id"] == "c-1"
        first = ack["message"]
        assert (first["client_id"], first["direction"], first["text"]) == ("c-1", "visitor", "Hello?")
        await ws.send(json.dumps({"type": "message", "client_id": "c-1", "text": "Hello?"}))
        again = await next_frame(ws, "ack")
        assert again["message"]["id"] == first["id"]  # a resend is stored once
        await ws.send(json.dumps({"type": "message", "client_id": "c-2", "text": "   "}))
        refused = await next_frame(ws, "error")
        assert (refused["code"], refused["client_id"]) == ("invalid_input", "c-2")
        await ws.send(json.dumps({"type": "ping"}))
        await next_frame(ws, "pong")
        await ws.send("not json")
        assert (await next_frame(ws, "error"))["code"] == "invalid_input"
        await ws.send(json.dumps({"type": "dance"}))
        assert (await next_frame(ws, "error"))["code"] == "invalid_input"
        await ws.send(json.dumps({"type": "message", "client_id": "c-9", "text": "x" * 70_001}))
        assert (await next_frame(ws, "error"))["code"] == "invalid_input"
    assert await count(server, t.messages) == 1
    # The HTTP fallback shows the same message with its client id.
    listed = (await http.get(f"{inbox.base}/messages", headers={"Authorization": f"Visitor {token}"})).json()
    assert [(m["id"], m["client_id"]) for m in listed["messages"]] == [(first["id"], "c-1")]
    # Reconnecting with the last id seen sends only what came after.
    await say(http, inbox, token, "second", "c-3")
    async with visitor_socket(server, inbox, token, last=first["id"]) as ws:
        ready = await next_frame(ws, "ready")
        assert [m["text"] for m in ready["messages"]] == ["second"]
        assert ready["conversation_id"] == listed["conversation_id"]


async def test_bad_tokens_close_4401_and_an_unknown_inbox_4404(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    other = await make_web_inbox(http, admin, ws_id)
    foreign = (await session(http, other))["visitor_token"]
    for first in (hello(foreign), hello("vt1.x.y"), json.dumps({"type": "message"}), "junk"):
        async with websockets.connect(server.ws_url(f"{inbox.base}/socket")) as ws:
            await ws.send(first)
            assert await close_code(ws) == 4401, first
    async with websockets.connect(server.ws_url("/widget/v1/nope/socket")) as ws:
        assert await close_code(ws) == 4404
    assert await count(server, t.contacts) == 1


async def test_agent_reply_and_typing_reach_the_visitor_but_notes_do_not(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox)
    token = started["visitor_token"]
    conv_id = (await say(http, inbox, token, "hi", "c-1")).json()["conversation_id"]
    thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}"
    # Visitors see the agent's display name when they chose one.
    me = await http.patch("/api/v1/me", headers=admin.headers, json={"display_name": "Ayşe"})
    assert me.status_code == 200, me.text
    async with agent_socket(server, admin, ws_id) as agent, visitor_socket(server, inbox, token) as ws:
        ready = await next_frame(ws, "ready")
        assert ready["agents_online"] is True and ready["agents_read"] is False
        await agent.send(json.dumps({"type": "typing", "conversation_id": conv_id, "typing": True}))
        typing = await next_frame(ws, "typing")
        assert typing == {"type": "typing", "typing": True, "name": "Ayşe"}
        note = await http.post(
            f"{thread}/messages", headers=admin.headers, json={"text": "VIP", "private": True}
        )
        assert note.status_code == 201
        reply = await http.post(f"{thread}/messages", headers=admin.headers, json={"text": "Hello Ann"})
        assert reply.status_code == 201
        frame = await next_frame(ws, "message")
        shown = frame["message"]
        assert (shown["id"], shown["direction"], shown["text"]) == (reply.json()["id"], "agent", "Hello Ann")
        assert shown["sender_name"] == "Ayşe" and shown["client_id"] is None
        # The reply set unread to 0: the visitor learns agents have read everything.
        await next_frame(ws, "read")
        await nothing_of(ws, "message")  # the note never arrives

        # Visitor → agent: typing (no user_id: it is the contact) and read receipts.
        await ws.send(json.dumps({"type": "typing", "typing": True}))
        seen = await next_frame(agent, "typing", contact_id=started["contact_id"])
        assert seen["data"] == {
            "conversation_id": conv_id,
            "contact_id": started["contact_id"],
            "typing": True,
        }
        assert "user_id" not in seen["data"]
        await ws.send(json.dumps({"type": "read", "up_to": shown["id"]}))
        while True:  # the worker's "sent" may come first
            updated = (await next_frame(agent, "message.updated"))["data"]["message"]
            if updated["delivery_status"] == "read":
                break
        assert updated["id"] == shown["id"]
        # Resolving asks the visitor for a rating.
        r = await http.patch(thread, headers=admin.headers, json={"status": "resolved"})
        assert r.status_code == 200, r.text
        status = await next_frame(ws, "conversation")
        assert status == {
            "type": "conversation",
            "conversation_id": conv_id,
            "status": "resolved",
            "csat": True,
        }


async def test_agents_frame_follows_presence(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    member = await make_member(server, http, ws_id)  # not a member of the inbox: does not count
    token = (await session(http, inbox))["visitor_token"]
    async with visitor_socket(server, inbox, token) as ws:
        assert (await next_frame(ws, "ready"))["agents_online"] is False
        async with agent_socket(server, member, ws_id):
            await nothing_of(ws, "agents")
            config = (await http.get(f"{inbox.base}/config")).json()
            assert config["agents_online"] is False
        async with agent_socket(server, admin, ws_id):
            assert (await next_frame(ws, "agents")) == {"type": "agents", "online": True}
            assert (await http.get(f"{inbox.base}/config")).json()["agents_online"] is True
            r = await http.put(
                f"/api/v1/workspaces/{ws_id}/presence", headers=admin.headers, json={"status": "away"}
            )
            assert r.status_code == 204
            assert (await next_frame(ws, "agents")) == {"type": "agents", "online": False}
            await http.put(
                f"/api/v1/workspaces/{ws_id}/presence", headers=admin.headers, json={"status": "online"}
            )
            assert (await next_frame(ws, "agents"))["online"] is True
        assert (await next_frame(ws, "agents"))["online"] is False


async def test_another_visitor_never_sees_a_foreign_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    a, b = (await session(http, inbox))["visitor_token"], (await session(http, inbox))["visitor_token"]
    conv_a = (await say(http, inbox, a, "from a", "1")).json()["conversation_id"]
    async with visitor_socket(server, inbox, b) as wb, visitor_socket(server, inbox, a) as wa:
        await next_frame(wb, "ready")
        await next_frame(wa, "ready")
        thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_a}"
        await http.post(f"{thread}/messages", headers=admin.headers, json={"text": "for a only"})
        assert (await next_frame(wa, "message"))["message"]["text"] == "for a only"
        await say(http, inbox, a, "a again", "2")  # a's own message from HTTP (another tab)
        assert (await next_frame(wa, "message"))["message"]["client_id"] == "2"
        await wb.send(json.dumps({"type": "read", "up_to": 10_000}))  # b cannot mark a's replies
        await nothing_of(wb, "message")
        await nothing_of(wb, "read", 0.1)
    async with server.services.db.read() as conn:
        statuses = (
            (
                await conn.execute(
                    sa.select(t.messages.c.delivery_status).where(t.messages.c.kind == "outgoing")
                )
            )
            .scalars()
            .all()
        )
    assert "read" not in statuses


async def test_a_new_conversation_is_followed_live(server: Server, http: httpx.AsyncClient) -> None:
    """The socket opened before the visitor's first message still hears the replies to it."""
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    async with visitor_socket(server, inbox, token) as ws:
        await next_frame(ws, "ready")
        await ws.send(json.dumps({"type": "message", "client_id": "c-1", "text": "first"}))
        conv_id = (await next_frame(ws, "ack"))["message"]["id"]
        listed = (
            await http.get(f"{inbox.base}/messages", headers={"Authorization": f"Visitor {token}"})
        ).json()
        thread = f"/api/v1/workspaces/{ws_id}/conversations/{listed['conversation_id']}"
        await http.post(f"{thread}/messages", headers=admin.headers, json={"text": "welcome"})
        assert (await next_frame(ws, "message"))["message"]["text"] == "welcome"
        assert conv_id


async def block(http: httpx.AsyncClient, admin: Agent, ws_id: int, contact_id: int) -> None:
    r = await http.post(f"/api/v1/workspaces/{ws_id}/contacts/{contact_id}/block", headers=admin.headers)
    assert r.status_code == 200, r.text


async def test_blocked_contact_is_refused_everywhere_and_closed_live(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox)
    token, contact_id = started["visitor_token"], started["contact_id"]
    other = (await session(http, inbox))["visitor_token"]
    await say(http, inbox, token, "hi", "c-1")
    async with visitor_socket(server, inbox, token) as ws, visitor_socket(server, inbox, other) as bystander:
        await next_frame(ws, "ready")
        await next_frame(bystander, "ready")
        await block(http, admin, ws_id, contact_id)
        assert await close_code(ws) == 4403
        await bystander.send(json.dumps({"type": "ping"}))
        await next_frame(bystander, "pong")  # another visitor is unaffected
    async with visitor_socket(server, inbox, token) as ws:
        assert await close_code(ws) == 4403
    messages = await count(server, t.messages)
    headers = {"Authorization": f"Visitor {token}"}
    for r in (
        await say(http, inbox, token, "again", "c-2"),
        await http.get(f"{inbox.base}/messages", headers=headers),
        await http.post(f"{inbox.base}/sessions", json={"visitor_token": token}),
        await http.post(
            f"{inbox.base}/attachments",
            headers=headers,
            files={"file": ("a.txt", b"hello", "text/plain")},
            data={"client_id": "f"},
        ),
        await http.post(f"{inbox.base}/csat", headers=headers, json={"conversation_id": 1, "rating": 5}),
        await http.post(
            f"{inbox.base}/offline", json={"visitor_token": token, "email": "a@b.c", "text": "x"}
        ),
    ):
        assert r.status_code == 403, r.text
        assert r.json()["error"]["code"] == "visitor_blocked"
    assert await count(server, t.messages) == messages


async def test_disabled_inbox_closes_4410(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    off = await http.patch(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox.id}", headers=admin.headers, json={"is_enabled": False}
    )
    assert off.status_code == 200
    async with visitor_socket(server, inbox, token) as ws:
        assert await close_code(ws) == 4410
    assert (await http.get(f"{inbox.base}/config")).status_code == 410


async def test_visits_are_recorded_from_the_socket(server: Server, http: httpx.AsyncClient) -> None:
    """Arrival on hello (page, browser, language), pages of a single-page site, departure when
    the last socket of the visit closes — each told to agents live."""
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox)
    token = started["visitor_token"]
    live_url = f"/api/v1/workspaces/{ws_id}/visitors/live"
    first = {
        "type": "hello",
        "visitor_token": token,
        "language": "tr-TR",
        "page": {"url": "https://shop.example.com/?utm_source=news", "title": "Shop", "referrer": None},
    }
    agent_ua = {
        "User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    }
    async with agent_socket(server, admin, ws_id) as agent:
        async with websockets.connect(
            server.ws_url(f"{inbox.base}/socket"), additional_headers=agent_ua
        ) as ws:
            await ws.send(json.dumps(first))
            await next_frame(ws, "ready")
            arrived = (await next_frame(agent, "visitor.updated"))["data"]["visit"]
            assert arrived["contact"]["id"] == started["contact_id"]
            assert (arrived["current_url"], arrived["language"]) == (
                "https://shop.example.com/?utm_source=news",
                "tr-TR",
            )
            assert arrived["source_kind"] == "campaign" and arrived["browser"].startswith("Chrome")
            async with visitor_socket(server, inbox, token) as second_tab:
                await next_frame(second_tab, "ready")
            # The other tab closed; this one is still open: no departure yet.
            await nothing_of(agent, "visitor.left")
            await ws.send(
                json.dumps({"type": "page", "url": "https://shop.example.com/cart", "title": "Cart"})
            )
            moved = (await next_frame(agent, "visitor.updated", timeout=5))["data"]["visit"]
            while moved["current_url"] != "https://shop.example.com/cart":
                moved = (await next_frame(agent, "visitor.updated"))["data"]["visit"]
            assert moved["id"] == arrived["id"] and moved["page_count"] == 2
            live = (await http.get(live_url, headers=admin.headers)).json()["visitors"]
            assert [v["id"] for v in live] == [arrived["id"]]
        left = await next_frame(agent, "visitor.left")
        assert left["data"] == {"visit_id": arrived["id"]}
    async with server.services.db.read() as conn:
        left_at = (
            await conn.execute(sa.select(t.web_visits.c.left_at).where(t.web_visits.c.id == arrived["id"]))
        ).scalar_one()
    assert left_at is not None


async def test_a_visitor_who_came_while_agents_were_away_hears_them_return(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    first = (await session(http, inbox))["visitor_token"]
    second = (await session(http, inbox))["visitor_token"]
    agent_stack = contextlib.AsyncExitStack()
    async with visitor_socket(server, inbox, first) as ws:
        assert (await next_frame(ws, "ready"))["agents_online"] is False
        await agent_stack.enter_async_context(agent_socket(server, admin, ws_id))
        assert await next_frame(ws, "agents") == {"type": "agents", "online": True}
    await asyncio.sleep(0.2)  # the visitor has gone
    await agent_stack.aclose()
    # The agent left while no visitor was connected; a visitor arrives, then the agent returns.
    async with visitor_socket(server, inbox, second) as ws:
        assert (await next_frame(ws, "ready"))["agents_online"] is False
        async with agent_socket(server, admin, ws_id):
            assert await next_frame(ws, "agents") == {"type": "agents", "online": True}


async def test_open_visits_are_kept_alive_by_one_task(
    server: Server, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.channels.web import widget_tracking

    monkeypatch.setattr(widget_tracking, "TOUCH_SECONDS", 0.2)
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    tokens = [(await session(http, inbox))["visitor_token"] for _ in range(2)]
    v = t.web_visits
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with visitor_socket(server, inbox, tokens[0]) as a, visitor_socket(server, inbox, tokens[1]) as b:
        await next_frame(a, "ready")
        await next_frame(b, "ready")
        async with server.services.db.write() as tx:
            await tx.conn.execute(v.update().values(last_seen_at=long_ago))
        await asyncio.sleep(0.6)
        async with server.services.db.read() as conn:
            seen = (await conn.execute(sa.select(v.c.last_seen_at))).scalars().all()
        assert len(seen) == 2 and all(s > long_ago + timedelta(minutes=59) for s in seen)
    await asyncio.sleep(0.3)
    async with server.services.db.read() as conn:
        left = (await conn.execute(sa.select(v.c.left_at))).scalars().all()
    assert len(left) == 2 and all(left)  # both departed when their sockets closed


@asynccontextmanager
async def second_process(server: Server, tmp_path: Path) -> AsyncIterator[Server]:
    """Another web process on the same database and Redis, as a deployment with two would run."""
    settings = make_settings(server.services.settings.database_url, tmp_path / "data2")
    app = create_app(settings, with_worker=False)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        await asyncio.sleep(0.01)
    try:
        yield Server(url=f"http://127.0.0.1:{port}", services=app.state.services, counter=server.counter)
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.mark.skipif(BACKEND != "postgres", reason="several processes share PostgreSQL and Redis only")
async def test_events_reach_a_visitor_on_another_process(
    server: Server, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The visitor's socket is on one process, the agent on another: replies, typing, presence
    and blocking still reach it (over Redis)."""
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox)
    token = started["visitor_token"]
    conv_id = (await say(http, inbox, token, "hi", "c-1")).json()["conversation_id"]
    async with second_process(server, tmp_path) as other, visitor_socket(other, inbox, token) as ws:
        assert (await next_frame(ws, "ready"))["agents_online"] is False
        async with agent_socket(server, admin, ws_id) as agent:
            assert await next_frame(ws, "agents") == {"type": "agents", "online": True}
            await agent.send(json.dumps({"type": "typing", "conversation_id": conv_id, "typing": True}))
            assert (await next_frame(ws, "typing"))["typing"] is True
            thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}"
            await http.post(f"{thread}/messages", headers=admin.headers, json={"text": "from afar"})
            assert (await next_frame(ws, "message"))["message"]["text"] == "from afar"
            # The config asked of the visitor's process also knows the agent is online.
            async with httpx.AsyncClient(base_url=other.url) as there:
                assert (await there.get(f"{inbox.base}/config")).json()["agents_online"] is True
            await block(http, admin, ws_id, started["contact_id"])
            assert await close_code(ws) == 4403


async def test_disabling_the_inbox_closes_its_visitor_sockets_at_once(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    other_inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    elsewhere = (await session(http, other_inbox))["visitor_token"]
    async with (
        visitor_socket(server, inbox, token) as ws,
        visitor_socket(server, other_inbox, elsewhere) as bystander,
    ):
        await next_frame(ws, "ready")
        await next_frame(bystander, "ready")
        r = await http.patch(
            f"/api/v1/workspaces/{ws_id}/inboxes/{inbox.id}",
            headers=admin.headers,
            json={"is_enabled": False},
        )
        assert r.status_code == 200, r.text
        assert await close_code(ws) == 4410  # without waiting for the visitor's next frame
        await bystander.send(json.dumps({"type": "ping"}))
        await next_frame(bystander, "pong")  # another inbox's visitor is unaffected
