"""WeChat replies through the real worker against the fake WeChat API: the shared access token,
its refresh on 40001, outages retried (sent once), 45015 / 45047 as clear failures that set the
conversation's window, the window's rules (5 in 48 h, 3 in the minute after a menu click),
images uploaded before they are sent, and typing."""

from __future__ import annotations

import contextlib
import time

import httpx
import pytest

from tests.channels.wechat.support import (
    WechatInbox,
    conversation,
    conversations,
    reply,
    status_of,
    wechat_inbox,
)
from tests.conftest import Server
from tests.fakes import Answer, FakeProvider, unavailable
from tests.fakes.wechat import (
    OPENID,
    SEND_PATH,
    TOKEN_PATH,
    TYPING_PATH,
    UPLOAD_PATH,
    deliver,
    error,
    event,
    ok,
    signed,
    text,
    token_answer,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


async def _customer_wrote(http: httpx.AsyncClient, inbox: WechatInbox, msg_id: str = "1") -> int:
    r = await deliver(http, inbox.path, signed(text("I need help", msg_id=msg_id)))
    assert r.status_code == 200, r.text
    [conv] = await conversations(http, inbox)
    return int(conv["id"])


async def _inbox(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> WechatInbox:
    return await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")


async def test_a_reply_goes_as_a_customer_service_message_with_one_shared_token(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    first = (await reply(http, inbox, conv, "您好 — we are on it")).json()
    await status_of(http, inbox, conv, first["id"], "sent")
    second = (await reply(http, inbox, conv, "Second")).json()
    await status_of(http, inbox, conv, second["id"], "sent")
    one, two = fake_provider.calls_to(SEND_PATH)
    assert two.query["access_token"] == "TOKEN-1"
    assert one.query["access_token"] == "TOKEN-1"
    # UTF-8 JSON, not \u escapes (WeChat would show those literally).
    assert "您好".encode() in one.body
    assert one.json() == {"touser": OPENID, "msgtype": "text", "text": {"content": "您好 — we are on it"}}
    [token_call] = fake_provider.calls_to(TOKEN_PATH)  # cached for the second reply
    assert token_call.json()["appid"] and token_call.json()["force_refresh"] is False


async def test_an_invalid_token_is_refreshed_at_once_and_the_send_retried_once(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(TOKEN_PATH, token_answer("OLD"), token_answer("NEW"))
    fake_provider.script(SEND_PATH, error(40001, "invalid credential, access_token is invalid or not latest"))
    sent = (await reply(http, inbox, conv, "Hello")).json()
    done = await status_of(http, inbox, conv, sent["id"], "sent")
    assert done["delivery_attempts"] == 1
    first, second = fake_provider.calls_to(SEND_PATH)
    assert first.query["access_token"] == "OLD" and second.query["access_token"] == "NEW"
    tokens = fake_provider.calls_to(TOKEN_PATH)
    assert [c.json()["force_refresh"] for c in tokens] == [False, True]


async def test_an_outage_is_retried_and_the_reply_sent_once(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(SEND_PATH, unavailable(503), error(-1, "system error"), ok())
    sent = (await reply(http, inbox, conv, "Hello")).json()
    done = await status_of(http, inbox, conv, sent["id"], "sent")
    assert done["delivery_attempts"] == 3
    assert len(fake_provider.calls_to(SEND_PATH)) == 3


async def test_window_closed_fails_clearly_and_closes_the_window(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(SEND_PATH, error(45015, "response out of time limit or subscription is canceled"))
    sent = (await reply(http, inbox, conv, "Hello")).json()
    failed = await status_of(http, inbox, conv, sent["id"], "failed")
    assert failed["failure_reason"] == "window_closed"
    assert "45015" in failed["failure_detail"] and "out of time limit" in failed["failure_detail"]
    assert len(fake_provider.calls_to(SEND_PATH)) == 1
    window = (await conversation(http, inbox, conv))["reply_window"]
    assert window["state"] == "closed"
    again = await reply(http, inbox, conv, "Still there?")
    assert again.status_code == 409 and again.json()["error"]["code"] == "reply_window_closed"


async def test_message_limit_fails_clearly_and_uses_up_the_window(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(SEND_PATH, error(45047, "out of response count limit"))
    sent = (await reply(http, inbox, conv, "Hello")).json()
    failed = await status_of(http, inbox, conv, sent["id"], "failed")
    assert failed["failure_reason"] == "reply_limit_reached"
    assert "45047" in failed["failure_detail"]
    window = (await conversation(http, inbox, conv))["reply_window"]
    assert window["messages_left"] == 0
    again = await reply(http, inbox, conv, "One more")
    assert again.status_code == 409 and again.json()["error"]["code"] == "reply_limit_reached"


async def test_five_replies_after_a_message_then_the_composer_refuses(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    window = (await conversation(http, inbox, conv))["reply_window"]
    assert window["state"] == "open" and window["messages_left"] == 5
    for n in range(5):
        assert (await reply(http, inbox, conv, f"reply {n}")).status_code == 201
    sixth = await reply(http, inbox, conv, "sixth")
    assert sixth.status_code == 409 and sixth.json()["error"]["code"] == "reply_limit_reached"
    # The customer writes again: five more.
    await deliver(http, inbox.path, signed(text("thanks", msg_id="2")))
    assert (await conversation(http, inbox, conv))["reply_window"]["messages_left"] == 5


async def test_a_menu_click_opens_three_replies_for_a_minute(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    await deliver(http, inbox.path, signed(event("CLICK", EventKey="MENU_HELP", created=int(time.time()))))
    [row] = await conversations(http, inbox)
    conv = int(row["id"])
    window = (await conversation(http, inbox, conv))["reply_window"]
    assert window["messages_left"] == 3 and window["state"] == "closing"
    from datetime import UTC, datetime

    closes = datetime.fromisoformat(window["closes_at"])
    assert 0 < (closes - datetime.now(UTC)).total_seconds() <= 61
    for n in range(3):
        assert (await reply(http, inbox, conv, f"reply {n}")).status_code == 201
    assert (await reply(http, inbox, conv, "fourth")).status_code == 409
    # A written message then opens the ordinary window.
    await deliver(http, inbox.path, signed(text("and a question", msg_id="9")))
    window = (await conversation(http, inbox, conv))["reply_window"]
    assert window["messages_left"] == 5 and window["state"] == "open"


async def test_an_image_is_uploaded_then_sent_by_its_media_id(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    r = await http.post(
        inbox.api(f"conversations/{conv}/attachments"),
        headers=inbox.admin.headers,
        files={"file": ("receipt.png", PNG, "image/png")},
        data={"text": "Your receipt"},
    )
    assert r.status_code == 201, r.text
    await status_of(http, inbox, conv, r.json()["id"], "sent")
    [upload] = fake_provider.calls_to(UPLOAD_PATH)
    assert upload.query["type"] == "image" and PNG in upload.body
    first, second = fake_provider.calls_to(SEND_PATH)
    assert first.json()["msgtype"] == "text" and first.json()["text"]["content"] == "Your receipt"
    assert second.json() == {"touser": OPENID, "msgtype": "image", "image": {"media_id": "UPLOADED-1"}}


async def test_a_retried_reply_does_not_send_its_delivered_parts_again(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(SEND_PATH, ok(), unavailable(502))  # the text goes, the image's send fails once
    r = await http.post(
        inbox.api(f"conversations/{conv}/attachments"),
        headers=inbox.admin.headers,
        files={"file": ("receipt.png", PNG, "image/png")},
        data={"text": "Your receipt"},
    )
    await status_of(http, inbox, conv, r.json()["id"], "sent")
    kinds = [c.json()["msgtype"] for c in fake_provider.calls_to(SEND_PATH)]
    assert kinds == ["text", "image", "image"]


async def test_a_file_wechat_cannot_take_fails_without_a_call(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    r = await http.post(
        inbox.api(f"conversations/{conv}/attachments"),
        headers=inbox.admin.headers,
        files={"file": ("terms.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
    )
    assert r.status_code in (201, 409, 422), r.text
    if r.status_code == 201:
        failed = await status_of(http, inbox, conv, r.json()["id"], "failed")
        assert failed["failure_reason"] == "invalid_message"
    assert fake_provider.calls_to(SEND_PATH) == []


async def test_typing_is_sent_while_the_agent_types(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from frontdesk.http.channel_hooks import indicate_typing

    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    indicate_typing(server.services, conv)
    [call] = await fake_provider.wait_for(TYPING_PATH)
    assert call.json() == {"touser": OPENID, "command": "Typing"}


@pytest.mark.parametrize("server", [{"with_worker": False}], indirect=True)
async def test_a_worker_killed_mid_send_does_not_send_the_reply_twice(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WeChat takes no idempotency key: a reply whose call was cut off may have been delivered,
    so the worker that takes over the job fails it, saying so, instead of sending it again."""
    import asyncio

    import sqlalchemy as sa

    from frontdesk.app import build_worker
    from frontdesk.store import tables as t
    from frontdesk.store.types import utcnow

    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    fake_provider.script(SEND_PATH, Answer(200, b'{"errcode": 0, "errmsg": "ok"}', delay=2))
    sent = (await reply(http, inbox, conv, "Hello")).json()
    first = build_worker(server.services)
    [job] = await first.queue.claim(1)
    while job.kind != "send_reply":  # the new contact's profile look-up came first
        await first._run_leased(job)
        [job] = await first.queue.claim(1)
    running = asyncio.create_task(first._run_leased(job))
    await fake_provider.wait_for(SEND_PATH)  # WeChat has the message ...
    running.cancel()  # ... and the worker dies before it hears back
    with contextlib.suppress(asyncio.CancelledError):
        await running
    async with server.services.db.write() as tx:  # its lease runs out
        await tx.conn.execute(sa.update(t.jobs).where(t.jobs.c.id == job.id).values(locked_until=utcnow()))
    second = build_worker(server.services)
    [again] = await second.queue.claim(1)
    await second._run_leased(again)
    failed = await status_of(http, inbox, conv, sent["id"], "failed")
    assert "may have" in failed["failure_detail"]
    assert len(fake_provider.calls_to(SEND_PATH)) == 1
    # The agent sends it again on purpose: it goes.
    retry = await http.post(
        inbox.api(f"conversations/{conv}/messages/{sent['id']}/retry"), headers=inbox.admin.headers
    )
    assert retry.status_code == 202, retry.text
    [job3] = await second.queue.claim(1)
    await second._run_leased(job3)
    await status_of(http, inbox, conv, sent["id"], "sent")
    assert len(fake_provider.calls_to(SEND_PATH)) == 2


async def test_a_menu_click_never_shortens_an_open_window(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await _inbox(server, http, fake_provider, monkeypatch)
    conv = await _customer_wrote(http, inbox)
    assert (await reply(http, inbox, conv, "one")).status_code == 201
    before = (await conversation(http, inbox, conv))["reply_window"]
    await deliver(http, inbox.path, signed(event("CLICK", EventKey="MENU_HELP", created=int(time.time()))))
    after = (await conversation(http, inbox, conv))["reply_window"]
    assert after["messages_left"] == before["messages_left"] == 4
    assert after["closes_at"] == before["closes_at"] and after["state"] == "open"
