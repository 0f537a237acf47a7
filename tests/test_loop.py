"""The whole loop over real HTTP and a real websocket: customer message in → the agent sees it
live → the agent replies → the reply is delivered, signed, and its status comes back."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import Server
from tests.factories import make_admin, make_inbox, post_inbound, receive
from tests.receiver import Receiver


async def next_event(ws: Any, type_: str, timeout: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == type_:
                return dict(frame)


async def wait_for_status(
    http: httpx.AsyncClient, headers: dict[str, str], url: str, message_id: int, status: str
) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            messages = (await http.get(url, headers=headers)).json()["messages"]
            found = next(m for m in messages if m["id"] == message_id)
            if found["delivery_status"] == status:
                return dict(found)
            await asyncio.sleep(0.05)


async def test_message_in_reply_out_with_status(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    async with websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws_id}/stream"), additional_headers=admin.headers
    ) as ws:
        await next_event(ws, "ready")
        result = await receive(http, inbox, "wamid-1", text="Where is my parcel?")
        # A client learns of the conversation before the message that opened it.
        conv = await next_event(ws, "conversation.created")
        assert conv["data"]["conversation"]["status"] == "open"
        created = await next_event(ws, "message.created")
        assert created["data"]["message"]["text"] == "Where is my parcel?"
        assert created["data"]["message"]["id"] == result["message_id"]
        assert created["seq"] > conv["seq"]

        base = f"/api/v1/workspaces/{ws_id}/conversations/{result['conversation_id']}/messages"
        reply = await http.post(base, headers=admin.headers, json={"text": "It ships today."})
        assert reply.status_code == 201, reply.text
        assert reply.json()["delivery_status"] == "queued"
        await asyncio.wait_for(receiver.arrived.wait(), 5)
        delivered = receiver.deliveries[0]
        assert delivered.json["message"]["text"] == "It ships today."
        assert delivered.json["contact"]["source_id"] == "c-1"
        assert delivered.headers["x-frontdesk-message-id"] == str(reply.json()["id"])
        sent = await wait_for_status(http, admin.headers, base, reply.json()["id"], "sent")
        assert sent["source_id"] == "rcv-0"

        receipt = await post_inbound(
            http, inbox, {"type": "status", "message_id": reply.json()["id"], "status": "delivered"}
        )
        assert receipt.status_code == 200, receipt.text
        while True:
            updated = await next_event(ws, "message.updated")
            if updated["data"]["message"]["delivery_status"] == "delivered":
                break
    assert receiver.bad_signatures == 0


async def test_permanent_failure_is_visible_on_the_message(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, webhook_url=receiver.url)
    receiver.statuses = [400]
    result = await receive(http, inbox, "m-1")
    base = f"/api/v1/workspaces/{ws_id}/conversations/{result['conversation_id']}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "hi"})).json()
    failed = await wait_for_status(http, admin.headers, base, reply["id"], "failed")
    assert failed["failure_reason"] == "provider_rejected"
    assert failed["failure_detail"].startswith("webhook receiver answered HTTP 400")
    assert (failed["delivery_attempts"], failed["next_attempt_at"]) == (1, None)
    assert len(receiver.deliveries) == 1  # a 400 is not retried


async def test_temporary_failures_are_retried_then_given_up(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, webhook_url=receiver.url)
    receiver.statuses = [503, 500, 502, 500]  # max_attempts is 3 in tests
    result = await receive(http, inbox, "m-1")
    base = f"/api/v1/workspaces/{ws_id}/conversations/{result['conversation_id']}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "hi"})).json()
    failed = await wait_for_status(http, admin.headers, base, reply["id"], "failed")
    # The third answer (502) is the last failure; the count says the worker gave up.
    assert failed["failure_reason"] == "provider_unavailable" and "HTTP 502" in failed["failure_detail"]
    assert failed["delivery_attempts"] == 3
    assert len(receiver.deliveries) == 3


async def test_retry_then_success(server: Server, http: httpx.AsyncClient, receiver: Receiver) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, webhook_url=receiver.url)
    receiver.statuses = [503]
    result = await receive(http, inbox, "m-1")
    base = f"/api/v1/workspaces/{ws_id}/conversations/{result['conversation_id']}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "hi"})).json()
    await wait_for_status(http, admin.headers, base, reply["id"], "sent")
    assert len(receiver.deliveries) == 2


async def frames_until_ready(ws: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == "ready":
                return frames, frame
            frames.append(frame)


async def test_socket_resumes_from_sequence(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    await receive(http, inbox, "m-1")
    url = server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")
    async with websockets.connect(url, additional_headers=admin.headers) as ws:
        replayed, ready = await frames_until_ready(ws)
        assert replayed == []  # a fresh socket is told where the log stands, not sent it
    last = ready["last_seq"]
    assert (
        last
        == (await http.get(f"/api/v1/workspaces/{ws_id}/events", headers=admin.headers)).json()["last_seq"]
    )
    await receive(http, inbox, "m-2", text="second")  # missed while disconnected
    async with websockets.connect(f"{url}?since={last}", additional_headers=admin.headers) as ws:
        replayed, ready = await frames_until_ready(ws)
    seqs = [e["seq"] for e in replayed]
    assert len(seqs) == len(set(seqs))
    texts = [
        e["data"]["message"]["text"] for e in replayed if e["type"] == "message.created" and e["seq"] > last
    ]
    assert texts == ["second"]
    assert ready["last_seq"] == max(seqs)


async def test_membership_changes_reach_open_sockets(server: Server, http: httpx.AsyncClient) -> None:
    from tests.factories import make_member

    admin, ws_id = await make_admin(server, http)
    agent = await make_member(server, http, ws_id)
    inbox = await make_inbox(http, admin, ws_id)
    members_url = f"/api/v1/workspaces/{ws_id}/inboxes/{inbox.id}/members"
    url = server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")
    async with websockets.connect(url, additional_headers=agent.headers) as ws:
        await next_event(ws, "ready")
        await http.put(members_url, headers=admin.headers, json={"user_ids": [agent.user_id]})
        granted = await next_event(ws, "inbox.members_updated")
        assert granted["data"] == {"inbox_id": inbox.id, "member_ids": [agent.user_id]}
        await receive(http, inbox, "m-1", text="now visible")
        assert (await next_event(ws, "message.created"))["data"]["message"]["text"] == "now visible"
        await http.put(members_url, headers=admin.headers, json={"user_ids": []})
        revoked = await next_event(ws, "inbox.members_updated")
        assert revoked["data"]["member_ids"] == []
        await receive(http, inbox, "m-2", text="hidden again")
        await ws.send(json.dumps({"type": "ping"}))
        assert (await next_event(ws, "pong"))["type"] == "pong"
        with pytest.raises(TimeoutError):
            await next_event(ws, "message.created", timeout=0.5)


async def test_socket_refuses_without_credentials(server: Server, http: httpx.AsyncClient) -> None:
    _, ws_id = await make_admin(server, http)
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")) as ws:
            await ws.recv()


async def test_typing_reaches_other_agents(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    result = await receive(http, inbox, "m-1")
    url = server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")
    async with (
        websockets.connect(url, additional_headers=admin.headers) as a,
        websockets.connect(url, additional_headers=admin.headers) as b,
    ):
        await next_event(a, "ready")
        await next_event(b, "ready")
        await a.send(json.dumps({"type": "typing", "conversation_id": result["conversation_id"]}))
        typing = await next_event(b, "typing")
        assert typing["data"] == {
            "conversation_id": result["conversation_id"],
            "user_id": admin.user_id,
            "typing": True,
        }


@pytest.mark.parametrize("server", [{"job_lease_seconds": 0.3}], indirect=True)
async def test_a_delivery_slower_than_the_lease_is_sent_once(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, webhook_url=receiver.url)
    receiver.delay = 1.2  # four leases long: the worker must keep renewing its claim
    result = await receive(http, inbox, "m-1")
    base = f"/api/v1/workspaces/{ws_id}/conversations/{result['conversation_id']}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "hi"})).json()
    await wait_for_status(http, admin.headers, base, reply["id"], "sent")
    await asyncio.sleep(0.5)
    assert len(receiver.deliveries) == 1
