"""The generic setup hooks against a fake provider: Test connection, the setup step after a save
(its failure a warning, the inbox saved), entry points with QR codes made locally, and an
agent's typing and reading sent out in the background."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import segno  # noqa: F401  (the QR library this installation depends on)
import websockets

from frontdesk.domain.enums import Role
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member, receive
from tests.fakes import Answer, FakeProvider, hmac_sha256_hex, rejected

pytestmark = pytest.mark.usefixtures("loopback_channel")
HOOK = "/hook"


async def loopback_inbox(
    http: httpx.AsyncClient, admin: Agent, ws: int, provider: FakeProvider
) -> dict[str, Any]:
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={
            "name": "Bot",
            "channel_type": "loopback",
            "settings": {"api_base": provider.url},
            "secrets": {"bot_token": "123:abc"},
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_api_check_connection_pings_the_receiver_signed(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for(HOOK))
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/check-connection"
    ok = await http.post(url, headers=admin.headers)
    assert ok.json() == {"ok": True, "detail": "the webhook receiver answered HTTP 200", "code": None}
    [ping] = fake_provider.calls_to(HOOK)
    assert ping.json() == {"event": "ping"}
    assert ping.headers["x-frontdesk-signature"] == hmac_sha256_hex(inbox.secret, ping.body)

    fake_provider.script(HOOK, Answer(401, b"bad signature"))
    refused = (await http.post(url, headers=admin.headers)).json()
    assert (refused["ok"], refused["code"]) == (False, "auth_failed") and "bad signature" in refused["detail"]

    agent = await make_member(server, http, ws, Role.AGENT)
    assert (await http.post(url, headers=agent.headers)).status_code == 403
    assert len(fake_provider.calls_to(HOOK)) == 2  # the agent's attempt called nobody

    bare = await make_inbox(http, admin, ws)
    none = (
        await http.post(f"/api/v1/workspaces/{ws}/inboxes/{bare.id}/check-connection", headers=admin.headers)
    ).json()
    assert (none["ok"], none["code"]) == (False, "misconfigured")
    other_ws = (await make_admin(server, http, "Other"))[0]
    assert (await http.post(url, headers=other_ws.headers)).status_code in (403, 404)


async def test_a_channel_check_connection_calls_its_provider(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    fake_provider.answer("/bot123:abc/getMe", Answer(200, b'{"ok":true,"result":{"username":"shop_bot"}}'))
    inbox = await loopback_inbox(http, admin, ws, fake_provider)
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}/check-connection"
    assert (await http.post(url, headers=admin.headers)).json() == {
        "ok": True,
        "detail": "signed in as @shop_bot",
        "code": None,
    }
    fake_provider.script("/bot123:abc/getMe", Answer(401, b'{"ok":false,"description":"Unauthorized"}'))
    failed = (await http.post(url, headers=admin.headers)).json()
    assert (failed["ok"], failed["code"]) == (False, "auth_failed") and "Unauthorized" in failed["detail"]


async def test_saving_registers_the_webhook_and_a_failure_is_a_warning(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await loopback_inbox(http, admin, ws, fake_provider)
    assert inbox["setup_warning"] is None
    [registered] = fake_provider.calls_to("/bot123:abc/setWebhook")
    expected = f"{server.services.settings.effective_public_url.rstrip('/')}/webhooks/loopback/{inbox['uid']}"
    assert registered.json() == {"url": expected}

    fake_provider.answer("/bot123:abc/setWebhook", rejected(400, 400, "Bad Request: bad webhook"))
    r = await http.patch(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}", headers=admin.headers, json={"name": "Renamed"}
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["setup_warning"].startswith("provider_rejected:")
        and "bad webhook" in r.json()["setup_warning"]
    )
    saved = await http.get(f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}", headers=admin.headers)
    assert saved.json()["name"] == "Renamed"  # the inbox stays saved

    # An API inbox has no setup step: nothing is called, no warning.
    api = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "API", "channel_type": "api", "settings": {}},
    )
    assert api.json()["setup_warning"] is None


async def test_entry_points_and_their_qr_codes(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await loopback_inbox(http, admin, ws, fake_provider)
    base = f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}/entry-points"
    [point] = (await http.get(base, headers=admin.headers)).json()
    assert point == {
        "kind": "deep_link",
        "label": "Open the chat",
        "url": f"https://t.example/frontdesk_test_bot?start={inbox['uid']}",
        "qr_svg_url": f"{base}/0/qr.svg",
        "qr_png_url": f"{base}/0/qr.png",
    }
    svg = await http.get(point["qr_svg_url"], headers=admin.headers)
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
    png = await http.get(point["qr_png_url"], headers=admin.headers)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert (await http.get(f"{base}/1/qr.png", headers=admin.headers)).status_code == 404
    assert (await http.get(f"{base}/0/qr.gif", headers=admin.headers)).status_code == 422
    api = await make_inbox(http, admin, ws)
    assert (
        await http.get(f"/api/v1/workspaces/{ws}/inboxes/{api.id}/entry-points", headers=admin.headers)
    ).json() == []


async def next_event(sock: Any, kind: str) -> dict[str, Any]:
    while True:
        event = orjson.loads(await asyncio.wait_for(sock.recv(), 5))
        if event["type"] == kind:
            return dict(event)


async def test_typing_and_reading_go_out_signed_only_when_switched_on(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    quiet = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for("/quiet"))
    loud = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for(HOOK), send_indicators=True)
    quiet_conv = (await receive(http, quiet, "q-1", contact="c-q"))["conversation_id"]
    conv = (await receive(http, loud, "m-1", contact="c-9"))["conversation_id"]
    fake_provider.answer(HOOK, Answer(delay=3.0))  # a slow receiver never holds the agent

    async with websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws}/stream"), additional_headers=admin.headers
    ) as sock:
        await next_event(sock, "ready")
        for c in (conv, conv, quiet_conv):  # the second is within the typing throttle
            await sock.send(orjson.dumps({"type": "typing", "conversation_id": c, "typing": True}).decode())
        started = asyncio.get_running_loop().time()
        read = await http.post(f"/api/v1/workspaces/{ws}/conversations/{conv}/read", headers=admin.headers)
        assert read.status_code == 200 and asyncio.get_running_loop().time() - started < 2.0
        await http.post(f"/api/v1/workspaces/{ws}/conversations/{quiet_conv}/read", headers=admin.headers)
        calls = await fake_provider.wait_for(HOOK, 2)
    by_event = {c.json()["event"]: c for c in calls}
    assert by_event["typing"].json() == {"event": "typing", "contact": {"source_id": "c-9"}}
    assert by_event["read"].json() == {
        "event": "read",
        "contact": {"source_id": "c-9"},
        "up_to_source_id": "m-1",
    }
    for call in calls:
        assert call.headers["x-frontdesk-signature"] == hmac_sha256_hex(loud.secret, call.body)
    await asyncio.sleep(0.3)
    assert len(fake_provider.calls_to(HOOK)) == 2 and fake_provider.calls_to("/quiet") == []


async def test_channel_types_say_which_channels_test_a_connection(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, _ = await make_admin(server, http)
    types = {c["type"]: c for c in (await http.get("/api/v1/channel-types", headers=admin.headers)).json()}
    assert types["api"]["checks_connection"] is True
    assert types["loopback"]["checks_connection"] is True
    assert types["web"]["checks_connection"] is False  # the seam's default: no provider to call
