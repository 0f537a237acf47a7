"""Calling a saved inbox's channel hooks from a request: its adapter, its address, the setup
step after a save (on_saved), and the agent's typing and reading sent out (send_typing,
mark_read) in the background, best effort.

Every call here has its own timeout on top of the HTTP client's: a slow provider never holds an
agent's request, and a failed indicator is logged, never shown as an error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from typing import Any

import sqlalchemy as sa

from frontdesk.channels.base import ChannelAdapter, ChannelError, InboxAddress
from frontdesk.channels.registry import adapter_class, installation_for
from frontdesk.domain.enums import MessageKind
from frontdesk.services import Services
from frontdesk.store import tables as t

log = logging.getLogger(__name__)
SETUP_SECONDS = 30.0  # on_saved, check_connection: an admin waits for the answer
INDICATOR_SECONDS = 10.0
TYPING_EVERY_SECONDS = 5.0  # at most one typing indicator per conversation this often
_tasks: set[asyncio.Task[None]] = set()
_typing_sent: dict[int, float] = {}


def adapter_for(svc: Services, row: Mapping[Any, Any]) -> ChannelAdapter:
    installation = installation_for(svc.settings, svc.db, svc.box, row["id"])
    return adapter_class(row["channel_type"])(
        row["settings"], svc.box.open(row["secrets_encrypted"]), svc.http, installation
    )


def address_of(svc: Services, row: Mapping[Any, Any]) -> InboxAddress:
    path = f"/webhooks/{row['channel_type']}/{row['uid']}"
    return InboxAddress(row["id"], row["uid"], svc.settings.effective_public_url.rstrip("/") + path)


async def run_on_saved(svc: Services, row: Mapping[Any, Any]) -> str | None:
    """The channel's setup step after the inbox was committed; what failed, for the admin, or
    None. The inbox stays saved either way (saving again retries: on_saved is idempotent)."""
    try:
        async with asyncio.timeout(SETUP_SECONDS):
            await adapter_for(svc, row).on_saved(address_of(svc, row))
    except ChannelError as exc:
        return f"{exc.code}: {exc.detail}"
    except TimeoutError:
        return f"timeout: the provider did not answer within {SETUP_SECONDS:.0f} seconds"
    except Exception as exc:
        log.exception("on_saved failed", extra={"inbox_id": row["id"]})
        return f"internal_error: {type(exc).__name__}"
    return None


def _background(work: Coroutine[Any, Any, None], what: str, conversation_id: int) -> None:
    async def guarded() -> None:
        try:
            async with asyncio.timeout(INDICATOR_SECONDS):
                await work
        except Exception as exc:  # best effort: the agent never sees this
            log.info(
                "could not send an indicator",
                extra={"indicator": what, "conversation_id": conversation_id, "error": str(exc)},
            )

    task = asyncio.create_task(guarded())
    _tasks.add(task)  # held until done: the loop keeps only weak references
    task.add_done_callback(_tasks.discard)


async def _conversation(svc: Services, conversation_id: int) -> Mapping[Any, Any] | None:
    c, i, ci, m = t.conversations, t.inboxes, t.contact_identities, t.messages
    def latest_incoming(column: sa.ColumnElement[Any]) -> sa.ScalarSelect[Any]:
        return (
            sa.select(column)
            .where(m.c.conversation_id == c.c.id, m.c.kind == MessageKind.INCOMING.value)
            .order_by(m.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    latest, latest_data = latest_incoming(m.c.source_id), latest_incoming(m.c.data)
    query = (
        sa.select(
            i.c.id,
            i.c.uid,
            i.c.channel_type,
            i.c.settings,
            i.c.secrets_encrypted,
            i.c.is_enabled,
            ci.c.source_id.label("recipient"),
            latest.label("latest_source_id"),
            latest_data.label("latest_data"),
        )
        .join(i, i.c.id == c.c.inbox_id)
        .join(ci, ci.c.id == c.c.identity_id)
        .where(c.c.id == conversation_id)
    )
    async with svc.db.read() as conn:
        return (await conn.execute(query)).mappings().first()


def _overrides(row: Mapping[Any, Any], hook: str) -> bool:
    # A channel that keeps the seam's default has nothing to send: no task, no provider call.
    cls = adapter_class(row["channel_type"])
    return getattr(cls, hook) is not getattr(ChannelAdapter, hook)


def indicate_typing(svc: Services, conversation_id: int) -> None:
    """An agent is typing in the conversation (already checked to be theirs to see)."""
    now = time.monotonic()
    if now - _typing_sent.get(conversation_id, -TYPING_EVERY_SECONDS) < TYPING_EVERY_SECONDS:
        return
    _typing_sent[conversation_id] = now
    if len(_typing_sent) > 10_000:  # forget old conversations rather than grow for ever
        _typing_sent.clear()

    async def work() -> None:
        row = await _conversation(svc, conversation_id)
        if row is not None and row["is_enabled"] and _overrides(row, "send_typing"):
            await adapter_for(svc, row).send_typing(row["recipient"])

    _background(work(), "typing", conversation_id)


def indicate_read(svc: Services, conversation_id: int) -> None:
    """An agent read the conversation: the customer's messages up to the latest are read."""

    async def work() -> None:
        row = await _conversation(svc, conversation_id)
        if row is not None and row["is_enabled"] and _overrides(row, "mark_read"):
            token = (row["latest_data"] or {}).get("read_token")
            await adapter_for(svc, row).mark_read(
                row["recipient"],
                row["latest_source_id"],
                read_token=token if isinstance(token, str) else None,
            )

    _background(work(), "read", conversation_id)
