"""LINE replies through the real worker against the fake Messaging API: the reply token while
it is valid and unused (free), else push with a stable X-Line-Retry-Key; an expired or used
token falls back to push; 5xx then success is sent once; an answer lost in flight is not sent
twice; a lasting refusal fails with LINE's code and words; the monthly quota refuses a reply
that could only go by push (a reply by a valid token still goes); typing starts LINE's loading
animation; Test connection and the add-friend link."""

from __future__ import annotations

import json
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
import websockets
from linebot.v3.messaging import PushMessageRequest, ReplyMessageRequest

from frontdesk.channels.line.adapter import retry_key
from frontdesk.channels.line.quota import read_all_quotas
from frontdesk.store import tables as t
from tests.channels.line.line_support import LineInbox, deliver, line_inbox, until
from tests.conftest import Server
from tests.factories import Agent, make_admin
from tests.fakes import Answer, FakeProvider, line, rate_limited, unavailable
from tests.test_loop import wait_for_status


async def conversation(
    http: httpx.AsyncClient, inbox: LineInbox, *, age_seconds: float = 0, token: str = "rt-1"
) -> int:
    at = line.now_ms() - int(age_seconds * 1000)
    [result] = await deliver(http, inbox, line.text("Do you deliver?", at=at, reply_token=token))
    conv: int = result["conversation_id"]
    return conv


async def send(
    http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, text: str = "Yes, we do."
) -> httpx.Response:
    return await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers, json={"text": text}
    )


async def sent_reply(
    http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, status: str = "sent"
) -> dict[str, Any]:
    r = await send(http, admin, ws, conv)
    assert r.status_code == 201, r.text
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    return await wait_for_status(http, admin.headers, base, r.json()["id"], status)


async def test_a_quick_reply_uses_the_free_reply_token(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, token="rt-fresh")
    fake_provider.answer(line.REPLY, line.sent("5001"))
    message = await sent_reply(http, admin, ws, conv)
    assert message["source_id"] == "5001"
    [call] = fake_provider.calls_to(line.REPLY)
    assert call.json() == {"replyToken": "rt-fresh", "messages": [{"type": "text", "text": "Yes, we do."}]}
    assert ReplyMessageRequest.from_json(call.body.decode()).reply_token == "rt-fresh"  # the SDK agrees
    assert call.headers["authorization"] == f"Bearer {line.ACCESS_TOKEN}"
    assert fake_provider.calls_to(line.PUSH) == []
    # A second reply to the same customer message: the token is spent, so it is pushed.
    fake_provider.answer(line.PUSH, line.sent("5002"))
    second = await sent_reply(http, admin, ws, conv)
    assert second["source_id"] == "5002" and len(fake_provider.calls_to(line.REPLY)) == 1
    [push] = fake_provider.calls_to(line.PUSH)
    assert push.json()["to"] == line.USER
    assert push.headers["x-line-retry-key"] == retry_key(line.CHANNEL_ID, second["id"])


async def test_an_expired_reply_token_goes_by_push(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.answer(line.PUSH, line.sent("6001"))
    message = await sent_reply(http, admin, ws, conv)
    assert message["source_id"] == "6001" and fake_provider.calls_to(line.REPLY) == []


async def test_a_token_line_refuses_falls_back_to_push(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox)
    fake_provider.answer(line.REPLY, line.invalid_reply_token())
    fake_provider.answer(line.PUSH, line.sent("7001"))
    message = await sent_reply(http, admin, ws, conv)
    assert message["source_id"] == "7001" and message["delivery_attempts"] == 1
    assert len(fake_provider.calls_to(line.REPLY)) == 1 and len(fake_provider.calls_to(line.PUSH)) == 1


async def test_outages_then_success_push_once_with_one_retry_key(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.script(line.PUSH, unavailable(500), rate_limited(1), line.sent("8001"))
    message = await sent_reply(http, admin, ws, conv)
    calls = fake_provider.calls_to(line.PUSH)
    assert len(calls) == 3 and message["delivery_attempts"] == 3 and message["source_id"] == "8001"
    assert len({c.headers["x-line-retry-key"] for c in calls}) == 1
    assert calls[2].time - calls[1].time >= 0.95  # LINE's Retry-After, not our 0.2 s back-off


async def test_an_answer_lost_in_flight_is_not_sent_twice(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    """The first push reaches LINE but its answer never comes back (the worker times out, as a
    killed worker would leave it); the retry carries the same key, LINE answers 409 "already
    accepted", and the reply is marked sent without a second message."""
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.script(line.PUSH, Answer(200, b"{}", delay=2.5), line.accepted_before("9001"))
    message = await sent_reply(http, admin, ws, conv)
    first, second = fake_provider.calls_to(line.PUSH)
    assert first.headers["x-line-retry-key"] == second.headers["x-line-retry-key"]
    assert message["source_id"] == "9001"


async def test_a_lasting_refusal_fails_with_lines_words(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.answer(
        line.PUSH,
        line.error(400, "The request body has 1 error(s)", ("May not be empty", "messages[0].text")),
    )
    failed = await sent_reply(http, admin, ws, conv, status="failed")
    assert failed["failure_reason"] == "provider_rejected"
    assert (
        "HTTP 400" in failed["failure_detail"]
        and "messages[0].text: May not be empty" in failed["failure_detail"]
    )
    assert len(fake_provider.calls_to(line.PUSH)) == 1


async def test_the_monthly_limit_fails_a_push_at_once(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.answer(line.PUSH, line.error(429, "You have reached your monthly limit."))
    failed = await sent_reply(http, admin, ws, conv, status="failed")
    assert failed["failure_reason"] == "quota_exhausted" and "monthly limit" in failed["failure_detail"]
    assert len(fake_provider.calls_to(line.PUSH)) == 1


async def _window(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int) -> dict[str, Any]:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=admin.headers)
    window: dict[str, Any] = r.json()["reply_window"]
    return window


async def test_a_used_up_quota_refuses_push_only_replies(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    old = await conversation(http, inbox, age_seconds=120)
    assert (await _window(http, admin, ws, old))["state"] == "none"
    fake_provider.answer(line.QUOTA, line.quota(200))
    fake_provider.answer(line.CONSUMPTION, line.consumption(200))

    async def exhausted() -> dict[str, Any] | None:
        window = await _window(http, admin, ws, old)
        return window if window["refusal"] == "quota_exhausted" else None

    window = await until(exhausted)
    assert window["state"] == "closed" and window["allowed"] == []
    refused = await send(http, admin, ws, old)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "quota_exhausted"
    # The customer writes again: a reply by its fresh token is free and still goes.
    [fresh] = await deliver(http, inbox, line.text("Hello?", user="U" + "1" * 32, reply_token="rt-new"))
    open_window = await _window(http, admin, ws, fresh["conversation_id"])
    assert open_window["allowed"] == ["free_text"] and open_window["refusal"] is None
    fake_provider.answer(line.REPLY, line.sent("1101"))
    await sent_reply(http, admin, ws, fresh["conversation_id"])
    assert fake_provider.calls_to(line.REPLY)[0].json()["replyToken"] == "rt-new"
    assert fake_provider.calls_to(line.PUSH) == []
    # That token is now spent: the next reply would need a push, and is refused.
    again = await send(http, admin, ws, fresh["conversation_id"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "quota_exhausted"


async def test_test_connection_says_what_is_wrong_and_the_quota(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/check-connection"
    fake_provider.answer(line.BOT_INFO, line.bot_info())
    fake_provider.answer(line.QUOTA, line.quota(5000))
    fake_provider.answer(line.CONSUMPTION, line.consumption(1234))
    ok = (await http.post(url, headers=admin.headers)).json()
    assert (
        ok["ok"] is True and "Acme Support" in ok["detail"] and "used 1234 of 5000 this month" in ok["detail"]
    )
    fake_provider.answer(line.BOT_INFO, line.error(401, "Authentication failed"))
    bad = (await http.post(url, headers=admin.headers)).json()
    assert (bad["ok"], bad["code"]) == (False, "auth_failed") and "access token" in bad["detail"]
    [call, *_] = fake_provider.calls_to(line.BOT_INFO)
    assert call.headers["authorization"] == f"Bearer {line.ACCESS_TOKEN}"


async def test_the_add_friend_link_is_an_entry_point(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    base = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/entry-points"
    [point] = (await http.get(base, headers=admin.headers)).json()
    assert point["url"] == "https://line.me/R/ti/p/%40123abcd" and point["kind"] == "deep_link"
    assert (await http.get(point["qr_svg_url"], headers=admin.headers)).status_code == 200


async def test_secrets_are_write_only_and_the_settings_checked(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    shown = (await http.get(f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}", headers=admin.headers)).text
    assert line.CHANNEL_SECRET not in shown and line.ACCESS_TOKEN not in shown
    bad = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "x", "channel_type": "line", "settings": {"channel_id": "abc"}, "secrets": {}},
    )
    assert bad.status_code == 422 or bad.status_code == 400, bad.text


async def test_typing_starts_lines_loading_animation(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox)
    async with websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws}/stream"), additional_headers=admin.headers
    ) as sock:
        while json.loads(await sock.recv()).get("type") != "ready":
            pass
        await sock.send(orjson.dumps({"type": "typing", "conversation_id": conv, "typing": True}).decode())
        [call] = await fake_provider.wait_for(line.LOADING)
    assert call.json() == {"chatId": line.USER, "loadingSeconds": 10}


async def test_reading_the_conversation_marks_it_read_with_the_latest_token(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    earlier, latest = line.text("one"), line.text("two")
    latest["message"]["markAsReadToken"] = "mr-latest"
    [result, _] = await deliver(http, inbox, earlier, latest)
    read = await http.post(
        f"/api/v1/workspaces/{ws}/conversations/{result['conversation_id']}/read", headers=admin.headers
    )
    assert read.status_code == 200
    [call] = await fake_provider.wait_for(line.MARK_READ)
    assert call.json() == {"markAsReadToken": "mr-latest"}


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2


@pytest.mark.parametrize("server", [{"public_url": "https://desk.example.com"}], indirect=True)
async def test_images_go_as_image_messages_and_files_as_links(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    conv = await conversation(http, inbox, age_seconds=120)
    fake_provider.script(line.PUSH, line.sent("1201"), line.sent("1202"))
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/attachments"
    r = await http.post(
        url, headers=admin.headers, files={"file": ("shop.png", PNG, "image/png")}, data={"text": "Here"}
    )
    assert r.status_code == 201, r.text
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    await wait_for_status(http, admin.headers, base, r.json()["id"], "sent")
    [stored] = r.json()["data"]["attachments"]
    r2 = await http.post(
        url, headers=admin.headers, files={"file": ("menu.pdf", b"%PDF-1.4\n" + bytes(50), "application/pdf")}
    )
    await wait_for_status(http, admin.headers, base, r2.json()["id"], "sent")
    first, second = (c.json()["messages"] for c in fake_provider.calls_to(line.PUSH))
    image_url = "https://desk.example.com" + stored["url"]
    assert first == [
        {"type": "text", "text": "Here"},
        {"type": "image", "originalContentUrl": image_url, "previewImageUrl": image_url},
    ]
    assert second[0]["type"] == "text" and second[0]["text"].startswith("menu.pdf: https://desk.example.com/")
    # line-bot-sdk reads our push bodies as the models it would send itself.
    for call in fake_provider.calls_to(line.PUSH):
        request = PushMessageRequest.from_json(call.body.decode())
        assert request.to == line.USER and request.messages
    parsed = PushMessageRequest.from_json(fake_provider.calls_to(line.PUSH)[0].body.decode())
    assert [type(m).__name__ for m in parsed.messages] == ["TextMessage", "ImageMessage"]


async def _quota_warnings(server: Server) -> list[dict[str, Any]]:
    async with server.services.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.events.c.payload)
            .where(t.events.c.type == "inbox.quota_warning")
            .order_by(t.events.c.seq)
        )
        return [dict(p) for p in rows.scalars()]


@pytest.fixture
def quota_read_by_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The poller reads once at start (before any inbox) and then not during the test."""
    monkeypatch.setenv("FRONTDESK_LINE_QUOTA_POLL_SECONDS", "3600")


async def test_administrators_are_warned_once_at_80_and_once_at_100_percent(
    quota_read_by_the_test: None, server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    fake_provider.answer(line.QUOTA, line.quota(200))
    for used, warnings in ((100, 0), (170, 1), (180, 1), (200, 2), (200, 2)):
        fake_provider.answer(line.CONSUMPTION, line.consumption(used))
        await read_all_quotas(server.services)
        assert len(await _quota_warnings(server)) == warnings, used
    high, full = await _quota_warnings(server)
    assert high["inbox_id"] == full["inbox_id"] == inbox.id
    assert (high["level"], high["quota"]["used"], high["quota"]["limit"]) == (80, 170, 200)
    assert (full["level"], full["quota"]["used"]) == (100, 200)
    # A new month reads lower; the next crossing warns again.
    fake_provider.answer(line.CONSUMPTION, line.consumption(3))
    await read_all_quotas(server.services)
    fake_provider.answer(line.CONSUMPTION, line.consumption(165))
    await read_all_quotas(server.services)
    assert [w["level"] for w in await _quota_warnings(server)] == [80, 100, 80]
