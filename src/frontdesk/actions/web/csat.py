"""CSAT (PRODUCT W1): a website visitor rates their resolved conversation, once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.actions.web.visitors import require_not_blocked, visitor_state
from frontdesk.domain.enums import ConversationStatus, MessageKind, SenderType
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.events import MessageCreated
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import message_view

Row = Mapping[Any, Any]
_r, _conv = t.csat_ratings, t.conversations


async def is_rated(conn: AsyncConnection, conversation_id: int) -> bool:
    found = await conn.execute(sa.select(_r.c.id).where(_r.c.conversation_id == conversation_id))
    return found.first() is not None


def csat_text(rating: int, comment: str | None) -> str:
    """The activity line's English fallback; the dashboard builds its own from data."""
    return f"Rated {rating}/5" + (f": {comment}" if comment else "")


async def do_rate_conversation(
    tx: Tx, inbox: Row, visitor: str, conversation_id: int, rating: int, comment: str | None
) -> dict[str, Any]:
    """Store the rating and an activity line agents see live (content_type "csat").
    Only the visitor's own conversation (another's is not found), only once it is resolved
    (409 not_resolved), only once (409 already_rated)."""
    state = await visitor_state(tx.conn, inbox["id"], visitor)
    require_not_blocked(state)
    conv = (
        (
            await tx.conn.execute(
                sa.select(_conv).where(_conv.c.id == conversation_id, _conv.c.inbox_id == inbox["id"])
            )
        )
        .mappings()
        .first()
    )
    if state is None or conv is None or conv["identity_id"] != state.identity_id:
        raise NotFound("conversation not found", field="conversation_id")
    if await is_rated(tx.conn, conversation_id):
        raise Conflict(
            "this conversation has already been rated", field="conversation_id", code="already_rated"
        )
    if conv["status"] != ConversationStatus.RESOLVED:
        raise Conflict(
            "only a resolved conversation can be rated", field="conversation_id", code="not_resolved"
        )
    comment = (comment or "").strip() or None
    now = utcnow()
    await tx.conn.execute(
        _r.insert().values(
            workspace_id=conv["workspace_id"],
            conversation_id=conversation_id,
            contact_id=state.contact_id,
            rating=rating,
            comment=comment,
            created_at=now,
        )
    )
    values: dict[str, Any] = dict(
        workspace_id=conv["workspace_id"],
        conversation_id=conversation_id,
        inbox_id=conv["inbox_id"],
        kind=MessageKind.ACTIVITY.value,
        sender_type=SenderType.CONTACT.value,
        sender_id=state.contact_id,
        text=csat_text(rating, comment),
        content_type="csat",
        source_id=None,
        delivery_status=None,
        failure_reason=None,
        data={"activity": "csat", "rating": rating, "comment": comment},
        created_at=now,
    )
    message_id = (
        await tx.conn.execute(t.messages.insert().values(**values).returning(t.messages.c.id))
    ).scalar_one()
    message = message_view({**values, "id": message_id})
    await tx.emit(MessageCreated(conv["workspace_id"], conv["inbox_id"], message))
    return {"conversation_id": conversation_id, "rating": rating, "comment": comment}
