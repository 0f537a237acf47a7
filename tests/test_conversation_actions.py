"""What an agent does from the conversation screen and its notifications: offer a conversation
to the others ("Later"), leave it, retry a failed reply, and see each message's files."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets

from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, make_member, message, post_inbound, receive
from tests.receiver import Receiver
from tests.test_loop import next_event, wait_for_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


async def frames_until(sock: Any, type_: str, timeout: float = 5) -> list[dict[str, Any]]:
    """Every event frame up to and including the first of `type_` (presence frames skipped)."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await sock.recv())
            if frame.get("type") != "presence.updated":
                seen.append(frame)
            if frame.get("type") == type_:
                return seen


async def test_offer_reaches_only_agents_who_see_the_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    ann = await make_member(server, http, ws, name="Ann")
    bob = await make_member(server, http, ws, name="Bob")
    outsider = await make_member(server, http, ws, name="Olga")
    inbox = await make_inbox(http, admin, ws, members=[ann.user_id, bob.user_id])
    other_inbox = await make_inbox(http, admin, ws, members=[outsider.user_id])
    conv = (await receive(http, inbox, "m-1", text="My order   never\narrived"))["conversation_id"]
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/offer"
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with (
        websockets.connect(sock_url, additional_headers=bob.headers) as bob_sock,
        websockets.connect(sock_url, additional_headers=outsider.headers) as outsider_sock,
    ):
        await next_event(bob_sock, "ready")
        await next_event(outsider_sock, "ready")
        r = await http.post(url, headers=ann.headers)
        assert r.status_code == 202, r.text
        offered = await next_event(bob_sock, "conversation.offered")
        assert offered["seq"] is None and offered["inbox_id"] == inbox.id
        assert offered["data"] == {
            "conversation_id": conv,
            "offered_by": ann.user_id,
            "contact_name": "Ann Customer",
            "preview": "My order never arrived",
            "inbox_id": inbox.id,
        }
        # The outsider's next event is one of their own inbox: the offer never reached them.
        await receive(http, other_inbox, "x-1", contact="x")
        frames = await frames_until(outsider_sock, "message.created")
        assert "conversation.offered" not in [f["type"] for f in frames]

    assert (await http.post(url, headers=outsider.headers)).status_code == 404
    conv_url = f"/api/v1/workspaces/{ws}/conversations/{conv}"
    await http.post(f"{conv_url}/assignment", headers=admin.headers, json={"assignee_id": bob.user_id})
    taken = await http.post(url, headers=ann.headers)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "already_assigned"
    # Offering is not a change: nothing is kept in the change log for it.
    async with server.services.db.read() as conn:
        types = (await conn.execute(sa.select(t.events.c.type))).scalars().all()
    assert "conversation.offered" not in types


async def test_leaving_and_removing_participants(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    ann = await make_member(server, http, ws, name="Ann")
    bob = await make_member(server, http, ws, name="Bob")
    inbox = await make_inbox(http, admin, ws, members=[ann.user_id, bob.user_id])
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}"
    added = await http.post(f"{base}/participants", headers=admin.headers, json={"user_id": ann.user_id})
    assert added.status_code == 200 and added.json()["participant_ids"] == [ann.user_id]
    await http.post(f"{base}/messages", headers=bob.headers, json={"text": "on it"})  # replying joins
    assert (await http.get(base, headers=ann.headers)).json()["participant_ids"] == sorted(
        [ann.user_id, bob.user_id]
    )

    other = await http.delete(f"{base}/participants/{ann.user_id}", headers=bob.headers)
    assert other.status_code == 403, other.text
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=bob.headers) as sock:
        await next_event(sock, "ready")
        left = await http.delete(f"{base}/participants/{ann.user_id}", headers=ann.headers)
        assert left.status_code == 204, left.text
        activity = (await next_event(sock, "message.created"))["data"]["message"]
        assert activity["kind"] == "activity" and activity["text"] == "Ann left the conversation"
        assert activity["data"]["activity"] == "participant_removed"
        assert activity["data"]["user_id"] == ann.user_id
        await next_event(sock, "conversation.updated")
    assert (await http.get(base, headers=bob.headers)).json()["participant_ids"] == [bob.user_id]
    again = await http.delete(f"{base}/participants/{ann.user_id}", headers=ann.headers)
    assert again.status_code == 404 and "not a participant" in again.json()["error"]["message"]

    removed = await http.delete(f"{base}/participants/{bob.user_id}", headers=admin.headers)
    assert removed.status_code == 204
    assert (await http.get(base, headers=bob.headers)).json()["participant_ids"] == []
    thread = (await http.get(f"{base}/messages", headers=bob.headers)).json()["messages"]
    assert thread[-1]["text"].endswith("removed Bob")
    stranger = await http.delete(f"{base}/participants/999999", headers=admin.headers)
    assert stranger.status_code == 404


async def reply_that_failed(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> tuple[Any, int, str, dict[str, Any]]:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    receiver.statuses = [400]  # refused for good: the job fails at once
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    thread = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    reply = (await http.post(thread, headers=admin.headers, json={"text": "It ships today."})).json()
    failed = await wait_for_status(http, admin.headers, thread, reply["id"], "failed")
    return admin, ws, thread, failed


async def jobs_of(server: Server, message_id: int) -> list[str]:
    j = t.jobs
    async with server.services.db.read() as conn:
        rows = (await conn.execute(sa.select(j.c.status, j.c.payload).where(j.c.kind == "send_reply"))).all()
    return [r.status for r in rows if r.payload["message_id"] == message_id]


async def test_retry_a_failed_reply(server: Server, http: httpx.AsyncClient, receiver: Receiver) -> None:
    admin, ws, thread, failed = await reply_that_failed(server, http, receiver)
    assert failed["failure_reason"] == "provider_rejected" and "HTTP 400" in failed["failure_detail"]
    assert await jobs_of(server, failed["id"]) == ["failed"]
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=admin.headers) as sock:
        await next_event(sock, "ready")
        r = await http.post(f"{thread}/{failed['id']}/retry", headers=admin.headers)
        assert r.status_code == 202, r.text
        assert r.json()["delivery_status"] == "queued" and r.json()["failure_reason"] is None
        assert r.json()["failure_detail"] is None
        assert "failed" not in await jobs_of(server, failed["id"])
        queued = await next_event(sock, "message.updated")
        assert queued["data"]["message"] == r.json()
        sent = await next_event(sock, "message.updated")
        assert sent["data"]["message"]["delivery_status"] == "sent"
    # Delivered again under the same message id (the receiver's idempotency key), once.
    assert [d.message_id for d in receiver.deliveries] == [str(failed["id"])] * 2
    assert list(receiver.delivered) == [str(failed["id"])]
    # The failed job went with the retry; the new one is deleted once its delivery is recorded.
    async with asyncio.timeout(5):
        while await jobs_of(server, failed["id"]):
            await asyncio.sleep(0.02)

    again = await http.post(f"{thread}/{failed['id']}/retry", headers=admin.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_failed"
    assert "sent" in again.json()["error"]["message"]
    messages = (await http.get(thread, headers=admin.headers)).json()["messages"]
    incoming = next(m for m in messages if m["kind"] == "incoming")
    refused = await http.post(f"{thread}/{incoming['id']}/retry", headers=admin.headers)
    assert refused.status_code == 409 and "incoming" in refused.json()["error"]["message"]
    assert (await http.post(f"{thread}/999999/retry", headers=admin.headers)).status_code == 404
    assert await jobs_of(server, incoming["id"]) == []


async def test_retry_is_refused_while_the_inbox_is_disabled(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws, thread, failed = await reply_that_failed(server, http, receiver)
    inbox_id = failed["inbox_id"]
    inbox_url = f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}"
    await http.patch(inbox_url, headers=admin.headers, json={"is_enabled": False})
    r = await http.post(f"{thread}/{failed['id']}/retry", headers=admin.headers)
    assert r.status_code == 409 and r.json()["error"]["code"] == "inbox_disabled"
    current = next(
        m
        for m in (await http.get(thread, headers=admin.headers)).json()["messages"]
        if m["id"] == failed["id"]
    )
    assert current == failed
    assert await jobs_of(server, failed["id"]) == ["failed"]


@pytest.mark.parametrize(
    "server", [{"job_backoff_base_seconds": 1.5, "job_backoff_max_seconds": 1.5}], indirect=True
)
async def test_a_reply_queued_when_its_inbox_is_disabled_fails_and_can_be_retried(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    receiver.statuses = [503]  # the first attempt fails for a while; the retry waits 0.75-1.5 s
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    thread = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    reply = (await http.post(thread, headers=admin.headers, json={"text": "hi"})).json()
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    inbox_url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}"
    await http.patch(inbox_url, headers=admin.headers, json={"is_enabled": False})
    failed = await wait_for_status(http, admin.headers, thread, reply["id"], "failed")
    assert failed["failure_reason"] == "inbox_disabled" and "disabled" in failed["failure_detail"]
    assert len(receiver.deliveries) == 1  # nothing went out after the inbox was disabled

    await http.patch(inbox_url, headers=admin.headers, json={"is_enabled": True})
    assert (await http.post(f"{thread}/{reply['id']}/retry", headers=admin.headers)).status_code == 202
    await wait_for_status(http, admin.headers, thread, reply["id"], "sent")
    assert [d.status for d in receiver.deliveries] == [503, 200]


async def test_thread_messages_carry_their_files(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    payload = message("m-1", text="see picture")
    payload["attachments"] = [
        {"file_name": "parcel.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}
    ]
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    conv = r.json()["results"][0]["conversation_id"]
    thread = (
        await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers)
    ).json()["messages"]
    [attachment] = thread[0]["data"]["attachments"]
    assert set(attachment) == {"file_name", "content_type", "size", "url"}
    assert attachment["file_name"] == "parcel.png" and attachment["content_type"] == "image/png"
    assert attachment["size"] == len(PNG)
    download = await http.get(attachment["url"])
    assert download.status_code == 200 and download.content == PNG
    schema = (await http.get("/api/openapi.json")).json()["components"]["schemas"]
    assert set(schema["Attachment"]["required"]) == {"file_name", "content_type", "size", "url"}
