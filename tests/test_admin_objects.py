"""Workspace objects the administration screens manage: channel types, inboxes (enable, disable,
write-only secrets), teams, labels and canned responses."""

from __future__ import annotations

import json
from typing import Any

import httpx
import sqlalchemy as sa
import websockets

from frontdesk.domain.enums import Role
from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import (
    Inbox,
    make_admin,
    make_inbox,
    make_member,
    message,
    post_inbound,
    receive,
    sign,
)
from tests.receiver import Receiver
from tests.test_loop import next_event, wait_for_status


async def audit_actions(server: Server, workspace_id: int) -> list[str]:
    a = t.audit_events
    async with server.services.db.read() as conn:
        rows = await conn.execute(
            sa.select(a.c.action).where(a.c.workspace_id == workspace_id).order_by(a.c.id)
        )
        return list(rows.scalars())


async def test_channel_types_describe_settings_and_write_only_secrets(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    assert (await http.get("/api/v1/channel-types")).status_code == 401
    r = await http.get("/api/v1/channel-types", headers=agent.headers)
    assert r.status_code == 200, r.text
    api = next(c for c in r.json() if c["type"] == "api")
    props = api["settings_schema"]["properties"]
    assert set(props) == {
        "webhook_url",
        "lock_to_single_conversation",
        "assign_on_reply",
        "send_indicators",
        "reply_window_hours",
    }
    assert props["lock_to_single_conversation"]["default"] is True
    assert props["send_indicators"]["default"] is False
    assert api["secret_fields"] == [
        {
            "name": "hmac_secret",
            "description": api["secret_fields"][0]["description"],
            "generated": True,
            "shown_when": None,
        }
    ]
    assert "HMAC" in api["secret_fields"][0]["description"]
    # Email's own-server fields and passwords only matter in that mode: the form hides them otherwise.
    email = next(c for c in r.json() if c["type"] == "email")
    email_props = email["settings_schema"]["properties"]
    assert email_props["imap_host"]["x-shown-when"] == {"address_mode": ["own_server"]}
    # Own-server mode receives by IMAP and threads by headers: no hosted address, no reply addresses.
    assert email_props["local_part"]["x-shown-when"] == {"address_mode": ["hosted", "own_address"]}
    shown = {s["name"]: s["shown_when"] for s in email["secret_fields"]}
    assert shown["imap_password"] == {"address_mode": ["own_server"]}
    assert shown["reply_secret"] == {"address_mode": ["hosted", "own_address"]}
    generated = {s["name"] for s in email["secret_fields"] if s["generated"]}
    assert generated == {"reply_secret", "dkim_private_key"}
    openapi = (await http.get("/api/openapi.json")).json()
    for name in ("ChannelType", "Team", "Label", "CannedResponse", "ConversationDetail", "Attachment"):
        assert name in openapi["components"]["schemas"], name
    assert "is_enabled" in openapi["components"]["schemas"]["Inbox"]["required"]


async def test_a_disabled_inbox_refuses_webhooks_and_replies_but_stays_readable(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url, members=[agent.user_id])
    receiver.secret = inbox.secret
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    base = f"/api/v1/workspaces/{ws}"
    url = f"{base}/inboxes/{inbox.id}"
    thread = f"{base}/conversations/{conv}/messages"

    refused = await http.patch(url, headers=agent.headers, json={"is_enabled": False})
    assert refused.status_code == 403, refused.text
    off = await http.patch(url, headers=admin.headers, json={"is_enabled": False})
    assert off.status_code == 200, off.text
    assert off.json()["is_enabled"] is False
    listed = (await http.get(f"{base}/inboxes", headers=admin.headers)).json()
    assert [i["is_enabled"] for i in listed if i["id"] == inbox.id] == [False]

    before = (await http.get(thread, headers=agent.headers)).json()["messages"]
    hook = await post_inbound(http, inbox, message("m-2", text="are you there?"))
    assert hook.status_code == 410, hook.text
    assert hook.json()["error"]["code"] == "inbox_disabled"
    assert "disabled" in hook.json()["error"]["message"]
    reply = await http.post(thread, headers=agent.headers, json={"text": "hello"})
    assert reply.status_code == 409, reply.text
    assert reply.json()["error"]["code"] == "inbox_disabled"
    # Readable as before, nothing stored by the refusals; notes stay possible (they leave nothing).
    assert (await http.get(thread, headers=agent.headers)).json()["messages"] == before
    note = await http.post(thread, headers=agent.headers, json={"text": "on hold", "private": True})
    assert note.status_code == 201, note.text
    assert (await http.get(f"{base}/conversations/{conv}", headers=agent.headers)).status_code == 200

    on = await http.patch(url, headers=admin.headers, json={"is_enabled": True})
    assert on.status_code == 200 and on.json()["is_enabled"] is True
    assert (await post_inbound(http, inbox, message("m-2", text="are you there?"))).status_code == 200
    sent = await http.post(thread, headers=agent.headers, json={"text": "yes"})
    assert sent.status_code == 201, sent.text
    await wait_for_status(http, agent.headers, thread, sent.json()["id"], "sent")
    actions = await audit_actions(server, ws)
    assert actions.index("inbox.disable") < actions.index("inbox.enable")


async def test_inbox_secrets_are_write_only_and_checked_against_the_channel(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}"

    # One bad field: nothing at all changes, not even the valid part of the request.
    bad = await http.patch(
        url, headers=admin.headers, json={"is_enabled": False, "secrets": {"api_key": "x"}}
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["field"] == "secrets.api_key"
    assert "hmac_secret" in bad.json()["error"]["message"]
    blank = await http.patch(url, headers=admin.headers, json={"secrets": {"hmac_secret": "  "}})
    assert blank.status_code == 422 and blank.json()["error"]["field"] == "secrets.hmac_secret"
    wrong_type = await http.patch(url, headers=admin.headers, json={"secrets": {"hmac_secret": 5}})
    assert wrong_type.status_code == 422 and wrong_type.json()["error"]["field"] == "secrets.hmac_secret"
    current = (await http.get(url, headers=admin.headers)).json()
    assert current["is_enabled"] is True
    assert (await post_inbound(http, inbox, message("m-1"))).status_code == 200

    new_secret = "typed-in-by-the-administrator-0123456789"
    r = await http.patch(url, headers=admin.headers, json={"secrets": {"hmac_secret": new_secret}})
    assert r.status_code == 200, r.text
    assert "secrets" not in r.json() and new_secret not in r.text
    assert (await post_inbound(http, inbox, message("m-2"))).status_code == 401  # old secret
    rotated = Inbox(inbox.id, inbox.webhook_path, new_secret)
    assert (await post_inbound(http, rotated, message("m-3"))).status_code == 200
    stored = (await http.get(f"{url}/secrets", headers=admin.headers)).json()
    assert stored == {"hmac_secret": new_secret}
    async with server.services.db.read() as conn:
        raw = (
            await conn.execute(sa.select(t.inboxes.c.secrets_encrypted).where(t.inboxes.c.id == inbox.id))
        ).scalar()
    assert new_secret not in str(raw)  # encrypted at rest
    assert "inbox.secrets" in await audit_actions(server, ws)
    a = t.audit_events
    async with server.services.db.read() as conn:
        data = (await conn.execute(sa.select(a.c.data).where(a.c.action == "inbox.secrets"))).scalar_one()
    assert data == {"fields": ["hmac_secret"]}  # which secret changed, never its value


async def test_teams_rename_remove_members_and_delete(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    ann = await make_member(server, http, ws, name="Ann")
    bob = await make_member(server, http, ws, name="Bob")
    inbox = await make_inbox(http, admin, ws, members=[ann.user_id])
    base = f"/api/v1/workspaces/{ws}/teams"
    team = (await http.post(base, headers=admin.headers, json={"name": "Billing"})).json()
    other = (await http.post(base, headers=admin.headers, json={"name": "Sales"})).json()
    for member in (ann, bob):
        r = await http.post(
            f"{base}/{team['id']}/members", headers=admin.headers, json={"user_id": member.user_id}
        )
        assert r.status_code == 204
    listed = (await http.get(base, headers=ann.headers)).json()
    assert {"id": team["id"], "name": "Billing", "member_ids": sorted([ann.user_id, bob.user_id])} in listed

    assert (
        await http.patch(f"{base}/{team['id']}", headers=ann.headers, json={"name": "X"})
    ).status_code == 403
    dup = await http.patch(f"{base}/{team['id']}", headers=admin.headers, json={"name": "Sales"})
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "name"
    empty = await http.patch(f"{base}/{team['id']}", headers=admin.headers, json={"name": " "})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "name"
    renamed = await http.patch(f"{base}/{team['id']}", headers=admin.headers, json={"name": "Payments"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json() == {
        "id": team["id"],
        "name": "Payments",
        "member_ids": sorted([ann.user_id, bob.user_id]),
    }

    gone = await http.delete(f"{base}/{team['id']}/members/{bob.user_id}", headers=admin.headers)
    assert gone.status_code == 204
    again = await http.delete(f"{base}/{team['id']}/members/{bob.user_id}", headers=admin.headers)
    assert again.status_code == 404 and "not a member" in again.json()["error"]["message"]
    assert (
        await http.delete(f"{base}/{team['id']}/members/{ann.user_id}", headers=ann.headers)
    ).status_code == 403
    listed = {t_["id"]: t_ for t_ in (await http.get(base, headers=admin.headers)).json()}
    assert listed[team["id"]]["member_ids"] == [ann.user_id]

    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    conv_url = f"/api/v1/workspaces/{ws}/conversations/{conv}"
    assign = await http.post(f"{conv_url}/assignment", headers=admin.headers, json={"team_id": team["id"]})
    assert assign.json()["team_id"] == team["id"]
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=ann.headers) as sock:
        await next_event(sock, "ready")
        assert (await http.delete(f"{base}/{team['id']}", headers=ann.headers)).status_code == 403
        deleted = await http.delete(f"{base}/{team['id']}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
        event = await next_event(sock, "team.deleted")
        assert event["data"] == {"team_id": team["id"]} and event["seq"] is not None
    assert (await http.get(conv_url, headers=ann.headers)).json()["team_id"] is None
    assert [t_["id"] for t_ in (await http.get(base, headers=admin.headers)).json()] == [other["id"]]
    # The conversation keeps working: it can go to another team and be answered.
    moved = await http.post(f"{conv_url}/assignment", headers=admin.headers, json={"team_id": other["id"]})
    assert moved.status_code == 200 and moved.json()["team_id"] == other["id"]
    assert (await http.delete(f"{base}/{team['id']}", headers=admin.headers)).status_code == 404
    actions = await audit_actions(server, ws)
    assert {"team.rename", "team.remove_member", "team.delete"} <= set(actions)


async def conversations_of(http: httpx.AsyncClient, who: Any, ws: int) -> dict[int, dict[str, Any]]:
    r = await http.get(
        f"/api/v1/workspaces/{ws}/conversations?all_statuses=true&limit=100", headers=who.headers
    )
    return {c["id"]: c for c in r.json()["conversations"]}


def apply_label_events(conversations: dict[int, dict[str, Any]], event: dict[str, Any]) -> None:
    """What docs/events.md tells a client to do with label.updated and label.deleted."""
    data = event["data"]
    for conv in conversations.values():
        if event["type"] == "label.updated" and data["previous_name"] in conv["labels"]:
            names = set(conv["labels"]) - {data["previous_name"]}
            conv["labels"] = sorted(names | {data["label"]["name"]})
        elif event["type"] == "label.deleted":
            conv["labels"] = [n for n in conv["labels"] if n != data["label"]["name"]]


async def test_labels_rename_recolour_and_delete_follow_their_conversations(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    supervisor = await make_member(server, http, ws, role=Role.SUPERVISOR)
    agent = await make_member(server, http, ws)
    inbox = await make_inbox(http, admin, ws, members=[agent.user_id])
    base = f"/api/v1/workspaces/{ws}"
    vip = (await http.post(f"{base}/labels", headers=admin.headers, json={"name": "vip"})).json()
    await http.post(f"{base}/labels", headers=admin.headers, json={"name": "billing"})
    first = (await receive(http, inbox, "m-1", contact="a"))["conversation_id"]
    second = (await receive(http, inbox, "m-2", contact="b"))["conversation_id"]
    await http.put(
        f"{base}/conversations/{first}/labels", headers=agent.headers, json={"labels": ["vip", "billing"]}
    )
    await http.put(f"{base}/conversations/{second}/labels", headers=agent.headers, json={"labels": ["vip"]})
    state = await conversations_of(http, agent, ws)
    label_url = f"{base}/labels/{vip['id']}"

    assert (await http.patch(label_url, headers=agent.headers, json={"name": "gold"})).status_code == 403
    dup = await http.patch(label_url, headers=supervisor.headers, json={"name": "billing"})
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "name"
    bad = await http.patch(label_url, headers=supervisor.headers, json={"color": "red"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "color"
    assert (await conversations_of(http, agent, ws)) == state  # refusals changed nothing

    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=agent.headers) as sock:
        await next_event(sock, "ready")
        r = await http.patch(label_url, headers=supervisor.headers, json={"name": "gold", "color": "#ffcc00"})
        assert r.status_code == 200, r.text
        assert r.json() == {"id": vip["id"], "name": "gold", "color": "#ffcc00"}
        updated = await next_event(sock, "label.updated")
        assert updated["data"]["previous_name"] == "vip"
        apply_label_events(state, updated)
        assert (await conversations_of(http, agent, ws)) == state
        assert state[first]["labels"] == ["billing", "gold"]
        gold = await http.get(f"{base}/conversations?label=gold", headers=agent.headers)
        assert {c["id"] for c in gold.json()["conversations"]} == {first, second}
        assert (await http.get(f"{base}/conversations?label=vip", headers=agent.headers)).json()[
            "conversations"
        ] == []

        assert (await http.delete(label_url, headers=agent.headers)).status_code == 403
        assert (await http.delete(label_url, headers=admin.headers)).status_code == 204
        deleted = await next_event(sock, "label.deleted")
        apply_label_events(state, deleted)
        assert (await conversations_of(http, agent, ws)) == state
        assert state[first]["labels"] == ["billing"] and state[second]["labels"] == []
    labels = (await http.get(f"{base}/labels", headers=agent.headers)).json()
    assert [lb["name"] for lb in labels] == ["billing"]
    assert (await http.delete(label_url, headers=admin.headers)).status_code == 404
    # The name is free again, and a conversation can carry the new label.
    again = await http.post(f"{base}/labels", headers=admin.headers, json={"name": "gold"})
    assert again.status_code == 201
    relabel = await http.put(
        f"{base}/conversations/{second}/labels", headers=agent.headers, json={"labels": ["gold"]}
    )
    assert relabel.json()["labels"] == ["gold"]
    assert {"label.update", "label.delete"} <= set(await audit_actions(server, ws))


async def test_canned_responses_change_short_code_and_text(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    base = f"/api/v1/workspaces/{ws}/canned-responses"
    hello = (await http.post(base, headers=admin.headers, json={"short_code": "hi", "text": "Hello!"})).json()
    await http.post(base, headers=admin.headers, json={"short_code": "bye", "text": "Goodbye!"})
    url = f"{base}/{hello['id']}"

    assert (await http.patch(url, headers=agent.headers, json={"short_code": "hey"})).status_code == 403
    dup = await http.patch(url, headers=admin.headers, json={"short_code": "/bye", "text": "changed"})
    assert dup.status_code == 409 and dup.json()["error"]["field"] == "short_code"
    bad = await http.patch(url, headers=admin.headers, json={"short_code": "two words"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "short_code"
    nothing = await http.patch(url, headers=admin.headers, json={})
    assert nothing.status_code == 422
    assert {c["short_code"]: c["text"] for c in (await http.get(base, headers=agent.headers)).json()} == {
        "bye": "Goodbye!",
        "hi": "Hello!",
    }

    ok = await http.patch(url, headers=admin.headers, json={"short_code": "/hello", "text": "Hello there!"})
    assert ok.status_code == 204, ok.text
    text_only = await http.patch(f"{base}/{hello['id']}", headers=admin.headers, json={"text": "Hi again"})
    assert text_only.status_code == 204
    found = (await http.get(f"{base}?q=/hel", headers=agent.headers)).json()
    assert found == [{"id": hello["id"], "short_code": "hello", "text": "Hi again"}]
    missing = await http.patch(f"{base}/999999", headers=admin.headers, json={"text": "x"})
    assert missing.status_code == 404


async def test_signed_webhook_to_a_disabled_inbox_stores_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    await http.patch(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}", headers=admin.headers, json={"is_enabled": False}
    )
    body = json.dumps(message("m-1")).encode()
    r = await http.post(
        inbox.webhook_path,
        content=body,
        headers={"Content-Type": "application/json", "X-Frontdesk-Signature": sign(inbox.secret, body)},
    )
    assert r.status_code == 410
    async with server.services.db.read() as conn:
        for table in (t.messages, t.conversations, t.contacts):
            assert (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0


async def test_rotating_secrets_shows_only_the_generated_ones(
    server: Server, http: httpx.AsyncClient
) -> None:
    """Rotation answers with the new generated secrets; a password the administrator typed (an
    own mail server's IMAP password) is write-only there too and is kept, not shown."""
    admin, ws = await make_admin(server, http)
    settings = {
        "address_mode": "own_server",
        "own_address": "help@shop.example",
        "imap_host": "127.0.0.1",
        "imap_username": "help",
        "smtp_host": "127.0.0.1",
    }
    typed = "the-mailbox-password-only-the-admin-knows"
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={
            "name": "Mail",
            "channel_type": "email",
            "settings": settings,
            "secrets": {"imap_password": typed},
        },
    )
    assert r.status_code == 201, r.text
    url = f"/api/v1/workspaces/{ws}/inboxes/{r.json()['id']}/secrets"
    before = (await http.get(url, headers=admin.headers)).json()
    rotated = await http.post(f"{url}/rotate", headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    assert typed not in rotated.text and "imap_password" not in rotated.json()
    assert rotated.json().keys() == before.keys() and rotated.json() != before
    assert (await http.get(url, headers=admin.headers)).json() == rotated.json()
