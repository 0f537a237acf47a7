"""Delivery of replies beyond their first queueing: the worker's attempts (begun, rescheduled)
and what an agent may do with a reply that has not gone out (retry it now, cancel it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from frontdesk.access import Actor, access_conversation_by_id
from frontdesk.domain.enums import DeliveryStatus, FailureReason, JobStatus, MessageKind
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.events import MessageUpdated
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import message_view

Row = Mapping[Any, Any]


async def require_enabled_inbox(tx: Tx, inbox_id: int) -> Mapping[str, Any]:
    """The inbox's settings, once it is known to be enabled."""
    inbox = (
        await tx.conn.execute(
            sa.select(t.inboxes.c.is_enabled, t.inboxes.c.settings).where(t.inboxes.c.id == inbox_id)
        )
    ).one()
    if not inbox.is_enabled:
        raise Conflict(
            "this conversation's inbox is disabled: replies cannot be sent until an administrator "
            "enables it again",
            field="inbox_id",
            code="inbox_disabled",
        )
    settings: Mapping[str, Any] = inbox.settings
    return settings


def attempt_ended(message: Row) -> dict[str, Any]:
    """The changes that close the attempt the worker began (do_begin_attempt), if one was out."""
    if message["attempt_started_at"] is None:
        return {}
    return {"delivery_attempts": message["delivery_attempts"] + 1, "attempt_started_at": None}


async def do_begin_attempt(tx: Tx, message_id: int) -> bool:
    """The worker is about to hand the reply to its channel. False when it is no longer queued
    (an agent cancelled it): then it must not be sent. Row-level, so a cancel and this write never
    both succeed; nothing the agent sees changes, so no event."""
    m = t.messages
    result = await tx.conn.execute(
        m.update()
        .where(m.c.id == message_id, m.c.delivery_status == DeliveryStatus.QUEUED.value)
        .values(attempt_started_at=utcnow())
    )
    return bool(result.rowcount)


async def do_schedule_retry(
    tx: Tx, message_id: int, reason: FailureReason, detail: str, run_at: datetime
) -> None:
    """An attempt failed and another comes at `run_at`: the message shows why and when."""
    m = t.messages
    message = (
        (
            await tx.conn.execute(
                sa.select(m).where(m.c.id == message_id, m.c.delivery_status == DeliveryStatus.QUEUED)
            )
        )
        .mappings()
        .first()
    )
    if message is None:
        return
    changes: dict[str, Any] = {
        **attempt_ended(message),
        "failure_reason": reason.value,
        "failure_detail": detail[:2000],
        "next_attempt_at": run_at,
    }
    await tx.conn.execute(m.update().where(m.c.id == message_id).values(**changes))
    await tx.emit(
        MessageUpdated(message["workspace_id"], message["inbox_id"], message_view({**message, **changes}))
    )


def _send_reply_jobs(message_id: int) -> sa.ColumnElement[bool]:
    j = t.jobs
    return sa.and_(j.c.kind == "send_reply", j.c.payload["message_id"].as_integer() == message_id)


async def _outgoing_message(tx: Tx, actor: Actor, conversation_id: int, message_id: int) -> Row:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    m = t.messages
    message = (
        (await tx.conn.execute(sa.select(m).where(m.c.id == message_id, m.c.conversation_id == conv["id"])))
        .mappings()
        .first()
    )
    if message is None:
        raise NotFound("message not found in this conversation", field="message_id")
    return message


def _what_it_is(message: Row) -> str:
    if message["kind"] == MessageKind.OUTGOING:
        return f"its delivery status is {message['delivery_status']}"
    if message["kind"] in (MessageKind.INCOMING, MessageKind.ACTIVITY):
        return f"this is an {message['kind']} message"
    return f"this is a {message['kind']}"


async def _refuse_while_sending(tx: Tx, message: Row) -> None:
    j = t.jobs
    running = (
        await tx.conn.execute(
            sa.select(j.c.id).where(_send_reply_jobs(message["id"]), j.c.status == JobStatus.RUNNING).limit(1)
        )
    ).first()
    if running is not None or message["attempt_started_at"] is not None:
        raise Conflict("a delivery attempt of this reply is running; wait for it", code="delivery_running")


async def check_retry_delivery(tx: Tx, actor: Actor, conversation_id: int, message_id: int) -> dict[str, Any]:
    """Send a reply again now: one whose delivery failed, or one waiting between attempts. A failed
    reply gets a new job carrying the same message id, which is what the channel sees as the
    delivery's idempotency key; a waiting one's job is simply made due."""
    message = await _outgoing_message(tx, actor, conversation_id, message_id)
    status = message["delivery_status"]
    waiting = status == DeliveryStatus.QUEUED and message["next_attempt_at"] is not None
    if message["kind"] != MessageKind.OUTGOING or not (status == DeliveryStatus.FAILED or waiting):
        raise Conflict(
            "only a reply whose delivery failed or is waiting to be retried can be retried; "
            + _what_it_is(message),
            field="message_id",
            code="not_failed",
        )
    await require_enabled_inbox(tx, message["inbox_id"])
    await _refuse_while_sending(tx, message)
    j, m = t.jobs, t.messages
    changes: dict[str, Any] = {"next_attempt_at": None}
    if waiting:
        due = await tx.conn.execute(j.update().where(_send_reply_jobs(message_id)).values(run_at=utcnow()))
        if due.rowcount:
            tx.jobs_enqueued = True  # wakes the worker as a new job would
        else:  # its job was lost (removed by hand): a new one, so the reply is not stuck
            await enqueue(tx, "send_reply", {"message_id": message_id})
    else:
        await tx.conn.execute(j.delete().where(_send_reply_jobs(message_id)))
        await enqueue(tx, "send_reply", {"message_id": message_id})
        changes.update(delivery_status=DeliveryStatus.QUEUED.value, failure_reason=None, failure_detail=None)
    await tx.conn.execute(m.update().where(m.c.id == message_id).values(**changes))
    view = message_view({**message, **changes})
    await tx.emit(MessageUpdated(message["workspace_id"], message["inbox_id"], view))
    return view


async def check_cancel_delivery(
    tx: Tx, actor: Actor, conversation_id: int, message_id: int
) -> dict[str, Any]:
    """Stop a reply that has not gone out: queued, waiting between attempts, or failed. It is
    marked cancelled and its job removed; a worker that already claimed the job finds the reply
    no longer queued when it begins its attempt (do_begin_attempt) and sends nothing. Once an
    attempt is out to the provider it is too late: 409."""
    message = await _outgoing_message(tx, actor, conversation_id, message_id)
    status = message["delivery_status"]
    if message["kind"] != MessageKind.OUTGOING or status not in (
        DeliveryStatus.QUEUED,
        DeliveryStatus.FAILED,
    ):
        raise Conflict(
            f"only a reply not yet sent can be cancelled; {_what_it_is(message)}",
            field="message_id",
            code="not_cancellable",
        )
    m = t.messages
    changes: dict[str, Any] = {"delivery_status": DeliveryStatus.CANCELLED.value, "next_attempt_at": None}
    # The same row the worker's do_begin_attempt writes: whichever commits first wins.
    done = await tx.conn.execute(
        m.update()
        .where(
            m.c.id == message_id,
            m.c.delivery_status == status,
            m.c.attempt_started_at.is_(None),
        )
        .values(**changes)
    )
    if not done.rowcount:
        raise Conflict("a delivery attempt of this reply is running; wait for it", code="delivery_running")
    await tx.conn.execute(t.jobs.delete().where(_send_reply_jobs(message_id)))
    view = message_view({**message, **changes})
    await tx.emit(MessageUpdated(message["workspace_id"], message["inbox_id"], view))
    return view
