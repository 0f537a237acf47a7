"""Reply windows end to end on the API channel (PRODUCT C14, decision 0039): the inbox setting,
the customer's timestamp, the conversation's `reply_window`, and the refused reply."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from frontdesk.access import Actor
from frontdesk.actions.email.start import check_start_email_conversation
from frontdesk.actions.messages import check_send_reply, do_add_identity
from frontdesk.channels.api.adapter import ApiAdapter
from frontdesk.channels.email.adapter import EmailAdapter
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.enums import Role
from frontdesk.domain.errors import Conflict
from frontdesk.store import tables as t
from frontdesk.store.migrate import alembic_config, upgrade
from tests.channels.email.email_support import make_email_inbox, rows
from tests.conftest import Server
from tests.factories import Agent, Inbox, make_admin, make_inbox, message, post_inbound

with_mail_domain = pytest.mark.parametrize("server", [{"mail_domain": "mail.frontdesk.test"}], indirect=True)


async def said(
    http: httpx.AsyncClient, inbox: Inbox, source_id: str, at: Any = None, text: str = "Hi"
) -> int:
    payload = message(source_id, "cust-1", text)
    if at is not None:
        payload["timestamp"] = at
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    conversation_id: int = r.json()["results"][0]["conversation_id"]
    return conversation_id


async def window(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int) -> dict[str, Any]:
    one = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=admin.headers)
    assert one.status_code == 200, one.text
    listed = await http.get(f"/api/v1/workspaces/{ws}/conversations", headers=admin.headers)
    [row] = [c for c in listed.json()["conversations"] if c["id"] == conv]
    assert row["reply_window"] == one.json()["reply_window"]
    result: dict[str, Any] = one.json()["reply_window"]
    return result


async def reply(
    http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, text: str = "Hello"
) -> httpx.Response:
    return await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/messages",
        headers=admin.headers,
        json={"text": text},
    )


async def test_an_api_inbox_without_the_setting_has_no_window(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = await said(http, inbox, "m-1", (datetime.now(UTC) - timedelta(days=30)).isoformat())
    assert await window(http, admin, ws, conv) == {
        "state": "none",
        "closes_at": None,
        "messages_left": None,
        "allowed": ["free_text"],
        "other_inbox_id": None,
        "refusal": None,
    }
    assert (await reply(http, admin, ws, conv)).status_code == 201


async def test_the_window_is_measured_from_the_customers_timestamp(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=24)
    # Unix seconds, 23.5 hours ago: the window's last hour.
    unix = int((datetime.now(UTC) - timedelta(hours=23, minutes=30)).timestamp())
    conv = await said(http, inbox, "m-1", unix)
    w = await window(http, admin, ws, conv)
    assert w["state"] == "closing" and w["allowed"] == ["free_text"] and w["messages_left"] is None
    assert datetime.fromisoformat(w["closes_at"]) == datetime.fromtimestamp(unix, UTC) + timedelta(hours=24)
    assert (await reply(http, admin, ws, conv)).status_code == 201
    # A message sent before the last one (delivered late) does not move the window back.
    await said(http, inbox, "m-2", (datetime.now(UTC) - timedelta(days=3)).isoformat())
    assert (await window(http, admin, ws, conv))["state"] == "closing"
    # ISO 8601 with Z, 3 hours ago.
    sent = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    await said(http, inbox, "m-3", sent.isoformat().replace("+00:00", "Z"))
    w = await window(http, admin, ws, conv)
    assert w["state"] == "open" and datetime.fromisoformat(w["closes_at"]) == sent + timedelta(hours=24)
    # Without a timestamp: our receive time; a provider clock ahead of ours counts as now.
    before = datetime.now(UTC)
    await said(http, inbox, "m-4", (datetime.now(UTC) + timedelta(days=5)).isoformat())
    closes = datetime.fromisoformat((await window(http, admin, ws, conv))["closes_at"])
    assert before + timedelta(hours=24) <= closes <= datetime.now(UTC) + timedelta(hours=24)
    [row] = await rows(server, t.conversations, t.conversations.c.id == conv)
    assert row["replies_since_customer"] == 0


async def test_a_reply_outside_the_window_is_refused_and_nothing_is_stored(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=1)
    conv = await said(http, inbox, "m-1", (datetime.now(UTC) - timedelta(hours=2)).isoformat())
    w = await window(http, admin, ws, conv)
    assert w["state"] == "closed" and w["allowed"] == [] and w["messages_left"] == 0
    before = await rows(server, t.messages)
    jobs = await rows(server, t.jobs)
    r = await reply(http, admin, ws, conv)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "reply_window_closed"
    assert "wait until the customer writes again" in error["message"]
    assert await rows(server, t.messages) == before and await rows(server, t.jobs) == jobs
    # The same refusal through the file upload.
    up = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/attachments",
        headers=admin.headers,
        data={"text": "see file"},
        files={"file": ("a.txt", b"hello", "text/plain")},
    )
    assert up.status_code == 409 and up.json()["error"]["code"] == "reply_window_closed", up.text
    assert await rows(server, t.messages) == before
    # A note is not a reply: always allowed.
    note = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/messages",
        headers=admin.headers,
        json={"text": "called them instead", "private": True},
    )
    assert note.status_code == 201, note.text
    # The customer writes again: the window opens.
    await said(http, inbox, "m-2")
    w = await window(http, admin, ws, conv)  # a one-hour window is all its last hour
    assert w["state"] == "closing" and w["allowed"] == ["free_text"]
    assert (await reply(http, admin, ws, conv)).status_code == 201


async def test_the_setting_is_checked(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    for bad in (0, 721, "24"):
        r = await http.post(
            f"/api/v1/workspaces/{ws}/inboxes",
            headers=admin.headers,
            json={"name": "API", "channel_type": "api", "settings": {"reply_window_hours": bad}},
        )
        assert r.status_code == 422, r.text
        assert "reply_window_hours" in r.text
    inbox = await make_inbox(http, admin, ws, reply_window_hours=720)
    assert inbox.id


@pytest.mark.parametrize("bad", ["yesterday", "2026-12-07T10:00:00", 10**20, True])
async def test_a_bad_timestamp_is_refused(server: Server, http: httpx.AsyncClient, bad: Any) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=1)
    payload = message("m-1", "cust-1") | {"timestamp": bad}
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 422, r.text
    assert "timestamp" in r.text
    assert await rows(server, t.messages) == []


class ShortApi(ApiAdapter):
    """An API channel whose provider takes ten characters: how a channel's length limit acts."""

    rules = ChannelRules(max_text_length=10)


async def test_the_channels_length_limit_refuses_a_long_reply(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = await said(http, inbox, "m-1")
    actor = Actor(admin.user_id, ws, Role.ADMINISTRATOR, None)
    with pytest.raises(Conflict) as caught:
        async with server.services.db.write() as tx:
            await check_send_reply(tx, actor, conv, "x" * 11, channels=lambda _: ShortApi)
    assert caught.value.code == "text_too_long" and "10 characters" in caught.value.message
    assert await rows(server, t.messages, t.messages.c.kind == "outgoing") == []
    async with server.services.db.write() as tx:
        await check_send_reply(tx, actor, conv, "x" * 10, channels=lambda _: ShortApi)
    [sent] = await rows(server, t.messages, t.messages.c.kind == "outgoing")
    assert sent["text"] == "x" * 10


@with_mail_domain
async def test_a_closed_window_offers_the_contacts_email_inbox(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=1)
    conv = await said(http, inbox, "m-1", (datetime.now(UTC) - timedelta(hours=2)).isoformat())
    mail = await make_email_inbox(http, admin, ws, local_part="support")
    [contact_id] = [
        r["contact_id"] for r in await rows(server, t.conversations, t.conversations.c.id == conv)
    ]
    async with server.services.db.write() as tx:
        await do_add_identity(tx, mail["id"], "ann@customer.test", contact_id, datetime.now(UTC))
    w = await window(http, admin, ws, conv)
    assert w["allowed"] == ["other_inbox"] and w["other_inbox_id"] == mail["id"]
    r = await reply(http, admin, ws, conv)
    assert r.status_code == 409 and "another inbox" in r.json()["error"]["message"]
    # A disabled email inbox is no way on.
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            sa.update(t.inboxes).where(t.inboxes.c.id == mail["id"]).values(is_enabled=False)
        )
    assert (await window(http, admin, ws, conv))["allowed"] == []


class CustomerFirstEmail(EmailAdapter):
    """An email channel where only the customer may open a conversation: how every start path
    (here the agent's new email) honours customer_writes_first."""

    rules = ChannelRules(customer_writes_first=True)


@with_mail_domain
async def test_a_start_path_honours_customer_writes_first(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    mail = await make_email_inbox(http, admin, ws, local_part="support")
    actor = Actor(admin.user_id, ws, Role.ADMINISTRATOR, None)
    with pytest.raises(Conflict) as caught:
        async with server.services.db.write() as tx:
            await check_start_email_conversation(
                tx,
                actor,
                mail["id"],
                "ann@customer.test",
                "Ann",
                "Hello",
                "Hi Ann",
                channels=lambda _: CustomerFirstEmail,
            )
    assert caught.value.code == "customer_writes_first"
    assert "the customer must write first" in caught.value.message
    # Nothing of the attempt is kept: no conversation, no message, no contact.
    assert await rows(server, t.conversations) == [] and await rows(server, t.messages) == []
    assert await rows(server, t.contacts) == []
    # The real email channel lets the agent write first.
    async with server.services.db.write() as tx:
        await check_start_email_conversation(
            tx, actor, mail["id"], "ann@customer.test", "Ann", "Hello", "Hi Ann", channels=adapter_class
        )
    assert len(await rows(server, t.messages)) == 1


async def test_events_carry_the_window(server: Server, http: httpx.AsyncClient) -> None:
    """conversation.created / conversation.updated carry the window as of the change: the
    customer's message opens it, the agent's reply counts, the refused reply changes nothing."""
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=24)
    sent = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)

    async def windows_since(seq: int) -> tuple[list[tuple[str, dict[str, Any]]], int]:
        page = (await http.get(f"/api/v1/workspaces/{ws}/events?since={seq}", headers=admin.headers)).json()
        found = [
            (e["type"], e["data"]["conversation"]["reply_window"])
            for e in page["events"]
            if e["type"].startswith("conversation.")
        ]
        return found, page["last_seq"]

    conv = await said(http, inbox, "m-1", sent.isoformat())
    [(kind, created)], seq = await windows_since(0)
    assert kind == "conversation.created" and created["state"] == "open"
    assert datetime.fromisoformat(created["closes_at"]) == sent + timedelta(hours=24)
    assert (await reply(http, admin, ws, conv)).status_code == 201
    updates, seq = await windows_since(seq)
    assert updates and all(w == created for _, w in updates)
    # The customer writes again: the event moves the window.
    later = sent + timedelta(hours=1)
    await said(http, inbox, "m-2", later.isoformat())
    [(kind, moved)], seq = await windows_since(seq)
    assert kind == "conversation.updated"
    assert datetime.fromisoformat(moved["closes_at"]) == later + timedelta(hours=24)
    assert moved == await window(http, admin, ws, conv)


async def test_migration_0013_fills_the_window_of_existing_conversations(
    server: Server, http: httpx.AsyncClient, database_url: str
) -> None:
    """Down to 0012 and up again: the customer's last message (our receive time: the provider's
    was not kept before) and the replies after it are read back from the thread."""
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, reply_window_hours=24)
    conv = await said(http, inbox, "m-1", (datetime.now(UTC) - timedelta(hours=2)).isoformat())
    for text in ("one", "two"):
        assert (await reply(http, admin, ws, conv, text)).status_code == 201
    await said(http, inbox, "m-2")
    assert (await reply(http, admin, ws, conv, "three")).status_code == 201
    note = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/messages",
        headers=admin.headers,
        json={"text": "a note is no reply", "private": True},
    )
    assert note.status_code == 201
    [before] = await rows(server, t.conversations, t.conversations.c.id == conv)
    assert before["replies_since_customer"] == 1

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0012")
    await asyncio.to_thread(upgrade, database_url)

    [after] = await rows(server, t.conversations, t.conversations.c.id == conv)
    last_in = max(
        m["created_at"]
        for m in await rows(server, t.messages, t.messages.c.conversation_id == conv)
        if m["kind"] == "incoming"
    )
    assert after["customer_last_at"] == last_in
    assert after["replies_since_customer"] == 1
