"""The API channel's inbound side: verification, bad input, idempotency, reopening."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, message, post_inbound, receive, sign


async def count_rows(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_same_provider_id_twice_stores_one_message(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    first = await receive(http, inbox, "dup-1")
    again = await receive(http, inbox, "dup-1")
    assert first["duplicate"] is False
    assert again == {**first, "duplicate": True}
    assert await count_rows(server, t.messages) == 1


async def test_wrong_or_missing_signature_is_refused_and_nothing_stored(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    for signature in (None, "sha256=" + "0" * 64, sign("another-secret", b"{}"), "garbage"):
        r = await post_inbound(http, inbox, message("m-1"), signature=signature)
        assert r.status_code == 401, r.text
        assert r.json()["error"]["code"] == "unauthenticated"
        assert r.json()["error"]["field"] == "signature"
    assert await count_rows(server, t.messages) == 0
    assert await count_rows(server, t.contacts) == 0


async def test_unknown_inbox_is_404(server: Server, http: httpx.AsyncClient) -> None:
    r = await http.post("/webhooks/api/nope", content=b"{}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def _signed(http: httpx.AsyncClient, inbox_path: str, secret: str, body: bytes) -> httpx.Response:
    return await http.post(inbox_path, content=body, headers={"X-Frontdesk-Signature": sign(secret, body)})


async def test_bad_payloads_get_clear_errors_and_change_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    cases = [
        (b"{not json", 400, "body"),
        (
            b'{"type":"message","source_id":"x","text":"hi","contact":{"source_id":"c"},"extra":1}',
            422,
            "extra",
        ),
        (
            b'{"type":"message","source_id":5,"text":"hi","contact":{"source_id":"c"}}',
            422,
            "source_id",
        ),
        (b'{"type":"message","source_id":"x","text":"","contact":{"source_id":"c"}}', 422, "text"),
        (b'{"type":"message","source_id":"x","text":"hi"}', 422, "contact"),
        (b'{"type":"unknown"}', 422, None),
        (b"[]", 422, None),
    ]
    for body, status, field in cases:
        r = await _signed(http, inbox.webhook_path, inbox.secret, body)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["message"]
        if field:
            assert error["field"] == field, (body, error)
    assert await count_rows(server, t.messages) == 0


async def test_oversize_body_is_413(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    huge = message("big", text="x" * (server.services.settings.max_body_bytes + 10))
    r = await post_inbound(http, inbox, huge)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert await count_rows(server, t.messages) == 0


async def test_oversize_body_without_a_length_is_413(server: Server, http: httpx.AsyncClient) -> None:
    """A chunked body declares no length: the limit is applied while it is read."""
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    limit = server.services.settings.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 4096 + 2):
            yield b"x" * 4096

    r = await http.post(inbox.webhook_path, content=chunks())
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert await count_rows(server, t.messages) == 0


async def test_nul_in_the_query_is_refused_by_name(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    body = json.dumps(message("m-nul")).encode()
    r = await http.post(
        f"{inbox.webhook_path}?nonce=a%00b",
        content=body,
        headers={"X-Frontdesk-Signature": sign(inbox.secret, body)},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "nonce", r.text
    assert await count_rows(server, t.messages) == 0


async def test_contact_and_conversation_are_reused(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    a = await receive(http, inbox, "m-1", contact="ann")
    b = await receive(http, inbox, "m-2", contact="ann")
    c = await receive(http, inbox, "m-3", contact="bob")
    assert a["conversation_id"] == b["conversation_id"] != c["conversation_id"]
    assert await count_rows(server, t.contacts) == 2
    conv = (
        await http.get(
            f"/api/v1/workspaces/{ws_id}/conversations/{a['conversation_id']}", headers=admin.headers
        )
    ).json()
    assert conv["unread_count"] == 2
    assert conv["number"] == 1
    assert conv["last_message_preview"] == "Hello, I need help"


async def test_resolved_conversation_is_reopened(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    first = await receive(http, inbox, "m-1")
    url = f"/api/v1/workspaces/{ws_id}/conversations/{first['conversation_id']}"
    r = await http.patch(url, headers=admin.headers, json={"status": "resolved"})
    assert r.json()["status"] == "resolved"
    again = await receive(http, inbox, "m-2")
    assert again["conversation_id"] == first["conversation_id"]
    assert (await http.get(url, headers=admin.headers)).json()["status"] == "open"


async def test_new_conversation_when_not_locked(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id, lock_to_single_conversation=False)
    first = await receive(http, inbox, "m-1")
    url = f"/api/v1/workspaces/{ws_id}/conversations/{first['conversation_id']}"
    await http.patch(url, headers=admin.headers, json={"status": "resolved"})
    again = await receive(http, inbox, "m-2")
    assert again["conversation_id"] != first["conversation_id"]


async def test_delivery_receipt_for_unknown_message_changes_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    r = await post_inbound(http, inbox, {"type": "status", "message_id": 999, "status": "read"})
    assert r.status_code == 200
    assert r.json()["results"] == [{"status": "read", "applied": False}]


async def test_rotating_the_secret_retires_the_old_one(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    await receive(http, inbox, "m-1")  # the inbox is now in the process's cache too
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox.id}/secrets/rotate", headers=admin.headers
    )
    assert r.status_code == 200
    new_secret = r.json()["hmac_secret"]
    assert new_secret != inbox.secret
    old = await post_inbound(http, inbox, message("m-2"))
    assert old.status_code == 401
    inbox.secret = new_secret
    assert (await post_inbound(http, inbox, message("m-3"))).status_code == 200
