"""The website channel's first slice: visitor sessions and tokens, identity verification,
messages in both directions, CORS for the customer's site, the disabled inbox."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import Agent, make_admin


@dataclass
class WebInbox:
    id: int
    uid: str
    identity_secret: str

    @property
    def base(self) -> str:
        return f"/widget/v1/{self.uid}"


async def make_web_inbox(http: httpx.AsyncClient, admin: Agent, ws_id: int, **settings: Any) -> WebInbox:
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes",
        headers=admin.headers,
        json={"name": "Website", "channel_type": "web", "settings": settings},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return WebInbox(body["id"], body["uid"], body["secrets"]["identity_secret"])


async def session(http: httpx.AsyncClient, inbox: WebInbox, **body: Any) -> dict[str, Any]:
    r = await http.post(f"{inbox.base}/sessions", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def visitor(token: str) -> dict[str, str]:
    return {"Authorization": f"Visitor {token}"}


async def say(
    http: httpx.AsyncClient, inbox: WebInbox, token: str, text: str, client_id: str
) -> httpx.Response:
    return await http.post(
        f"{inbox.base}/messages", json={"text": text, "client_id": client_id}, headers=visitor(token)
    )


async def count(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


def identity_hash(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


async def test_settings_are_checked_and_the_identity_secret_generated(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(
        http, admin, ws_id, site_url="https://shop.example.com", colour="#ff8800", prechat_fields=["email"]
    )
    assert len(inbox.identity_secret) >= 32
    types = (await http.get("/api/v1/channel-types", headers=admin.headers)).json()
    web = next(c for c in types if c["type"] == "web")
    assert [s["name"] for s in web["secret_fields"]] == ["identity_secret"]
    for bad, field in (
        ({"colour": "orange"}, "colour"),
        ({"prechat_fields": ["name", "age"]}, "prechat_fields"),
        ({"prechat_fields": ["name", "name"]}, "prechat_fields"),
        ({"offline_behaviour": "email"}, "offline_behaviour"),
        ({"language": "de"}, "language"),
        ({"webhook_url": "https://x.example"}, "webhook_url"),
        ({"greeting_translations": {"not a language": "Hallo"}}, "greeting_translations"),
        ({"greeting_translations": {"tr": "x" * 501}}, "greeting_translations"),
        ({"invitation_text_translations": "Merhaba"}, "invitation_text_translations"),
        # 41 well-formed tags (qaa … qbo): only the count is wrong.
        (
            {"greeting_translations": {f"q{chr(97 + i // 26)}{chr(97 + i % 26)}": "x" for i in range(41)}},
            "greeting_translations",
        ),
    ):
        r = await http.post(
            f"/api/v1/workspaces/{ws_id}/inboxes",
            headers=admin.headers,
            json={"name": "Bad", "channel_type": "web", "settings": bad},
        )
        assert r.status_code == 422, (bad, r.text)
        assert field in (r.json()["error"]["field"] or ""), (bad, r.json())
    assert await count(server, t.inboxes) == 1


async def test_visitor_writes_agent_replies_visitor_reads(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    started = await session(http, inbox, name="Ann", email="ann@example.com")
    assert started["conversation_id"] is None
    token = started["visitor_token"]

    first = await say(http, inbox, token, "Do you ship to Izmir?", "c-1")
    assert first.status_code == 200, first.text
    conv_id = first.json()["conversation_id"]
    again = await say(http, inbox, token, "Do you ship to Izmir?", "c-1")
    assert again.json() == first.json()  # a resend after a lost answer is stored once
    assert await count(server, t.messages) == 1

    # The conversation is the contact's, as the dashboard shows it.
    thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}"
    detail = (await http.get(thread, headers=admin.headers)).json()
    assert detail["contact"] == {"id": started["contact_id"], "name": "Ann"}

    reply = await http.post(f"{thread}/messages", headers=admin.headers, json={"text": "Yes, in 2 days."})
    assert reply.status_code == 201, reply.text
    note = await http.post(
        f"{thread}/messages", headers=admin.headers, json={"text": "VIP customer", "private": True}
    )
    assert note.status_code == 201, note.text
    assigned = await http.post(
        f"{thread}/assignment", headers=admin.headers, json={"assignee_id": admin.user_id}
    )
    assert assigned.status_code == 200, assigned.text

    # No provider to call: the worker marks the reply sent as soon as it takes the job.
    async with asyncio.timeout(10):
        while True:
            messages = (await http.get(f"{thread}/messages", headers=admin.headers)).json()["messages"]
            if next(m for m in messages if m["id"] == reply.json()["id"])["delivery_status"] == "sent":
                break
            await asyncio.sleep(0.05)
    kinds = {m["kind"] for m in messages}
    assert {"note", "activity"} <= kinds  # the visitor must not see these

    seen = await http.get(f"{inbox.base}/messages", headers=visitor(token))
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["conversation_id"] == conv_id
    assert [(m["direction"], m["text"]) for m in body["messages"]] == [
        ("visitor", "Do you ship to Izmir?"),
        ("agent", "Yes, in 2 days."),
    ]
    assert body["messages"][1]["sender_name"]
    after = body["messages"][0]["id"]
    later = (await http.get(f"{inbox.base}/messages?after={after}", headers=visitor(token))).json()
    assert [m["text"] for m in later["messages"]] == ["Yes, in 2 days."]

    # Reload: the same token resumes the same contact and conversation.
    resumed = await session(http, inbox, visitor_token=token)
    assert (resumed["contact_id"], resumed["conversation_id"]) == (started["contact_id"], conv_id)


async def test_two_visitors_are_two_contacts_and_see_only_their_own(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    a, b = await session(http, inbox), await session(http, inbox)
    assert a["visitor_token"] != b["visitor_token"] and a["contact_id"] != b["contact_id"]
    # The same client id from two widgets is two messages.
    ra = await say(http, inbox, a["visitor_token"], "from a", "1")
    rb = await say(http, inbox, b["visitor_token"], "from b", "1")
    assert ra.json()["conversation_id"] != rb.json()["conversation_id"]
    mine = (await http.get(f"{inbox.base}/messages", headers=visitor(b["visitor_token"]))).json()
    assert [m["text"] for m in mine["messages"]] == ["from b"]


async def test_forged_or_foreign_tokens_are_refused_and_change_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    other = await make_web_inbox(http, admin, ws_id)
    foreign = (await session(http, other))["visitor_token"]
    real = (await session(http, inbox))["visitor_token"]
    prefix, visitor_part, signature = real.split(".")
    forged = [
        foreign,
        f"{prefix}.{visitor_part}.{'0' * 64}",
        f"{prefix}.{foreign.split('.')[1]}.{signature}",
        "garbage",
    ]
    contacts, identities = await count(server, t.contacts), await count(server, t.contact_identities)
    for token in forged:
        r = await say(http, inbox, token, "hi", "x")
        assert r.status_code == 401, (token, r.text)
        assert r.json()["error"]["field"] == "authorization"
        listed = await http.get(f"{inbox.base}/messages", headers=visitor(token))
        assert listed.status_code == 401, (token, listed.text)
        s = await http.post(f"{inbox.base}/sessions", json={"visitor_token": token})
        assert s.status_code == 401, (token, s.text)
        assert s.json()["error"]["field"] == "visitor_token"
    no_header = await http.post(f"{inbox.base}/messages", json={"text": "hi", "client_id": "x"})
    bearer = await http.post(
        f"{inbox.base}/messages",
        json={"text": "hi", "client_id": "x"},
        headers={"Authorization": f"Bearer {real}"},
    )
    for r in (no_header, bearer):
        assert r.status_code == 401, r.text
        assert "Visitor" in r.json()["error"]["message"]
    assert await count(server, t.messages) == 0
    assert (await count(server, t.contacts), await count(server, t.contact_identities)) == (
        contacts,
        identities,
    )


async def test_verified_identity_is_one_contact_across_devices(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    identity = {"user_id": "u-42", "hash": identity_hash(inbox.identity_secret, "u-42")}
    laptop = await session(http, inbox, identity=identity, name="Bora")
    sent = await say(http, inbox, laptop["visitor_token"], "order 17?", "l-1")
    assert sent.status_code == 200, sent.text
    phone = await session(http, inbox, identity=identity)
    assert phone["contact_id"] == laptop["contact_id"]
    assert phone["conversation_id"] == sent.json()["conversation_id"]
    history = (await http.get(f"{inbox.base}/messages", headers=visitor(phone["visitor_token"]))).json()
    assert [m["text"] for m in history["messages"]] == ["order 17?"]

    contacts = await count(server, t.contacts)
    for bad in (
        {"user_id": "u-43", "hash": identity["hash"]},
        {"user_id": "u-42", "hash": identity_hash("another-secret", "u-42")},
        {"user_id": "u-42", "hash": "nothex"},
    ):
        r = await http.post(f"{inbox.base}/sessions", json={"identity": bad})
        assert r.status_code == 401, (bad, r.text)
        assert r.json()["error"]["field"] == "identity.hash"
    assert await count(server, t.contacts) == contacts


async def test_bad_input_is_named_and_stores_nothing(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    for body, field in (
        ({"text": "   ", "client_id": "1"}, "text"),
        ({"text": "hi"}, "client_id"),
        ({"text": 5, "client_id": "1"}, "text"),
        ({"text": "hi", "client_id": "1", "extra": True}, "extra"),
    ):
        r = await http.post(f"{inbox.base}/messages", json=body, headers=visitor(token))
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["field"] == field, (body, r.json())
    r = await http.post(f"{inbox.base}/sessions", json={"email": 7})
    assert r.status_code == 422 and r.json()["error"]["field"] == "email"
    assert (await http.post("/widget/v1/nope/sessions", json={})).status_code == 404
    assert await count(server, t.messages) == 0


async def test_cross_origin_widget_requests_are_allowed(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    origin = {"Origin": "https://shop.example.com"}
    preflight = await http.options(
        f"{inbox.base}/messages",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"]
    ok = await http.post(f"{inbox.base}/sessions", json={}, headers=origin)
    assert ok.headers["access-control-allow-origin"] == "*"
    refused = await say(http, inbox, "forged", "hi", "1")
    assert refused.headers["access-control-allow-origin"] == "*"  # the widget can read the error
    assert refused.headers["access-control-expose-headers"] == "retry-after"
    # A header added on the way (a proxy, an extension) does not make the browser refuse the call.
    extra = await http.options(
        f"{inbox.base}/config",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-forwarded-for",
        },
    )
    assert extra.headers["access-control-allow-headers"] == "x-forwarded-for"
    # The dashboard API stays same-origin.
    api = await http.get("/api/v1/me", headers={**origin, **admin.headers})
    assert "access-control-allow-origin" not in api.headers


async def test_disabled_inbox_is_gone_and_the_webhook_address_takes_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    hook = await http.post(f"/webhooks/web/{inbox.uid}", content=b"{}")
    assert hook.status_code == 404, hook.text
    assert hook.json()["error"]["message"] == "the web channel takes no webhooks"
    off = await http.patch(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox.id}", headers=admin.headers, json={"is_enabled": False}
    )
    assert off.status_code == 200, off.text
    for r in (
        await say(http, inbox, token, "hi", "1"),
        await http.get(f"{inbox.base}/messages", headers=visitor(token)),
        await http.post(f"{inbox.base}/sessions", json={}),
    ):
        assert r.status_code == 410, r.text
        assert r.json()["error"]["code"] == "inbox_disabled"
    assert await count(server, t.messages) == 0


# --- configuration, files, offline form, CSAT (widget protocol) ---------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_config_tells_the_widget_its_settings(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(
        http, admin, ws_id, colour="#ff8800", offline_behaviour="hide", language="tr"
    )
    r = await http.get(f"{inbox.base}/config", headers={"Origin": "https://shop.example.com"})
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.json() == {
        "colour": "#ff8800",
        "greeting": "Hi! How can we help?",
        "greeting_translations": {},
        "invitation_text": "",
        "invitation_text_translations": {},
        "prechat_enabled": False,
        "prechat_fields": ["name", "email"],
        "offline_behaviour": "hide",
        "language": "tr",
        "agents_online": False,
        "max_upload_bytes": server.services.settings.widget_max_upload_bytes,
    }
    assert (await http.get("/widget/v1/nope/config")).status_code == 404


async def test_greeting_and_invitation_per_language(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    texts = {"tr": "Merhaba! Nasıl yardımcı olabiliriz?", "fa": "سلام! چطور کمکتان کنیم؟", "pt-BR": "Olá!"}
    inbox = await make_web_inbox(
        http,
        admin,
        ws_id,
        greeting="Hello!",
        greeting_translations=texts,
        invitation_text_translations={"tr": "Yardım ister misiniz?"},
    )
    config = (await http.get(f"{inbox.base}/config")).json()
    assert (config["greeting"], config["greeting_translations"]) == ("Hello!", texts)
    assert (config["invitation_text"], config["invitation_text_translations"]) == (
        "",
        {"tr": "Yardım ister misiniz?"},
    )
    # An inbox saved before per-language texts existed holds one string each: still served.
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            t.inboxes.update()
            .where(t.inboxes.c.id == inbox.id)
            .values(settings={"greeting": "Old hello", "invitation_text": "Old invite"})
        )
    server.services.inboxes.forget(inbox.id)
    config = (await http.get(f"{inbox.base}/config")).json()
    assert (config["greeting"], config["greeting_translations"]) == ("Old hello", {})
    assert (config["invitation_text"], config["invitation_text_translations"]) == ("Old invite", {})


async def test_visitor_uploads_a_file_once_per_client_id(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    form = {"client_id": "f-1", "text": "my screen"}
    files = {"file": ("shot.png", PNG, "image/png")}
    r = await http.post(f"{inbox.base}/attachments", headers=visitor(token), data=form, files=files)
    assert r.status_code == 200, r.text
    shown = r.json()["message"]
    assert (shown["client_id"], shown["text"], shown["direction"]) == ("f-1", "my screen", "visitor")
    [attachment] = shown["attachments"]
    assert attachment["file_name"] == "shot.png" and attachment["size"] == len(PNG)
    assert attachment["url"].startswith(server.services.settings.effective_public_url + "/files/")
    again = await http.post(f"{inbox.base}/attachments", headers=visitor(token), data=form, files=files)
    assert again.json()["message"]["id"] == shown["id"]
    assert await count(server, t.attachments) == 1
    stored = [p for p in server.services.settings.attachments_dir.rglob("*") if p.is_file()]
    assert len(stored) == 1  # the resend's copy was discarded
    # The agent sees the file on the conversation's message.
    conv_id = (await http.get(f"{inbox.base}/messages", headers=visitor(token))).json()["conversation_id"]
    thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}/messages"
    [message] = (await http.get(thread, headers=admin.headers)).json()["messages"]
    assert message["data"]["attachments"][0]["file_name"] == "shot.png"
    path = attachment["url"].removeprefix(server.services.settings.effective_public_url)
    assert (await http.get(path)).content == PNG


@pytest.mark.parametrize("server", [{"widget_max_upload_bytes": 1000}], indirect=True)
async def test_oversize_or_wrong_files_are_refused_and_store_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    url = f"{inbox.base}/attachments"
    assert (await http.get(f"{inbox.base}/config")).json()["max_upload_bytes"] == 1000
    for size in (2000, 300_000):  # just over (read by the handler); far over (refused by its length)
        r = await http.post(
            url,
            headers=visitor(token),
            data={"client_id": "big"},
            files={"file": ("a.png", PNG + b"\x00" * size, "image/png")},
        )
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "file_too_large"
        assert r.headers["access-control-allow-origin"] == "*"
    # No length given (chunked): reading stops at the limit.
    boundary = "x-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="client_id"\r\n\r\nbig\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    async def body() -> Any:
        yield head + PNG
        for _ in range(40):
            yield b"\x00" * 10_000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = await http.post(
        url,
        headers={**visitor(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "file_too_large", r.text
    for files, data in (
        ({"file": ("page.html", b"<script>", "text/html")}, {"client_id": "h"}),
        ({"file": ("fake.png", b"GIF89a....", "image/png")}, {"client_id": "h"}),
        ({}, {"client_id": "h"}),
        ({"file": ("a.png", PNG, "image/png")}, {}),
    ):
        r = await http.post(url, headers=visitor(token), data=data, files=files or None)
        assert r.status_code == 422, (files, r.text)
        assert r.json()["error"]["field"] in ("file", "client_id"), r.json()
    assert (
        await http.post(
            url,
            headers=visitor("forged"),
            data={"client_id": "x"},
            files={"file": ("a.png", PNG, "image/png")},
        )
    ).status_code == 401
    assert await count(server, t.messages) == 0
    assert await count(server, t.attachments) == 0
    assert [p for p in server.services.settings.attachments_dir.rglob("*") if p.is_file()] == []


async def test_offline_form_leaves_a_message_with_the_contact_details(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    r = await http.post(
        f"{inbox.base}/offline", json={"name": "Deniz", "email": "deniz@example.com", "text": "Call me back"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"visitor_token", "contact_id", "conversation_id", "message_id"}
    thread = f"/api/v1/workspaces/{ws_id}/conversations/{body['conversation_id']}"
    detail = (await http.get(thread, headers=admin.headers)).json()
    assert detail["contact"] == {"id": body["contact_id"], "name": "Deniz"}
    [message] = (await http.get(f"{thread}/messages", headers=admin.headers)).json()["messages"]
    assert (message["id"], message["kind"], message["content_type"], message["text"]) == (
        body["message_id"],
        "incoming",
        "offline_form",
        "Call me back",
    )
    # The same visitor comes back with the token: their conversation, and the widget shows the form.
    again = await http.post(
        f"{inbox.base}/offline",
        json={"visitor_token": body["visitor_token"], "email": "deniz@example.com", "text": "Still there?"},
    )
    assert again.json()["conversation_id"] == body["conversation_id"]
    seen = (await http.get(f"{inbox.base}/messages", headers=visitor(body["visitor_token"]))).json()
    assert [m["content_type"] for m in seen["messages"]] == ["offline_form", "offline_form"]
    messages = await count(server, t.messages)
    for bad, field in (
        ({"text": "hi"}, "email"),
        ({"email": "not-an-email", "text": "hi"}, "email"),
        ({"email": "a@example.com", "text": "  "}, "text"),
        ({"email": "a@example.com"}, "text"),
        ({"email": "a@example.com", "text": "x", "visitor_token": "forged"}, "visitor_token"),
    ):
        r = await http.post(f"{inbox.base}/offline", json=bad)
        assert r.status_code in (401, 422), (bad, r.text)
        assert r.json()["error"]["field"] == field, (bad, r.json())
    assert await count(server, t.messages) == messages


async def test_csat_once_for_the_visitors_own_resolved_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    token = (await session(http, inbox))["visitor_token"]
    other = (await session(http, inbox))["visitor_token"]
    conv_id = (await say(http, inbox, token, "help", "1")).json()["conversation_id"]
    foreign_conv = (await say(http, inbox, other, "me too", "1")).json()["conversation_id"]
    csat = f"{inbox.base}/csat"
    not_yet = await http.post(csat, headers=visitor(token), json={"conversation_id": conv_id, "rating": 4})
    assert not_yet.status_code == 409 and not_yet.json()["error"]["code"] == "not_resolved"
    thread = f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}"
    resolved = await http.patch(thread, headers=admin.headers, json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    foreign = await http.post(csat, headers=visitor(other), json={"conversation_id": conv_id, "rating": 1})
    assert foreign.status_code == 404, foreign.text
    missing = await http.post(
        csat, headers=visitor(token), json={"conversation_id": foreign_conv, "rating": 1}
    )
    assert missing.status_code == 404
    for bad in (
        {"conversation_id": conv_id, "rating": 6},
        {"conversation_id": conv_id, "rating": 0},
        {"rating": 3},
    ):
        r = await http.post(csat, headers=visitor(token), json=bad)
        assert r.status_code == 422, r.text
    rated = await http.post(
        csat,
        headers=visitor(token),
        json={"conversation_id": conv_id, "rating": 4, "comment": "Quick, thanks"},
    )
    assert rated.status_code == 200, rated.text
    assert rated.json() == {"conversation_id": conv_id, "rating": 4, "comment": "Quick, thanks"}
    twice = await http.post(csat, headers=visitor(token), json={"conversation_id": conv_id, "rating": 5})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_rated"
    async with server.services.db.read() as conn:
        ratings = (await conn.execute(sa.select(t.csat_ratings.c.rating))).scalars().all()
    assert ratings == [4]
    messages = (await http.get(f"{thread}/messages", headers=admin.headers)).json()["messages"]
    line = messages[-1]
    assert (line["kind"], line["content_type"], line["text"]) == (
        "activity",
        "csat",
        "Rated 4/5: Quick, thanks",
    )
    assert line["data"] == {"activity": "csat", "rating": 4, "comment": "Quick, thanks"}
    # The visitor never sees the activity line.
    seen = (await http.get(f"{inbox.base}/messages", headers=visitor(token))).json()["messages"]
    assert all(m["content_type"] != "csat" for m in seen)


async def test_a_session_with_a_page_records_the_visit(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws_id)
    long_title = "T" * 3000  # tracking input is cut to size, never a reason to refuse the chat
    started = await session(
        http,
        inbox,
        page={
            "url": "https://shop.example.com/shoes",
            "title": long_title,
            "referrer": "https://www.google.com/",
        },
        language="tr-TR",
    )
    r = await http.get(
        f"/api/v1/workspaces/{ws_id}/contacts/{started['contact_id']}/visits", headers=admin.headers
    )
    assert r.status_code == 200, r.text
    [visit] = r.json()["visits"]
    assert (visit["landing_url"], visit["language"], visit["source_kind"]) == (
        "https://shop.example.com/shoes",
        "tr-TR",
        "search",
    )
    assert 0 < len(visit["current_title"]) <= 500
    bad = await http.post(f"{inbox.base}/sessions", json={"page": {"title": "no url"}})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "page.url"
