"""Website visitors (PRODUCT W1): a visitor is a contact identity on a web inbox whose source id
comes from the visitor token ("anon:<random>" or "user:<the site's user id>")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.actions.attachments import StoredFile
from frontdesk.actions.ingest import FileRules, IngestResult, Outcome, Placement, ingest
from frontdesk.actions.messages import do_receive_message, do_set_delivery
from frontdesk.domain.enums import DeliveryStatus, MessageKind, Role
from frontdesk.domain.errors import InvalidInput, VisitorBlocked
from frontdesk.domain.inbound import InboundContact, InboundFile, InboundMessage
from frontdesk.domain.rules import sees_every_inbox
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.types import utcnow

Row = Mapping[Any, Any]
VISITOR_NAME = "Website visitor"  # until the pre-chat form or the site gives a name
MESSAGES_PAGE = 200
READ_BATCH = 200  # replies marked read by one read frame, at most

_ci, _c, _conv, _m = t.contact_identities, t.contacts, t.conversations, t.messages


@dataclass(frozen=True)
class VisitorSession:
    contact_id: int
    identity_id: int
    conversation_id: int | None


@dataclass(frozen=True)
class VisitorState:
    """What the widget needs about its visitor: who they are and their latest conversation."""

    identity_id: int
    contact_id: int
    name: str
    email: str | None
    blocked: bool
    conversation_id: int | None
    status: str | None
    unread_count: int


_earlier = _conv.alias("earlier")
_latest = (
    sa.select(sa.func.max(_earlier.c.id))
    .where(_earlier.c.identity_id == _ci.c.id)
    .correlate(_ci)
    .scalar_subquery()
)
_STATE = (
    sa.select(
        _ci.c.id,
        _ci.c.contact_id,
        _c.c.name,
        _c.c.email,
        _c.c.blocked_at,
        _conv.c.id.label("conversation_id"),
        _conv.c.status,
        _conv.c.unread_count,
    )
    .join(_c, _c.c.id == _ci.c.contact_id)
    .outerjoin(_conv, _conv.c.id == _latest)
    .where(_ci.c.inbox_id == sa.bindparam("inbox_id"), _ci.c.source_id == sa.bindparam("visitor"))
)


async def visitor_state(conn: AsyncConnection, inbox_id: int, visitor: str) -> VisitorState | None:
    """One query; None for a visitor this inbox has never seen."""
    r = (await conn.execute(_STATE, {"inbox_id": inbox_id, "visitor": visitor})).mappings().first()
    if r is None:
        return None
    return VisitorState(
        identity_id=r["id"],
        contact_id=r["contact_id"],
        name=r["name"],
        email=r["email"],
        blocked=r["blocked_at"] is not None,
        conversation_id=r["conversation_id"],
        status=r["status"],
        unread_count=r["unread_count"] or 0,
    )


def require_not_blocked(state: VisitorState | None) -> None:
    if state is not None and state.blocked:
        raise VisitorBlocked("this visitor has been blocked: nothing was stored", field="visitor_token")


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
    form, or the site for a logged-in customer) overwrite the stored ones. A blocked contact is
    refused before anything changes."""
    given = {k: v for k, v in (("name", name), ("email", email), ("phone", phone)) if v}
    found = await visitor_state(tx.conn, inbox["id"], visitor)
    require_not_blocked(found)
    if found is not None:
        if given:
            await tx.conn.execute(_c.update().where(_c.c.id == found.contact_id).values(**given))
        return VisitorSession(found.contact_id, found.identity_id, found.conversation_id)
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


def widget_message(
    message: Row, visitor: str, sender_name: str | None, public_url: str
) -> dict[str, Any] | None:
    """A stored message (a row, or an event's message view) as the widget shows it; None for
    what the visitor must never see (private notes, activity lines)."""
    kind = message["kind"]
    if kind not in (MessageKind.INCOMING, MessageKind.OUTGOING):
        return None
    source_id = message["source_id"] or ""
    prefix = visitor + "/"
    created = message["created_at"]
    return {
        "id": message["id"],
        # The widget's own id of what the visitor sent: lets it match an echo to its pending line.
        "client_id": source_id[len(prefix) :]
        if kind == MessageKind.INCOMING and source_id.startswith(prefix)
        else None,
        "direction": "visitor" if kind == MessageKind.INCOMING else "agent",
        "text": message["text"],
        "content_type": message["content_type"],
        "attachments": [
            {
                **{k: a[k] for k in ("file_name", "content_type", "size") if k in a},
                "url": public_url + a["url"] if "url" in a else None,
            }
            for a in (message["data"] or {}).get("attachments", [])
        ],
        "sender_name": sender_name if kind == MessageKind.OUTGOING else None,
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
    }


_MESSAGE_COLUMNS = (
    _m.c.id,
    _m.c.kind,
    _m.c.text,
    _m.c.content_type,
    _m.c.source_id,
    _m.c.data,
    _m.c.created_at,
    sa.func.coalesce(t.users.c.display_name, t.users.c.name).label("sender_name"),
)


def _with_sender(stmt: sa.Select[Any]) -> sa.Select[Any]:
    return stmt.outerjoin(
        t.users, sa.and_(t.users.c.id == _m.c.sender_id, _m.c.kind == MessageKind.OUTGOING.value)
    )


async def conversation_messages(
    conn: AsyncConnection, conversation_id: int, visitor: str, after: int, public_url: str
) -> list[dict[str, Any]]:
    """What the visitor wrote and the replies after message `after`, oldest first (200 at most);
    never notes or activity lines."""
    rows = (
        await conn.execute(
            _with_sender(sa.select(*_MESSAGE_COLUMNS))
            .where(
                _m.c.conversation_id == conversation_id,
                _m.c.kind.in_([MessageKind.INCOMING.value, MessageKind.OUTGOING.value]),
                _m.c.id > after,
            )
            .order_by(_m.c.id)
            .limit(MESSAGES_PAGE)
        )
    ).mappings()
    return [m for r in rows if (m := widget_message(r, visitor, r["sender_name"], public_url))]


async def visitor_messages(
    conn: AsyncConnection, inbox_id: int, visitor: str, after: int, public_url: str
) -> tuple[int | None, list[dict[str, Any]]]:
    """The visitor's latest conversation and its messages after `after`."""
    found = await visitor_state(conn, inbox_id, visitor)
    require_not_blocked(found)
    if found is None or found.conversation_id is None:
        return None, []
    return found.conversation_id, await conversation_messages(
        conn, found.conversation_id, visitor, after, public_url
    )


async def visitor_message_by_id(
    conn: AsyncConnection, message_id: int, visitor: str, public_url: str
) -> dict[str, Any]:
    row = (
        (await conn.execute(_with_sender(sa.select(*_MESSAGE_COLUMNS)).where(_m.c.id == message_id)))
        .mappings()
        .one()
    )
    message = widget_message(row, visitor, row["sender_name"], public_url)
    assert message is not None  # the visitor's own message
    return message


def check_visitor_text(text: str, files: Sequence[StoredFile] = ()) -> None:
    if not text.strip() and not files:
        raise InvalidInput("text: a message needs text", field="text")


def visitor_inbound(
    visitor: str,
    client_id: str,
    text: str,
    files: Sequence[InboundFile] = (),
    *,
    content_type: str = "text",
    data: dict[str, Any] | None = None,
) -> InboundMessage:
    return InboundMessage(
        # Scoped by visitor: client ids are chosen by each widget, so two visitors may repeat one.
        source_id=f"{visitor}/{client_id}",
        contact=InboundContact(source_id=visitor),
        text=text,
        content_type=content_type,
        data=data or {},
        files=tuple(files),
    )


async def _admit(tx: Tx, inbox: Row, visitor: str, text: str, files: Sequence[StoredFile]) -> None:
    """A visitor's message needs text or a file, and a blocked visitor's is refused."""
    check_visitor_text(text, files)
    require_not_blocked(await visitor_state(tx.conn, inbox["id"], visitor))


async def do_visitor_message(
    tx: Tx,
    inbox: Row,
    visitor: str,
    client_id: str,
    text: str,
    public_url: str,
    files: Sequence[StoredFile] = (),
    *,
    content_type: str = "text",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The visitor writes from the offline form, inside the caller's transaction (the widget's
    messages and files go through `ingest_visitor_message`): stored once per client_id, in the
    visitor's conversation (a new one the first time). Returns the WidgetMessage."""
    await _admit(tx, inbox, visitor, text, files)
    message = visitor_inbound(visitor, client_id, text, content_type=content_type, data=data)
    received = await do_receive_message(tx, inbox, message, files)
    return {
        **await visitor_message_by_id(tx.conn, received.message_id, visitor, public_url),
        "conversation_id": received.conversation_id,
        "duplicate": received.duplicate,
    }


async def ingest_visitor_message(
    db: Database,
    rules: FileRules,
    inbox: Row,
    visitor: str,
    client_id: str,
    text: str,
    public_url: str,
    files: Sequence[InboundFile] = (),
) -> dict[str, Any]:
    """The visitor writes (HTTP, socket, file upload), through the ingest action: the files
    written first (and discarded if nothing is stored, or for a repeat: the first upload is the
    one kept), stored once per client_id, refused for a blocked visitor. Returns the
    WidgetMessage plus conversation_id and duplicate."""

    async def place(tx: Tx, inbox: Row, msg: InboundMessage, stored: Sequence[StoredFile]) -> Placement:
        await _admit(tx, inbox, visitor, msg.text, stored)
        return Placement(msg)

    views: list[dict[str, Any]] = []

    async def view(tx: Tx, results: Sequence[IngestResult]) -> None:
        # Read in the storing transaction: the widget answers with what was stored.
        (result,) = results
        assert result.message_id is not None and result.conversation_id is not None
        found = await visitor_message_by_id(tx.conn, result.message_id, visitor, public_url)
        views.append(
            {
                **found,
                "conversation_id": result.conversation_id,
                "duplicate": result.outcome != Outcome.STORED,
            }
        )

    event = visitor_inbound(visitor, client_id, text, files)
    await ingest(db, rules, inbox, [event], place=place, in_same_tx=view)
    return views[-1]


async def visitor_conversation_ids(conn: AsyncConnection, identity_id: int) -> set[int]:
    rows = await conn.execute(sa.select(_conv.c.id).where(_conv.c.identity_id == identity_id))
    return {int(r[0]) for r in rows}


async def do_mark_read(tx: Tx, conversation_ids: Iterable[int], up_to: int) -> int:
    """The visitor has seen the replies up to message `up_to`: they become "read" (forward only,
    each with its message.updated). Returns how many changed."""
    ids = sorted(conversation_ids)
    if not ids:
        return 0
    rows = (
        (
            await tx.conn.execute(
                sa.select(_m)
                .where(
                    _m.c.conversation_id.in_(ids),
                    _m.c.kind == MessageKind.OUTGOING.value,
                    _m.c.id <= up_to,
                    _m.c.delivery_status.in_(
                        [
                            DeliveryStatus.QUEUED.value,
                            DeliveryStatus.SENT.value,
                            DeliveryStatus.DELIVERED.value,
                        ]
                    ),
                )
                .order_by(_m.c.id.desc())
                .limit(READ_BATCH)
            )
        )
        .mappings()
        .all()
    )
    changed = 0
    for row in rows:
        changed += await do_set_delivery(tx, row, DeliveryStatus.READ)
    return changed


async def inbox_available_agents(conn: AsyncConnection, workspace_id: int, inbox_id: int) -> set[int]:
    """Active members who may see this inbox and chose availability "online" (whether they are
    connected is the caller's to check: it is process state, not stored)."""
    ms, im = t.memberships, t.inbox_members
    sees_all = [r.value for r in Role if sees_every_inbox(r)]
    rows = await conn.execute(
        sa.select(ms.c.user_id).where(
            ms.c.workspace_id == workspace_id,
            ms.c.is_active.is_(True),
            ms.c.availability == "online",
            sa.or_(
                ms.c.role.in_(sees_all),
                ms.c.user_id.in_(sa.select(im.c.user_id).where(im.c.inbox_id == inbox_id)),
            ),
        )
    )
    return {int(r[0]) for r in rows}


async def user_name(conn: AsyncConnection, user_id: int) -> str | None:
    """The name visitors see: the agent's display name, else their name."""
    shown = sa.func.coalesce(t.users.c.display_name, t.users.c.name)
    found = await conn.execute(sa.select(shown).where(t.users.c.id == user_id))
    name = found.scalar_one_or_none()
    return str(name) if name is not None else None
