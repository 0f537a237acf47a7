"""An agent's post of a reply or note, idempotent by the client's key.

A client that lost the answer to its post (a dropped connection, a killed process) sends it again
with the same key; the second request finds the message the first one stored and returns it
instead of storing, and delivering, it twice. The conversation row is locked first (PostgreSQL)
or the write lock is held (SQLite), so a repeat arriving while the first is still running waits
for it and then finds it; the unique index on (conversation, author, key) refuses whatever might
still get past that, and the caller runs the request again (`post_repeatable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from frontdesk.access import Actor, access_conversation_by_id
from frontdesk.actions.messages import check_add_note, check_send_reply
from frontdesk.domain.channels import ChannelLookup
from frontdesk.domain.enums import MessageKind, SenderType
from frontdesk.domain.errors import Conflict
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.views import message_view


@dataclass(frozen=True)
class Posted:
    message: dict[str, Any]
    repeated: bool  # True: the key was seen before; `message` is the one stored then


async def check_post_message(
    tx: Tx,
    actor: Actor,
    conversation_id: int,
    text: str,
    *,
    private: bool,
    client_id: str | None,
    channels: ChannelLookup,
) -> Posted:
    """A reply (queued for delivery) or a note, stored once per `client_id` when one is given."""
    if client_id is not None:
        conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
        first = await _first_with_key(tx, conv["id"], actor.user_id, client_id)
        if first is not None:
            kind = MessageKind.NOTE if private else MessageKind.OUTGOING
            if first["kind"] != kind or first["text"] != text:
                raise Conflict(
                    "this client_id (Idempotency-Key) was already used for a different message in "
                    "this conversation",
                    field="client_id",
                    code="client_id_reused",
                )
            return Posted(message_view(first), repeated=True)
    if private:
        message = await check_add_note(tx, actor, conversation_id, text, client_id=client_id)
    else:
        message = await check_send_reply(
            tx, actor, conversation_id, text, channels=channels, client_id=client_id
        )
    return Posted(message, repeated=False)


async def post_repeatable(
    db: Database,
    actor: Actor,
    conversation_id: int,
    text: str,
    *,
    private: bool,
    client_id: str | None,
    channels: ChannelLookup,
) -> Posted:
    """`check_post_message` in its own transaction, run once more when a concurrent first post of
    the same key won the race on the unique index (the second run then finds its message)."""
    try:
        async with db.write() as tx:
            return await check_post_message(
                tx, actor, conversation_id, text, private=private, client_id=client_id, channels=channels
            )
    except IntegrityError:
        if client_id is None:
            raise
    async with db.write() as tx:
        return await check_post_message(
            tx, actor, conversation_id, text, private=private, client_id=client_id, channels=channels
        )


async def _first_with_key(tx: Tx, conversation_id: int, user_id: int, client_id: str) -> Any:
    m = t.messages
    return (
        (
            await tx.conn.execute(
                sa.select(m).where(
                    m.c.conversation_id == conversation_id,
                    m.c.sender_type == SenderType.AGENT.value,
                    m.c.sender_id == user_id,
                    m.c.client_id == client_id,
                )
            )
        )
        .mappings()
        .first()
    )
