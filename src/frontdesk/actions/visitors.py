"""Website visitors (PRODUCT W1): a visitor is a contact identity on a web inbox whose source id
comes from the visitor token ("anon:<random>" or "user:<the site's user id>")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.enums import MessageKind
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow

Row = Mapping[Any, Any]
VISITOR_NAME = "Website visitor"  # until the pre-chat form or the site gives a name
MESSAGES_PAGE = 200

_ci, _c, _conv, _m = t.contact_identities, t.contacts, t.conversations, t.messages


@dataclass(frozen=True)
class VisitorSession:
    contact_id: int
    identity_id: int
    conversation_id: int | None


async def _identity(conn: AsyncConnection, inbox_id: int, visitor: str) -> Row | None:
    latest = sa.select(sa.func.max(_conv.c.id)).where(_conv.c.identity_id == _ci.c.id).scalar_subquery()
    stmt = sa.select(_ci.c.id, _ci.c.contact_id, latest.label("conversation_id")).where(
        _ci.c.inbox_id == inbox_id, _ci.c.source_id == visitor
    )
    return (await conn.execute(stmt)).mappings().first()


async def do_start_visitor_session(
    tx: Tx,
    inbox: Row,
    visitor: str,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
) -> VisitorSession:
    """Create the visitor's contact and identity, or resume them; details given (the pre-chat
    form, or the site for a logged-in customer) overwrite the stored ones."""
    given = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
    found = await _identity(tx.conn, inbox["id"], visitor)
    if found is not None:
        if given:
            await tx.conn.execute(_c.update().where(_c.c.id == found["contact_id"]).values(**given))
        return VisitorSession(found["contact_id"], found["id"], found["conversation_id"])
    now = utcnow()
    contact_id = (
        await tx.conn.execute(
            _c.insert().returning(_c.c.id),
            {
                "workspace_id": inbox["workspace_id"],
                "name": (name or email or phone or VISITOR_NAME)[:200],
                "email": email,
                "phone": phone,
                "attributes": {},
                "created_at": now,
            },
        )
    ).scalar_one()
    identity_id = (
        await tx.conn.execute(
            _ci.insert().returning(_ci.c.id),
            {"inbox_id": inbox["id"], "source_id": visitor, "contact_id": contact_id, "created_at": now},
        )
    ).scalar_one()
    return VisitorSession(contact_id, identity_id, None)


async def visitor_messages(
    conn: AsyncConnection, inbox_id: int, visitor: str, after: int
) -> tuple[int | None, list[dict[str, Any]]]:
    """The visitor's latest conversation and its messages after `after`: what the customer
    wrote and the replies, never notes or activity lines."""
    found = await _identity(conn, inbox_id, visitor)
    if found is None or found["conversation_id"] is None:
        return None, []
    rows = (
        await conn.execute(
            sa.select(
                _m.c.id,
                _m.c.kind,
                _m.c.text,
                _m.c.content_type,
                _m.c.data,
                _m.c.created_at,
                t.users.c.name.label("sender_name"),
            )
            .outerjoin(
                t.users,
                sa.and_(t.users.c.id == _m.c.sender_id, _m.c.kind == MessageKind.OUTGOING.value),
            )
            .where(
                _m.c.conversation_id == found["conversation_id"],
                _m.c.kind.in_([MessageKind.INCOMING.value, MessageKind.OUTGOING.value]),
                _m.c.id > after,
            )
            .order_by(_m.c.id)
            .limit(MESSAGES_PAGE)
        )
    ).mappings()
    return found["conversation_id"], [
        {
            "id": r["id"],
            "direction": "visitor" if r["kind"] == MessageKind.INCOMING else "agent",
            "text": r["text"],
            "content_type": r["content_type"],
            "attachments": [
                {k: a[k] for k in ("file_name", "content_type", "size") if k in a}
                for a in r["data"].get("attachments", [])
            ],
            "sender_name": r["sender_name"],
            "created_at": r["created_at"].isoformat(),
        }
        for r in rows
    ]
