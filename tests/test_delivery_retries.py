"""A reply through a provider outage: it waits between attempts showing why and when the next one
comes, an agent may send it at once or cancel it, and a cancel is never beaten by a worker that
already claimed the job. Everything runs through the real worker against tests/receiver.py."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets

from frontdesk.actions.delivery import do_begin_attempt
from frontdesk.app import build_worker
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.rules import retry_delay, retry_span
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member, receive
from tests.receiver import Receiver
from tests.test_conversation_actions import jobs_of
from tests.test_loop import next_event, wait_for_status

DAY = 24 * 3600.0
# Long enough that a test acts while the reply waits, short enough never to be reached.
WAITING = {"job_backoff_base_seconds": 60.0, "job_backoff_max_seconds": 60.0, "job_max_attempts": 5}


def test_the_default_policy_retries_for_more_than_a_day() -> None:
    # The declared defaults, not Settings(): an environment variable of the machine must not count.
    default = {name: field.default for name, field in Settings.model_fields.items()}
    attempts, base, cap = (
        default["job_max_attempts"],
        default["job_backoff_base_seconds"],
        default["job_backoff_max_seconds"],
    )
    shortest, longest = retry_span(attempts, base, cap)
    assert shortest >= DAY, f"the default retry schedule may give up after {shortest / 3600:.1f} h"
    assert longest < 3 * DAY
    assert cap <= 1800  # an outage's end is noticed within half an hour


def test_retry_span_is_the_sum_of_the_jittered_delays() -> None:
    # Delays after attempts 1..3 (the 4th is the last): ceilings 2, 4, 5 (capped).
    assert retry_span(4, 2, 5) == (5.5, 11.0)
    assert retry_span(1, 2, 5) == (0.0, 0.0)  # one attempt: no waiting at all

    class Fixed:
        def __init__(self, r: float) -> None:
            self.r = r

        def random(self) -> float:
            return self.r

    for r, which in ((0.0, 0), (1.0, 1)):
        total = sum(retry_delay(n, 2, 5, Fixed(r)) for n in range(1, 4))  # type: ignore[arg-type]
        assert total == retry_span(4, 2, 5)[which]


async def reply_to(
    server: Server, http: httpx.AsyncClient, receiver: Receiver, text: str = "It ships today."
) -> tuple[Agent, int, str, dict[str, Any]]:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    thread = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    r = await http.post(thread, headers=admin.headers, json={"text": text})
    assert r.status_code == 201, r.text
    return admin, ws, thread, r.json()


async def next_update(sock: Any, message_id: int) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = (await next_event(sock, "message.updated"))["data"]["message"]
        if message["id"] == message_id:
            return message


async def current(http: httpx.AsyncClient, admin: Agent, thread: str, message_id: int) -> dict[str, Any]:
    messages = (await http.get(thread, headers=admin.headers)).json()["messages"]
    found: dict[str, Any] = next(m for m in messages if m["id"] == message_id)
    return found


@pytest.mark.parametrize(
    "server",
    [{"job_backoff_base_seconds": 0.3, "job_backoff_max_seconds": 0.3, "job_max_attempts": 5}],
    indirect=True,
)
async def test_a_reply_waits_through_an_outage_then_goes_out(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [503, 503]  # down for two attempts, then back
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, webhook_url=receiver.url)
    receiver.secret = inbox.secret
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    thread = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=admin.headers) as sock:
        await next_event(sock, "ready")
        reply = (await http.post(thread, headers=admin.headers, json={"text": "hi"})).json()
        assert (reply["delivery_attempts"], reply["next_attempt_at"]) == (0, None)
        assert reply["failure_reason"] is None
        for attempt in (1, 2):
            before = utcnow()
            waiting = await next_update(sock, reply["id"])
            assert waiting["delivery_status"] == "queued"
            assert waiting["delivery_attempts"] == attempt
            assert waiting["failure_reason"] == FailureReason.PROVIDER_UNAVAILABLE
            assert waiting["failure_detail"].startswith("webhook receiver answered HTTP 503")
            due = datetime.fromisoformat(waiting["next_attempt_at"])
            assert before + timedelta(seconds=0.1) < due < utcnow() + timedelta(seconds=0.35)
            # The API says the same as the event.
            assert await current(http, admin, thread, reply["id"]) == waiting
        sent = await next_update(sock, reply["id"])
    assert sent["delivery_status"] == "sent" and sent["delivery_attempts"] == 3
    assert (sent["next_attempt_at"], sent["failure_reason"], sent["failure_detail"]) == (None, None, None)
    assert [d.status for d in receiver.deliveries] == [503, 503, 200]
    assert list(receiver.delivered) == [str(reply["id"])]


@pytest.mark.parametrize("server", [WAITING], indirect=True)
async def test_retry_now_sends_a_waiting_reply_at_once(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    admin, _ws, thread, reply = await reply_to(server, http, receiver)
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    async with asyncio.timeout(5):
        while (waiting := await current(http, admin, thread, reply["id"]))["next_attempt_at"] is None:
            await asyncio.sleep(0.02)
    assert datetime.fromisoformat(waiting["next_attempt_at"]) > utcnow() + timedelta(seconds=20)
    r = await http.post(f"{thread}/{reply['id']}/retry", headers=admin.headers)
    assert r.status_code == 202, r.text
    now = r.json()
    assert (now["delivery_status"], now["next_attempt_at"], now["delivery_attempts"]) == ("queued", None, 1)
    assert now["failure_reason"] == "provider_unavailable"  # the last failure is still the last one
    sent = await wait_for_status(http, admin.headers, thread, reply["id"], "sent")
    assert sent["delivery_attempts"] == 2
    assert [d.status for d in receiver.deliveries] == [503, 200]
    assert await jobs_of(server, reply["id"]) == []
    # A reply that went out is neither retried nor cancelled.
    for action, code in (("retry", "not_failed"), ("cancel", "not_cancellable")):
        again = await http.post(f"{thread}/{reply['id']}/{action}", headers=admin.headers)
        assert again.status_code == 409 and again.json()["error"]["code"] == code


@pytest.mark.parametrize("server", [WAITING], indirect=True)
async def test_a_cancelled_reply_is_never_sent(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    admin, ws, thread, reply = await reply_to(server, http, receiver)
    async with asyncio.timeout(5):
        while (await current(http, admin, thread, reply["id"]))["next_attempt_at"] is None:
            await asyncio.sleep(0.02)
    sock_url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(sock_url, additional_headers=admin.headers) as sock:
        await next_event(sock, "ready")
        r = await http.post(f"{thread}/{reply['id']}/cancel", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert (r.json()["delivery_status"], r.json()["next_attempt_at"]) == ("cancelled", None)
        assert await next_update(sock, reply["id"]) == r.json()
    assert await jobs_of(server, reply["id"]) == []
    for action, code in (("retry", "not_failed"), ("cancel", "not_cancellable")):
        again = await http.post(f"{thread}/{reply['id']}/{action}", headers=admin.headers)
        assert again.status_code == 409 and again.json()["error"]["code"] == code
    assert await current(http, admin, thread, reply["id"]) == r.json()
    assert len(receiver.deliveries) == 1  # only the attempt before the cancel


@pytest.mark.parametrize("server", [WAITING], indirect=True)
async def test_only_who_sees_the_conversation_may_retry_or_cancel(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    admin, ws, thread, reply = await reply_to(server, http, receiver)
    async with asyncio.timeout(5):
        while (waiting := await current(http, admin, thread, reply["id"]))["next_attempt_at"] is None:
            await asyncio.sleep(0.02)
    outsider = await make_member(server, http, ws)
    await make_inbox(http, admin, ws, members=[outsider.user_id])  # an agent of another inbox only
    for action in ("retry", "cancel"):
        r = await http.post(f"{thread}/{reply['id']}/{action}", headers=outsider.headers)
        assert r.status_code == 404, r.text
    assert await current(http, admin, thread, reply["id"]) == waiting
    assert await jobs_of(server, reply["id"]) == ["queued"]


@pytest.mark.parametrize("server", [{"with_worker": False}], indirect=True)
async def test_a_worker_that_claimed_the_job_does_not_send_a_cancelled_reply(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, _ws, thread, reply = await reply_to(server, http, receiver)
    worker = build_worker(server.services)
    [job] = await worker.queue.claim(1)  # the worker holds the job, its attempt not begun
    assert job.payload == {"message_id": reply["id"]}
    r = await http.post(f"{thread}/{reply['id']}/cancel", headers=admin.headers)
    assert r.status_code == 200 and r.json()["delivery_status"] == "cancelled", r.text
    await worker._run_leased(job)  # the claimed job runs to its end as the worker loop would run it
    assert receiver.deliveries == []
    assert await current(http, admin, thread, reply["id"]) == r.json()
    assert await jobs_of(server, reply["id"]) == []


@pytest.mark.parametrize("server", [{"with_worker": False}], indirect=True)
async def test_a_cancel_and_the_workers_last_check_never_both_win(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    admin, _ws, thread, reply = await reply_to(server, http, receiver)
    cancel = f"{thread}/{reply['id']}/cancel"
    db = server.services.db
    # The worker's write comes first and is still open: the cancel waits for it, then loses.
    async with db.write() as tx:
        assert await do_begin_attempt(tx, reply["id"])
        late = asyncio.create_task(http.post(cancel, headers=admin.headers))
        await asyncio.sleep(0.3)
        assert not late.done()
    assert (await late).status_code == 409 and (await late).json()["error"]["code"] == "delivery_running"
    async with db.write() as tx:  # the attempt ends (as a failure would end it) ...
        await tx.conn.execute(
            t.messages.update().where(t.messages.c.id == reply["id"]).values(attempt_started_at=None)
        )
    # ... and now the cancel comes first: the worker's check then says not to send.
    assert (await http.post(cancel, headers=admin.headers)).status_code == 200
    async with db.write() as tx:
        assert not await do_begin_attempt(tx, reply["id"])


@pytest.mark.parametrize("server", [{"with_worker": False}], indirect=True)
async def test_a_cancel_after_the_attempt_began_comes_too_late(
    server: Server, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.hold_first_seconds = 0.5  # the attempt stays out to the provider for a while
    admin, _ws, thread, reply = await reply_to(server, http, receiver)
    worker = build_worker(server.services)
    [job] = await worker.queue.claim(1)
    running = asyncio.create_task(worker._run_leased(job))
    await asyncio.wait_for(receiver.arrived.wait(), 5)
    for action in ("cancel", "retry"):
        late = await http.post(f"{thread}/{reply['id']}/{action}", headers=admin.headers)
        assert late.status_code == 409, late.text
        assert late.json()["error"]["code"] == ("delivery_running" if action == "cancel" else "not_failed")
    await running
    sent = await current(http, admin, thread, reply["id"])
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 1)
    async with server.services.db.read() as conn:
        query = sa.select(t.messages.c.attempt_started_at).where(t.messages.c.id == reply["id"])
        started = (await conn.execute(query)).scalar_one()
    assert started is None  # the attempt is over: nothing is left marked as out


@pytest.mark.parametrize(
    ("answer", "code"),
    [(401, "auth_failed"), (403, "auth_failed"), (413, "too_large"), (404, "provider_rejected")],
)
async def test_a_refusal_that_retrying_cannot_help_fails_at_once_with_its_code(
    server: Server, http: httpx.AsyncClient, receiver: Receiver, answer: int, code: str
) -> None:
    receiver.statuses = [answer]
    admin, _ws, thread, reply = await reply_to(server, http, receiver)
    failed = await wait_for_status(http, admin.headers, thread, reply["id"], "failed")
    assert failed["failure_reason"] == code and f"HTTP {answer}" in failed["failure_detail"]
    assert (failed["delivery_attempts"], failed["next_attempt_at"]) == (1, None)
    assert len(receiver.deliveries) == 1


async def test_the_api_names_every_failure_reason(http: httpx.AsyncClient) -> None:
    schemas = (await http.get("/api/openapi.json")).json()["components"]["schemas"]
    message = schemas["Message"]["properties"]
    reason = schemas[message["failure_reason"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]]
    assert reason["enum"] == [r.value for r in FailureReason]
    status = schemas[message["delivery_status"]["anyOf"][0]["$ref"].rsplit("/", 1)[-1]]
    assert "cancelled" in status["enum"]
    for field in ("failure_detail", "delivery_attempts", "next_attempt_at"):
        assert field in schemas["Message"]["required"]
