"""The one ingest action (actions/ingest.py): through real HTTP on the API channel where it has the
event (message, status, event_id repeats), and through the action itself, on a real database
behind a running server, for the events the API channel's JSON does not carry (echo, edit,
revoke, reaction, follow, typing, read, unknown, provider media)."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets

from frontdesk.actions.ingest import FileRules, IngestResult, Outcome, ingest
from frontdesk.domain.enums import DeliveryStatus
from frontdesk.domain.errors import DomainError
from frontdesk.domain.inbound import (
    Choice,
    InboundContact,
    InboundEcho,
    InboundEdit,
    InboundEvent,
    InboundFile,
    InboundFollow,
    InboundMessage,
    InboundReaction,
    InboundRead,
    InboundRevoke,
    InboundStatus,
    InboundTyping,
    InboundUnknown,
    Location,
    MediaRef,
)
from frontdesk.jobs.maintenance import prune_inbound_events
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow
from tests.conftest import Server
from tests.factories import Agent, Inbox, make_admin, make_inbox, message, post_inbound, receive
from tests.receiver import Receiver
from tests.test_loop import next_event, wait_for_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


async def rows(server: Server, query: Any) -> list[dict[str, Any]]:
    async with server.services.db.read() as conn:
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def count(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def inbox_row(server: Server, inbox: Inbox) -> dict[str, Any]:
    (row,) = await rows(server, sa.select(t.inboxes).where(t.inboxes.c.id == inbox.id))
    return row


async def run(server: Server, inbox: Inbox, *events: InboundEvent) -> list[IngestResult]:
    settings = server.services.settings
    rules = FileRules(settings.attachments_dir, settings.max_attachment_bytes)
    return await ingest(server.services.db, rules, await inbox_row(server, inbox), events)


async def message_row(server: Server, message_id: int) -> dict[str, Any]:
    (row,) = await rows(server, sa.select(t.messages).where(t.messages.c.id == message_id))
    return row


async def event_types(server: Server) -> list[str]:
    found = await rows(server, sa.select(t.events.c.type).order_by(t.events.c.seq))
    return [r["type"] for r in found]


def stored_files(server: Server) -> list[str]:
    root = server.services.settings.attachments_dir
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def setup(server: Server, http: httpx.AsyncClient, **kw: Any) -> tuple[Agent, int, Inbox]:
    admin, ws_id = await make_admin(server, http)
    return admin, ws_id, await make_inbox(http, admin, ws_id, **kw)


# Through real HTTP on the API channel.


async def test_a_repeated_event_id_is_acknowledged_and_stores_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    files = [{"file_name": "a.png", "content_type": "image/png", "data": base64.b64encode(PNG).decode()}]
    first = await post_inbound(http, inbox, {**message("m-1"), "event_id": "ev-1", "attachments": files})
    assert first.status_code == 200, first.text
    again = await post_inbound(http, inbox, {**message("m-1"), "event_id": "ev-1", "attachments": files})
    assert again.status_code == 200, again.text
    stored = first.json()["results"][0]
    assert stored["duplicate"] is False
    assert again.json()["results"] == [{**stored, "duplicate": True}]
    # The event id alone decides: another message id under a taken event id stores nothing.
    other = await post_inbound(http, inbox, {**message("m-2"), "event_id": "ev-1"})
    assert other.json()["results"][0]["duplicate"] is True
    assert await count(server, t.messages) == 1
    assert await count(server, t.attachments) == 1
    assert len(stored_files(server)) == 1  # the repeats' copies of the file were discarded
    assert await count(server, t.inbound_events) == 1
    # Two deliveries of one event at once (another message id each, as a provider's retry may
    # carry): one stores, the other finds the event taken.
    racing = await asyncio.gather(
        *(post_inbound(http, inbox, {**message(f"r-{n}"), "event_id": "ev-race"}) for n in range(2))
    )
    assert sorted(r.json()["results"][0]["duplicate"] for r in racing) == [False, True]
    assert await count(server, t.messages) == 2


async def test_status_moves_forward_only_and_a_failure_keeps_the_provider_code(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws_id, inbox = await setup(server, http, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    got = await receive(http, inbox, "m-1")
    base = f"/api/v1/workspaces/{ws_id}/conversations/{got['conversation_id']}/messages"
    one = (await http.post(base, headers=admin.headers, json={"text": "first"})).json()
    two = (await http.post(base, headers=admin.headers, json={"text": "second"})).json()
    await wait_for_status(http, admin.headers, base, one["id"], "sent")
    await wait_for_status(http, admin.headers, base, two["id"], "sent")

    async def status(payload: dict[str, Any]) -> dict[str, Any]:
        r = await post_inbound(http, inbox, {"type": "status", **payload})
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["results"][0]
        return result

    assert await status({"message_id": one["id"], "status": "read", "event_id": "s-1"}) == {
        "status": "read",
        "applied": True,
    }
    assert await status({"message_id": one["id"], "status": "delivered"}) == {
        "status": "delivered",
        "applied": False,
    }
    assert (await wait_for_status(http, admin.headers, base, one["id"], "read"))["id"] == one["id"]
    failed = {"message_id": two["id"], "status": "failed", "reason": "User is not reachable"}
    assert (await status({**failed, "provider_code": "131026"}))["applied"] is True
    found = await wait_for_status(http, admin.headers, base, two["id"], "failed")
    assert found["failure_reason"] == "undeliverable"
    assert found["failure_detail"] == "131026: User is not reachable"
    # A repeated receipt (its event id taken) changes nothing.
    assert (await status({"message_id": one["id"], "status": "read", "event_id": "s-1"}))["applied"] is False


async def test_an_unknown_event_is_acknowledged_stored_nowhere_and_counted(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    await receive(http, inbox, "m-1")

    async def unknown_count() -> float:
        text = (await http.get("/metrics")).text
        found = re.search(r'^frontdesk_ingest_total\{channel="api",outcome="unknown"\} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    before, messages, events = (
        await unknown_count(),
        await count(server, t.messages),
        await count(server, t.events),
    )
    results = await run(server, inbox, InboundUnknown("page_changed", event_id="u-1"))
    assert [r.outcome for r in results] == [Outcome.UNKNOWN]
    assert await unknown_count() == before + 1
    assert (await count(server, t.messages), await count(server, t.events)) == (messages, events)


async def test_echo_edit_revoke_and_reaction_through_the_api_channel(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id, inbox = await setup(server, http)
    got = await receive(http, inbox, "m-1", text="Helo")

    async def post(payload: dict[str, Any]) -> dict[str, Any]:
        r = await post_inbound(http, inbox, payload)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()["results"][0]
        return result

    echo = {"type": "echo", "source_id": "out-1", "contact": {"source_id": "c-1"}, "text": "From our app"}
    echoed = await post(echo)
    assert echoed["event"] == "echo" and echoed["outcome"] == "stored"
    assert (await post(echo))["outcome"] == "duplicate"
    edit = {"type": "edit", "source_id": "m-1", "text": "Hello", "event_id": "ed-1"}
    assert await post(edit) == {"event": "edit", "outcome": "applied", "message_id": got["message_id"]}
    assert (await post(edit))["outcome"] == "repeated"
    assert (await post({"type": "revoke", "source_id": "m-1"}))["outcome"] == "applied"
    reaction = {"type": "reaction", "source_id": "out-1", "contact_source_id": "c-1", "emoji": "👍"}
    assert (await post(reaction))["outcome"] == "applied"
    assert (await post({"type": "revoke", "source_id": "nope"}))["outcome"] == "ignored"

    url = f"/api/v1/workspaces/{ws_id}/conversations/{got['conversation_id']}/messages"
    messages = {m["id"]: m for m in (await http.get(url, headers=admin.headers)).json()["messages"]}
    customer, ours = messages[got["message_id"]], messages[echoed["message_id"]]
    assert customer["text"] == "Hello" and [e["text"] for e in customer["data"]["edits"]] == ["Helo"]
    assert "revoked_at" in customer["data"]["revoked"]
    assert (ours["kind"], ours["sender_type"], ours["delivery_status"]) == ("outgoing", "system", "sent")
    assert ours["data"] == {"echo": True, "reactions": {"c-1": "👍"}}
    # Refused like any payload: a field it does not have.
    r = await post_inbound(http, inbox, {"type": "revoke", "source_id": "m-1", "text": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "text"


# Through the action, for the events the API channel's JSON has not.


async def test_an_echo_is_outgoing_sent_outside_frontdesk_and_never_delivered(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    got = await receive(http, inbox, "m-1")
    echo = InboundEcho(source_id="e-1", contact=InboundContact("c-1"), text="Sent from my phone")
    (result,) = await run(server, inbox, echo)
    assert (result.outcome, result.conversation_id) == (Outcome.STORED, got["conversation_id"])
    stored = await message_row(server, result.message_id or 0)
    assert (stored["kind"], stored["sender_type"], stored["sender_id"]) == ("outgoing", "system", None)
    assert (stored["delivery_status"], stored["data"]) == ("sent", {"echo": True})
    jobs = await rows(server, sa.select(t.jobs.c.kind, t.jobs.c.payload))
    assert not [j for j in jobs if j["payload"].get("message_id") == result.message_id]
    (again,) = await run(server, inbox, echo)
    assert (again.outcome, again.message_id) == (Outcome.DUPLICATE, result.message_id)
    # To a customer who never wrote: a contact, and a conversation nobody waits on.
    (first,) = await run(server, inbox, InboundEcho("e-2", InboundContact("c-new", name="Bo"), "Hello Bo"))
    (conv,) = await rows(
        server, sa.select(t.conversations).where(t.conversations.c.id == first.conversation_id)
    )
    assert (conv["status"], conv["unread_count"], conv["waiting_since"]) == ("resolved", 0, None)


async def test_edit_revoke_and_reaction_change_the_customers_message(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    got = await receive(http, inbox, "m-1", text="Helo")
    before = await event_types(server)
    (edited,) = await run(server, inbox, InboundEdit("m-1", "Hello"))
    assert (edited.outcome, edited.message_id) == (Outcome.APPLIED, got["message_id"])
    row = await message_row(server, got["message_id"])
    assert row["text"] == "Hello"
    assert [e["text"] for e in row["data"]["edits"]] == ["Helo"]

    (revoked,) = await run(server, inbox, InboundRevoke("m-1"))
    row = await message_row(server, got["message_id"])
    assert revoked.outcome == Outcome.APPLIED and "revoked_at" in row["data"]["revoked"]
    assert row["text"] == "Hello"  # kept for the agent, flagged

    await run(server, inbox, InboundReaction("m-1", "c-1", "👍"), InboundReaction("m-1", "c-2", "❤"))
    assert (await message_row(server, got["message_id"]))["data"]["reactions"] == {"c-1": "👍", "c-2": "❤"}
    (taken_back,) = await run(server, inbox, InboundReaction("m-1", "c-1", ""))
    assert taken_back.outcome == Outcome.APPLIED
    assert (await message_row(server, got["message_id"]))["data"]["reactions"] == {"c-2": "❤"}
    assert (await event_types(server))[len(before) :] == ["message.updated"] * 5

    # Naming a message this inbox does not have changes nothing.
    results = await run(
        server, inbox, InboundEdit("nope", "x"), InboundRevoke("nope"), InboundReaction("nope", "c", "x")
    )
    assert [r.outcome for r in results] == [Outcome.IGNORED] * 3


async def test_follow_makes_the_contact_and_opens_no_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    (followed,) = await run(server, inbox, InboundFollow(InboundContact("f-1", name="Fay"), following=True))
    assert (followed.outcome, followed.conversation_id) == (Outcome.APPLIED, None)
    assert await count(server, t.conversations) == 0
    (contact,) = await rows(server, sa.select(t.contacts))
    assert contact["name"] == "Fay"
    # A contact with a conversation gets an activity line there; a missing email is filled in.
    got = await receive(http, inbox, "m-1", contact="f-1")
    (unfollowed,) = await run(
        server, inbox, InboundFollow(InboundContact("f-1", email="fay@example.com"), following=False)
    )
    assert unfollowed.conversation_id == got["conversation_id"]
    activity = await rows(server, sa.select(t.messages).where(t.messages.c.kind == "activity"))
    assert [a["data"]["activity"] for a in activity] == ["unfollowed"]
    assert (await rows(server, sa.select(t.contacts.c.email)))[0]["email"] == "fay@example.com"
    assert await count(server, t.contacts) == 1


async def test_an_unfollowed_customer_is_unreachable_until_they_follow_again(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id, inbox = await setup(server, http)
    got = await receive(http, inbox, "m-1", contact="f-1")
    url = f"/api/v1/workspaces/{ws_id}/conversations/{got['conversation_id']}"
    await run(server, inbox, InboundFollow(InboundContact("f-1"), following=False))
    conv = (await http.get(url, headers=admin.headers)).json()
    assert conv["reply_window"]["state"] == "closed"
    assert conv["reply_window"]["refusal"] == "customer_unreachable"
    refused = await http.post(f"{url}/messages", headers=admin.headers, json={"text": "Still there?"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "customer_unreachable"
    note = await http.post(f"{url}/messages", headers=admin.headers, json={"text": "gone", "private": True})
    assert note.status_code == 201, note.text  # a private note reaches nobody: still allowed
    await run(server, inbox, InboundFollow(InboundContact("f-1"), following=True))
    assert (await http.get(url, headers=admin.headers)).json()["reply_window"]["refusal"] is None
    sent = await http.post(f"{url}/messages", headers=admin.headers, json={"text": "Welcome back"})
    assert sent.status_code == 201, sent.text


async def test_typing_and_read_store_nothing_and_reach_the_dashboard(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id, inbox = await setup(server, http)
    got = await receive(http, inbox, "m-1")
    messages, events = await count(server, t.messages), await count(server, t.events)
    async with websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws_id}/stream"), additional_headers=admin.headers
    ) as ws:
        await next_event(ws, "ready")
        results = await run(server, inbox, InboundTyping("c-1"), InboundRead("c-1", up_to_source_id="x"))
        assert [r.outcome for r in results] == [Outcome.PUBLISHED, Outcome.PUBLISHED]
        typing = await next_event(ws, "typing")
        assert typing["data"] == {
            "conversation_id": got["conversation_id"],
            "contact_id": typing["data"]["contact_id"],
            "typing": True,
        }
    assert (await count(server, t.messages), await count(server, t.events)) == (messages, events)
    # A stranger's typing names no conversation: nothing to tell.
    assert [r.outcome for r in await run(server, inbox, InboundTyping("stranger"))] == [Outcome.IGNORED]


async def test_typed_parts_and_provider_media_are_kept_and_fetched_by_a_job(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    quoted = await receive(http, inbox, "m-1")
    msg = InboundMessage(
        source_id="m-2",
        contact=InboundContact("c-1"),
        text="here",
        media=(MediaRef("media-77", "photo.jpg", "image/jpeg", 1234),),
        location=Location(41.0, 29.0, name="Office"),
        choice=Choice("yes", "Yes please"),
        reply_to_source_id="m-1",
    )
    (result,) = await run(server, inbox, msg)
    data = (await message_row(server, result.message_id or 0))["data"]
    assert data["location"] == {"latitude": 41.0, "longitude": 29.0, "name": "Office", "address": None}
    assert data["choice"] == {"choice_id": "yes", "title": "Yes please"}
    assert data["reply_to"] == {"source_id": "m-1", "message_id": quoted["message_id"]}
    assert data["pending_media"] == [
        {
            "index": 0,
            "reference": "media-77",
            "file_name": "photo.jpg",
            "content_type": "image/jpeg",
            "size": 1234,
        }
    ]
    jobs = await rows(server, sa.select(t.jobs).where(t.jobs.c.kind == "fetch_media"))
    assert [j["payload"] for j in jobs] == [{"message_id": result.message_id, "index": 0}]


async def test_concurrent_first_messages_of_one_contact_store_both_and_keep_their_files(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)

    def first(n: int) -> InboundMessage:
        return InboundMessage(
            source_id=f"race-{n}",
            contact=InboundContact("new-contact"),
            text=f"message {n}",
            files=(InboundFile("p.png", "image/png", PNG),),
        )

    results = await asyncio.gather(*(run(server, inbox, first(n)) for n in range(4)))
    assert sorted(r.outcome for (r,) in results) == [Outcome.STORED] * 4
    assert await count(server, t.contacts) == 1
    assert len({r.conversation_id for (r,) in results}) == 1
    assert len(stored_files(server)) == 4 == await count(server, t.attachments)


async def test_a_refused_file_stores_nothing_and_leaves_no_file(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, _, inbox = await setup(server, http)
    bad = InboundMessage(
        "m-1",
        InboundContact("c-1"),
        "two files",
        files=(
            InboundFile("p.png", "image/png", PNG),
            InboundFile("x.exe", "application/x-msdownload", b"MZ"),
        ),
    )
    with pytest.raises(DomainError) as refused:
        await run(server, inbox, bad)
    assert refused.value.field == "attachments.1"
    assert stored_files(server) == []
    assert await count(server, t.messages) == 0


async def test_old_event_ids_are_pruned(server: Server, http: httpx.AsyncClient) -> None:
    _, _, inbox = await setup(server, http)
    await run(server, inbox, InboundStatus(DeliveryStatus.READ, message_id=1, event_id="new"))
    async with server.services.db.write() as tx:
        old = utcnow() - timedelta(days=8)
        await tx.conn.execute(
            t.inbound_events.insert().values(inbox_id=inbox.id, event_id="old", created_at=old)
        )
    assert await prune_inbound_events(server.services.db) == 1
    assert [r["event_id"] for r in await rows(server, sa.select(t.inbound_events))] == ["new"]
