"""Bad input through the real server, on SQLite and PostgreSQL: each case was a 500 (or a
dropped socket) before. Each answer names what is wrong and changes nothing; customer content
with a NUL is stored with U+FFFD instead of being refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets

from frontdesk.store import tables as t
from tests.channels.web.test_web_channel import make_web_inbox, say, session, visitor
from tests.channels.web.test_widget_socket import close_code, hello, next_frame, visitor_socket
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, post_inbound, receive

BIG = 2**64  # beyond BIGINT on both backends
FFFD = "\ufffd"


def refused(r: httpx.Response, field: str, status: int = 422) -> None:
    assert r.status_code == status, (field, r.status_code, r.text)
    assert r.json()["error"]["field"] == field, (field, r.text)


async def contact(http: httpx.AsyncClient, admin: Agent, ws: int, **body: Any) -> dict[str, Any]:
    r = await http.post(
        f"/api/v1/workspaces/{ws}/contacts", headers=admin.headers, json={"name": "Ann", **body}
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


async def test_null_in_a_patch_is_refused_and_the_contact_keeps_working(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}"
    ann = await contact(http, admin, ws)
    url = f"{base}/contacts/{ann['id']}"
    for field in ("attributes", "name"):
        refused(await http.patch(url, headers=admin.headers, json={field: None}), field)
    # Nothing was stored: the contact, the list and block / unblock still answer.
    got = await http.get(url, headers=admin.headers)
    assert got.status_code == 200 and got.json()["attributes"] == {} and got.json()["name"] == "Ann"
    listed = await http.get(f"{base}/contacts", headers=admin.headers)
    assert listed.status_code == 200 and [c["id"] for c in listed.json()["contacts"]] == [ann["id"]]
    for method in ("POST", "DELETE"):
        r = await http.request(method, f"{url}/block", headers=admin.headers)
        assert r.status_code == 200, r.text
    # email and phone: null clears them.
    cleared = await http.patch(url, headers=admin.headers, json={"email": None, "phone": None})
    assert cleared.status_code == 200, cleared.text

    # The other partial updates refuse null too, naming the field.
    inbox = await make_inbox(http, admin, ws)
    label = await http.post(f"{base}/labels", headers=admin.headers, json={"name": "vip"})
    canned = await http.post(
        f"{base}/canned-responses", headers=admin.headers, json={"short_code": "hi", "text": "Hi"}
    )
    conv = await receive(http, inbox, "m-1")
    for path, field in (
        (f"{base}/inboxes/{inbox.id}", "name"),
        (f"{base}/inboxes/{inbox.id}", "settings"),
        (f"{base}/inboxes/{inbox.id}", "is_enabled"),
        (f"{base}/labels/{label.json()['id']}", "color"),
        (f"{base}/canned-responses/{canned.json()['id']}", "text"),
        (f"{base}/conversations/{conv['conversation_id']}", "status"),
        ("/api/v1/me", "locale"),
        ("/api/v1/me", "preferences"),
    ):
        refused(await http.patch(path, headers=admin.headers, json={field: None}), field)


async def test_a_contact_stored_with_null_attributes_reads_as_having_none(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}"
    ann = await contact(http, admin, ws)
    async with server.services.db.write() as tx:  # what the old PATCH {"attributes": null} left
        await tx.conn.execute(t.contacts.update().where(t.contacts.c.id == ann["id"]).values(attributes=None))
    for path in (f"contacts/{ann['id']}", "contacts", "search?q=Ann"):
        r = await http.get(f"{base}/{path}", headers=admin.headers)
        assert r.status_code == 200, (path, r.text)
    blocked = await http.post(f"{base}/contacts/{ann['id']}/block", headers=admin.headers)
    assert blocked.status_code == 200 and blocked.json()["attributes"] == {}


async def test_contact_attributes_are_bounded(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    url = f"/api/v1/workspaces/{ws}/contacts/{(await contact(http, admin, ws))['id']}"
    for attributes, field in (
        ({f"k{i}": i for i in range(51)}, "attributes"),
        ({"k" * 101: 1}, "attributes"),
        ({"": 1}, "attributes"),
        ({"notes": "x" * 2001}, "attributes.notes"),
        ({"nested": {"deep": "a\x00b"}}, "attributes"),
        ({"n": BIG}, "attributes"),
    ):
        refused(await http.patch(url, headers=admin.headers, json={"attributes": attributes}), field)
    for number in ("1e999", "NaN", "-Infinity"):  # Python's JSON reader takes them; JSON has none
        body = '{"attributes": {"n": ' + number + "}}"
        r = await http.patch(url, headers={**admin.headers, "Content-Type": "application/json"}, content=body)
        refused(r, "attributes")
    kept = {f"k{i}": "v" * 100 for i in range(50)}
    r = await http.patch(url, headers=admin.headers, json={"attributes": kept})
    assert r.status_code == 200 and r.json()["attributes"] == kept


async def test_integers_beyond_64_bits_are_refused_everywhere(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}"
    inbox = await make_inbox(http, admin, ws)
    conv = await receive(http, inbox, "m-1")
    for path in (
        f"{base}/conversations/{2**63}",
        f"{base}/contacts/{BIG}",
        f"/api/v1/workspaces/{BIG}/contacts",
        f"{base}/contacts?before={BIG}",
        f"{base}/conversations?assignee_id={BIG}",
        f"{base}/conversations/{conv['conversation_id']}/messages?before={BIG}",
    ):
        r = await http.get(path, headers=admin.headers)
        assert r.status_code == 422, (path, r.text)
    # The largest 64-bit id is merely unknown.
    r = await http.get(f"{base}/conversations/{2**63 - 1}", headers=admin.headers)
    assert r.status_code == 404, r.text
    refused(
        await http.put(f"{base}/inboxes/{inbox.id}/members", headers=admin.headers, json={"user_ids": [BIG]}),
        "user_ids.0",
    )
    refused(
        await http.post(
            f"{base}/conversations/{conv['conversation_id']}/assignment",
            headers=admin.headers,
            json={"assignee_id": BIG},
        ),
        "assignee_id",
    )
    # A receipt from the API channel's app.
    receipt = {"type": "status", "message_id": BIG, "status": "delivered"}
    refused(await post_inbound(http, inbox, receipt), "message_id")
    # The widget.
    web = await make_web_inbox(http, admin, ws)
    token = (await session(http, web))["visitor_token"]
    r = await http.get(f"{web.base}/messages?after={BIG}", headers=visitor(token))
    refused(r, "after")
    r = await http.post(
        f"{web.base}/csat", headers=visitor(token), json={"conversation_id": BIG, "rating": 5}
    )
    refused(r, "conversation_id")


async def test_integers_beyond_64_bits_in_socket_frames_are_ignored(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    web = await make_web_inbox(http, admin, ws)
    token = (await session(http, web))["visitor_token"]
    assert (await say(http, web, token, "hello", "c-1")).status_code == 200
    async with visitor_socket(server, web, token, last=2**63) as sock:
        await next_frame(sock, "ready")
        await sock.send(json.dumps({"type": "read", "up_to": 2**63}))
        await sock.send(json.dumps({"type": "ping"}))
        await next_frame(sock, "pong")
    url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(url, additional_headers=admin.headers) as sock:
        await next_frame(sock, "ready")
        await sock.send(json.dumps({"type": "typing", "conversation_id": 2**63}))
        await sock.send(json.dumps({"type": "ping"}))
        await next_frame(sock, "pong")


async def test_secrets_with_non_ascii_characters_are_refused(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    body = json.dumps({"type": "message", "source_id": "m-1", "text": "hi", "contact": {"source_id": "c"}})
    r = await http.post(
        inbox.webhook_path,
        content=body.encode(),
        headers={"Content-Type": "application/json", "X-Frontdesk-Signature": "sha256=é".encode()},
    )
    refused(r, "signature", 401)
    web = await make_web_inbox(http, admin, ws)
    r = await http.post(f"{web.base}/sessions", json={"identity": {"user_id": "u-1", "hash": "é" * 64}})
    refused(r, "identity.hash", 401)
    token = (await session(http, web))["visitor_token"]
    forged = token.rsplit(".", 1)[0] + "." + "é" * 64
    r = await http.get(f"{web.base}/messages", headers={"Authorization": f"Visitor {forged}".encode()})
    assert r.status_code == 401, r.text
    async with websockets.connect(server.ws_url(f"{web.base}/socket")) as sock:
        await sock.send(hello(forged))
        assert await close_code(sock) == 4401
    # A cookie session's CSRF header too.
    login = await http.post(
        "/api/v1/auth/login", json={"email": admin.email, "password": "correct-horse-battery"}
    )
    assert login.status_code == 200
    r = await http.post("/api/v1/me/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "é".encode()})
    assert r.status_code == 403, r.text
    http.cookies.clear()
    assert await count_rows(server, t.contacts) == 1  # only the session's visitor


async def count_rows(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_nul_in_customer_content_is_stored_as_fffd(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    payload = {
        "type": "message",
        "source_id": "m\x001",
        "text": "hello\x00world",
        "contact": {"source_id": "c\x001", "name": "Ann\x00", "email": "ann@example.com\x00"},
    }
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    again = await post_inbound(http, inbox, payload)  # a retry is still the same message
    assert again.status_code == 200 and again.json()["results"][0]["duplicate"] is True
    async with server.services.db.read() as conn:
        message = (await conn.execute(sa.select(t.messages.c.text, t.messages.c.source_id))).one()
        name = (await conn.execute(sa.select(t.contacts.c.name))).scalar_one()
        identity = (await conn.execute(sa.select(t.contact_identities.c.source_id))).scalar_one()
    assert message == (f"hello{FFFD}world", f"m{FFFD}1")
    assert (name, identity) == (f"Ann{FFFD}", f"c{FFFD}1")

    web = await make_web_inbox(http, admin, ws)
    started = await session(http, web, name="Bo\x00ra")
    token = started["visitor_token"]
    said = await say(http, web, token, "from\x00the widget", "w\x001")
    assert said.status_code == 200, said.text
    history = await http.get(f"{web.base}/messages", headers=visitor(token))
    assert [(m["text"], m["client_id"]) for m in history.json()["messages"]] == [
        (f"from{FFFD}the widget", f"w{FFFD}1")
    ]
    async with visitor_socket(server, web, token) as sock:
        await next_frame(sock, "ready")
        await sock.send(json.dumps({"type": "message", "client_id": "s\x001", "text": "by\x00socket"}))
        ack = await next_frame(sock, "ack")
        assert ack["message"]["text"] == f"by{FFFD}socket"
        await sock.send(json.dumps({"type": "page", "url": "https://shop.example/\x00", "title": "a\x00"}))
        await sock.send(json.dumps({"type": "ping"}))
        await next_frame(sock, "pong")  # the page frame did not drop the socket
    async with server.services.db.read() as conn:
        names = set((await conn.execute(sa.select(t.contacts.c.name))).scalars())
    assert f"Bo{FFFD}ra" in names


async def test_nul_from_agents_and_api_clients_is_refused(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}"
    inbox = await make_inbox(http, admin, ws)
    conv = await receive(http, inbox, "m-1")
    messages = await count_rows(server, t.messages)
    refused(
        await http.post(
            f"{base}/conversations/{conv['conversation_id']}/messages",
            headers=admin.headers,
            json={"text": "a\x00b"},
        ),
        "text",
    )
    assert await count_rows(server, t.messages) == messages
    refused(await http.post(f"{base}/contacts", headers=admin.headers, json={"name": "A\x00"}), "name")
    refused(await http.post("/api/v1/auth/password-reset", json={"email": "a\x00@example.com"}), "email")
    refused(await http.get(f"{base}/conversations?label=vip%00", headers=admin.headers), "label")
    refused(await http.get(f"{base}/search?q=a%00", headers=admin.headers), "q")
    r = await http.post(f"{inbox.webhook_path}%00", content=b"{}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    assert await count_rows(server, t.contacts) == 1


async def test_snoozing_without_a_time_zone_is_refused(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = await receive(http, inbox, "m-1")
    url = f"/api/v1/workspaces/{ws}/conversations/{conv['conversation_id']}"
    body = {"status": "snoozed", "snoozed_until": "2099-01-01T09:00:00"}
    refused(await http.patch(url, headers=admin.headers, json=body), "snoozed_until")
    assert (await http.get(url, headers=admin.headers)).json()["status"] == "open"
    body["snoozed_until"] += "+03:00"
    assert (await http.patch(url, headers=admin.headers, json=body)).status_code == 200


async def test_binary_frames_close_the_sockets_with_a_protocol_code(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(url, additional_headers=admin.headers) as sock:
        await next_frame(sock, "ready")
        await sock.send(b"\x00\x01binary")
        assert await close_code(sock) == 1003
    web = await make_web_inbox(http, admin, ws)
    async with websockets.connect(server.ws_url(f"{web.base}/socket")) as sock:
        await sock.send(b"\x00\x01binary")
        assert await close_code(sock) == 4401
    # After hello too: the socket closes with 1003 rather than crashing or answering on.
    token = (await session(http, web))["visitor_token"]
    async with visitor_socket(server, web, token) as sock:
        await next_frame(sock, "ready")
        await sock.send(b"\x00\x01binary")
        assert await close_code(sock) == 1003


async def test_a_second_contact_with_the_same_email_is_a_conflict(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}/contacts"
    ann = await contact(http, admin, ws, email="ann@example.com")
    for email in ("ann@example.com", " ANN@Example.com "):
        r = await http.post(base, headers=admin.headers, json={"name": "Ann again", "email": email})
        refused(r, "email", 409)
        assert r.json()["error"]["code"] == "contact_email_taken"
        assert r.json()["error"]["details"] == {"contact_id": ann["id"]}
    bo = await contact(http, admin, ws, email="bo@example.com")
    r = await http.patch(f"{base}/{bo['id']}", headers=admin.headers, json={"email": "Ann@example.com"})
    refused(r, "email", 409)
    assert r.json()["error"]["details"] == {"contact_id": ann["id"]}
    # Its own email, and contacts without one, are no conflict.
    same = await http.patch(f"{base}/{ann['id']}", headers=admin.headers, json={"email": "ann@example.com"})
    assert same.status_code == 200, same.text
    await contact(http, admin, ws)
    await contact(http, admin, ws)
    assert await count_rows(server, t.contacts) == 4


@pytest.mark.parametrize("value", ["é", "sha256=" + "é" * 64])
def test_signature_check_takes_any_text(value: str) -> None:
    from frontdesk.security import signature_matches

    assert signature_matches("secret", b"{}", value) is False
