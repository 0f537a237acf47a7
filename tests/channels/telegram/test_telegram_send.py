"""Replies to a Telegram customer through the real worker and the fake Bot API: sent with
Telegram's message id, long texts in 4,096-character parts, Telegram's 429 retry_after obeyed,
a 5xx ridden out (sent once), a blocked bot a permanent failure in Telegram's words; files by
the address of our stored copy; the agent's typing as sendChatAction."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import websockets

from frontdesk.channels.base import ChannelError, Outbound
from frontdesk.channels.telegram.adapter import TelegramAdapter
from frontdesk.channels.telegram.sending import split_text
from frontdesk.domain.enums import FailureReason
from tests.channels.telegram.conftest import make_telegram_inbox
from tests.conftest import Server
from tests.factories import Agent, make_admin
from tests.fakes import Answer, FakeProvider
from tests.fakes import telegram as tg
from tests.test_loop import next_event, wait_for_status

CHAT = str(tg.USER["id"])


async def conversation(server: Server, http: httpx.AsyncClient) -> tuple[Agent, int, int]:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    r = await inbox.post(http, tg.update())
    assert r.status_code == 200, r.text
    return admin, ws, r.json()["results"][0]["conversation_id"]


async def reply(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int, text: str) -> tuple[str, int]:
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    r = await http.post(base, headers=admin.headers, json={"text": text})
    assert r.status_code in (200, 201), r.text
    return base, int(r.json()["id"])


async def test_a_reply_is_sent_with_telegrams_message_id(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, conv = await conversation(server, http)
    base, message_id = await reply(http, admin, ws, conv, "It ships today.")
    sent = await wait_for_status(http, admin.headers, base, message_id, "sent")
    assert sent["source_id"] == f"{CHAT}:901"
    [call] = bot_api.calls_to(tg.path("sendMessage"))
    assert call.json() == {"chat_id": CHAT, "text": "It ships today."}


async def test_a_long_reply_goes_in_parts_and_the_receipt_is_the_first(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, conv = await conversation(server, http)
    bot_api.script(tg.path("sendMessage"), tg.sent(501), tg.sent(502), tg.sent(503))
    text = "\n".join(f"Line {n}: " + "word " * 30 for n in range(60))  # about 9,500 characters
    base, message_id = await reply(http, admin, ws, conv, text)
    sent = await wait_for_status(http, admin.headers, base, message_id, "sent")
    assert sent["source_id"] == f"{CHAT}:501"
    parts = [c.json()["text"] for c in bot_api.calls_to(tg.path("sendMessage"))]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert all(p.startswith("Line ") for p in parts)  # split at line ends
    assert "\n".join(parts) == text


async def test_telegrams_retry_after_is_obeyed_and_the_reply_sent_once(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    """The test back-off is at most 0.2 s: a second attempt a second later is retry_after's."""
    admin, ws, conv = await conversation(server, http)
    bot_api.script(tg.path("sendMessage"), tg.error(429, "Too Many Requests: retry after 1", retry_after=1))
    base, message_id = await reply(http, admin, ws, conv, "Soon.")
    sent = await wait_for_status(http, admin.headers, base, message_id, "sent")
    first, second = bot_api.calls_to(tg.path("sendMessage"))
    assert second.time - first.time >= 0.95
    assert sent["delivery_attempts"] == 2


async def test_an_outage_then_success_sends_once(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, conv = await conversation(server, http)
    bot_api.script(tg.path("sendMessage"), tg.error(502, "Bad Gateway"))
    base, message_id = await reply(http, admin, ws, conv, "Back soon.")
    await wait_for_status(http, admin.headers, base, message_id, "sent")
    assert len(bot_api.calls_to(tg.path("sendMessage"))) == 2


async def test_a_blocked_bot_fails_the_reply_at_once_in_telegrams_words(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, conv = await conversation(server, http)
    bot_api.answer(tg.path("sendMessage"), tg.error(403, "Forbidden: bot was blocked by the user"))
    base, message_id = await reply(http, admin, ws, conv, "Hello?")
    failed = await wait_for_status(http, admin.headers, base, message_id, "failed")
    assert failed["failure_reason"] == "recipient_refused"
    assert "403" in failed["failure_detail"] and "bot was blocked by the user" in failed["failure_detail"]
    assert tg.TOKEN not in failed["failure_detail"]
    assert len(bot_api.calls_to(tg.path("sendMessage"))) == 1


async def test_the_agents_typing_is_sent_as_a_chat_action(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, conv = await conversation(server, http)
    async with websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{ws}/stream"), additional_headers=admin.headers
    ) as sock:
        await next_event(sock, "ready")
        await sock.send(orjson.dumps({"type": "typing", "conversation_id": conv, "typing": True}).decode())
        [call] = await bot_api.wait_for(tg.path("sendChatAction"))
    assert call.json() == {"chat_id": CHAT, "action": "typing"}


def outbound(text: str, *files: dict[str, Any]) -> Outbound:
    return Outbound(
        message_id=1,
        conversation_id=1,
        conversation_number=1,
        text=text,
        content_type="text",
        recipient_source_id=CHAT,
        recipient_name="Ann Lee",
        sender_name="Bo",
        attachments=files,
    )


async def test_files_go_by_the_address_of_our_stored_copy(bot_api: FakeProvider) -> None:
    photo = {"file_name": "p.png", "content_type": "image/png", "size": 1000, "url": "https://fd.example/f/1"}
    big = {**photo, "size": 6 * 1_048_576, "url": "https://fd.example/f/2"}
    pdf = {
        "file_name": "a.pdf",
        "content_type": "application/pdf",
        "size": 10,
        "url": "https://fd.example/f/3",
    }
    async with httpx.AsyncClient(timeout=5) as client:
        adapter = TelegramAdapter({}, {"bot_token": tg.TOKEN, "webhook_secret": "s"}, client)
        receipt = await adapter.send(outbound("Your invoice", photo))
        assert receipt.source_id == f"{CHAT}:902"
        await adapter.send(outbound("Here are both", big, pdf))
    [captioned] = bot_api.calls_to(tg.path("sendPhoto"))
    assert captioned.json() == {"chat_id": CHAT, "photo": "https://fd.example/f/1", "caption": "Your invoice"}
    [text] = bot_api.calls_to(tg.path("sendMessage"))
    assert text.json() == {"chat_id": CHAT, "text": "Here are both"}
    docs = [c.json()["document"] for c in bot_api.calls_to(tg.path("sendDocument"))]
    assert docs == ["https://fd.example/f/2", "https://fd.example/f/3"]  # over 5 MB: not as a photo
    huge = {**pdf, "size": 21 * 1_048_576}
    async with httpx.AsyncClient(timeout=5) as client:
        adapter = TelegramAdapter({}, {"bot_token": tg.TOKEN}, client)
        with pytest.raises(ChannelError) as caught:
            await adapter.send(outbound("", huge))
    assert caught.value.code == FailureReason.TOO_LARGE and not caught.value.retryable
    assert len(bot_api.calls_to(tg.path("sendDocument"))) == 2  # refused before any call


async def test_a_later_part_rides_out_a_short_429_within_the_attempt(bot_api: FakeProvider) -> None:
    bot_api.script(
        tg.path("sendMessage"), tg.sent(1), tg.error(429, "Too Many Requests", retry_after=0), tg.sent(2)
    )
    async with httpx.AsyncClient(timeout=5) as client:
        adapter = TelegramAdapter({}, {"bot_token": tg.TOKEN}, client)
        receipt = await adapter.send(outbound("a" * 4000 + "\n" + "b" * 4000))
    assert receipt.source_id == f"{CHAT}:1"
    assert len(bot_api.calls_to(tg.path("sendMessage"))) == 3


async def test_errors_never_show_the_token(
    fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDESK_TELEGRAM_API_BASE", "http://127.0.0.1:9")  # nothing listens
    async with httpx.AsyncClient(timeout=2) as client:
        adapter = TelegramAdapter({}, {"bot_token": tg.TOKEN}, client)
        with pytest.raises(ChannelError) as caught:
            await adapter.send(outbound("hi"))
    assert caught.value.code == FailureReason.CONNECTION_FAILED and caught.value.retryable
    assert tg.TOKEN not in caught.value.detail


@pytest.mark.parametrize("limit", [10, 4096])
def test_split_text_keeps_every_character_within_the_limit(limit: int) -> None:
    text = "first line\n" + "x" * (limit + 5) + " tail words here " + "😀" * (limit // 2 + 3)
    parts = split_text(text, limit)
    assert all(len(p.encode("utf-16-le")) // 2 <= limit for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert split_text("short", limit) == ["short"]


async def test_a_slow_telegram_is_a_retryable_timeout(
    bot_api: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRONTDESK_TELEGRAM_TIMEOUT_SECONDS", "0.5")
    bot_api.script(tg.path("sendMessage"), Answer(delay=3.0))
    async with httpx.AsyncClient(timeout=30) as client:
        adapter = TelegramAdapter({}, {"bot_token": tg.TOKEN}, client)
        with pytest.raises(ChannelError) as caught:
            await asyncio.wait_for(adapter.send(outbound("hi")), 5)
    assert caught.value.code == FailureReason.TIMEOUT and caught.value.retryable


async def _run_send_job(server: Server, worker: Any) -> Any:
    """Claim jobs until the reply's delivery comes up (other jobs run first), and return it."""
    [job] = await worker.queue.claim(1)
    while job.kind != "send_reply":
        await worker._run_leased(job)
        [job] = await worker.queue.claim(1)
    return job


@pytest.mark.parametrize("server", [{"with_worker": False}], indirect=True)
async def test_a_worker_killed_mid_send_does_not_send_the_reply_twice(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    """Telegram takes no idempotency key: a reply whose call was cut off may have been
    delivered, so the worker that takes the job over fails it, saying so, instead of sending
    it again; the agent's own retry sends it."""
    import contextlib
    import dataclasses

    import sqlalchemy as sa

    from frontdesk.app import build_worker
    from frontdesk.store import tables as t
    from frontdesk.store.types import utcnow

    admin, ws, conv = await conversation(server, http)
    bot_api.script(tg.path("sendMessage"), dataclasses.replace(tg.sent(700), delay=2))
    base, message_id = await reply(http, admin, ws, conv, "Hello")
    first = build_worker(server.services)
    job = await _run_send_job(server, first)
    running = asyncio.create_task(first._run_leased(job))
    await bot_api.wait_for(tg.path("sendMessage"))  # Telegram has the message ...
    running.cancel()  # ... and the worker dies before it hears back
    with contextlib.suppress(asyncio.CancelledError):
        await running
    async with server.services.db.write() as tx:  # its lease runs out
        await tx.conn.execute(sa.update(t.jobs).where(t.jobs.c.id == job.id).values(locked_until=utcnow()))
    second = build_worker(server.services)
    await second._run_leased(await _run_send_job(server, second))
    failed = await wait_for_status(http, admin.headers, base, message_id, "failed")
    assert "may have delivered" in failed["failure_detail"]
    assert len(bot_api.calls_to(tg.path("sendMessage"))) == 1
    retry = await http.post(f"{base}/{message_id}/retry", headers=admin.headers)
    assert retry.status_code == 202, retry.text
    await second._run_leased(await _run_send_job(server, second))
    await wait_for_status(http, admin.headers, base, message_id, "sent")
    assert len(bot_api.calls_to(tg.path("sendMessage"))) == 2


async def test_a_retried_long_reply_sends_only_the_parts_not_yet_delivered(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    """The second part meets a lasting outage (more than the attempt's own tries): the job's
    retry starts at that part, and the receipt is still the first part's."""
    admin, ws, conv = await conversation(server, http)
    down = tg.error(502, "Bad Gateway")
    bot_api.script(tg.path("sendMessage"), tg.sent(801), down, down, down, tg.sent(802))
    text = "\n".join(f"Line {n}: " + "word " * 30 for n in range(30))  # two parts
    base, message_id = await reply(http, admin, ws, conv, text)
    sent = await wait_for_status(http, admin.headers, base, message_id, "sent")
    assert sent["source_id"] == f"{CHAT}:801"
    texts = [c.json()["text"] for c in bot_api.calls_to(tg.path("sendMessage"))]
    assert len(texts) == 5 and texts.count(texts[0]) == 1  # the first part went once
    assert texts[1] == texts[4]
