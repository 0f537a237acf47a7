"""The API channel's replies against the fake provider (tests/fakes/): a receiver that rate
limits and fails for a while gets the reply once it recovers, every attempt signed and carrying
the same X-Frontdesk-Message-Id; a lasting refusal fails the reply at once with the receiver's
words."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from frontdesk.channels.base import retry_after_seconds
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, receive
from tests.fakes import Answer, FakeProvider, hmac_sha256_hex, rate_limited, rejected, unavailable
from tests.test_loop import wait_for_status

HOOK = "/replies"


async def test_a_reply_rides_out_rate_limits_and_outages(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for(HOOK))
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    fake_provider.script(HOOK, rate_limited(1), unavailable(503), Answer(200, b'{"source_id": "app-77"}'))
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "On its way."})).json()
    sent = await wait_for_status(http, admin.headers, base, reply["id"], "sent")
    assert sent["source_id"] == "app-77" and sent["delivery_attempts"] == 3
    calls = fake_provider.calls_to(HOOK)
    assert len(calls) == 3
    for call in calls:
        assert call.headers["x-frontdesk-message-id"] == str(reply["id"])
        assert call.headers["x-frontdesk-signature"] == hmac_sha256_hex(inbox.secret, call.body)
        assert call.json()["message"]["text"] == "On its way."
    assert calls[0].time < calls[1].time < calls[2].time


async def test_a_lasting_refusal_fails_the_reply_with_the_receivers_words(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for(HOOK))
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    fake_provider.answer(HOOK, rejected(400, 131047, "Re-engagement message"))
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "Hello again"})).json()
    failed = await wait_for_status(http, admin.headers, base, reply["id"], "failed")
    assert failed["failure_reason"] == "provider_rejected"
    assert "HTTP 400" in failed["failure_detail"] and "Re-engagement message" in failed["failure_detail"]
    assert len(fake_provider.calls_to(HOOK)) == 1


async def test_a_receivers_retry_after_is_honoured(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    """The test back-off is at most 0.2 s: a second attempt a second later is the Retry-After's."""
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=fake_provider.url_for(HOOK))
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    fake_provider.script(HOOK, rate_limited(1))
    base = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    reply = (await http.post(base, headers=admin.headers, json={"text": "Soon."})).json()
    await wait_for_status(http, admin.headers, base, reply["id"], "sent")
    first, second = fake_provider.calls_to(HOOK)
    assert second.time - first.time >= 0.95


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:00:45 GMT", now) == 45.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # already past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
