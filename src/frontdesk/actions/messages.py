"""Messages: an inbound message stored (actions/ingest.py runs every inbound event), replies
(with their delivery job), notes, delivery statuses."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from frontdesk.access import Actor, access_conversation_by_id
from frontdesk.actions.attachments import StoredFile, attachment_view, do_attach
from frontdesk.actions.conversations import (
    do_activity,
    do_add_participants,
    do_open_conversation,
    do_update_conversation,
    user_name,
)
from frontdesk.actions.delivery import attempt_ended, require_enabled_inbox
from frontdesk.actions.profiles import do_queue_profile, placeholder_name
from frontdesk.actions.reply_windows import do_with_window, other_inboxes, rules_of, window_of
from frontdesk.domain.arrival import Arrival, arrival_of, joins_resolved
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.channels import ChannelLookup
from frontdesk.domain.enums import ConversationStatus, DeliveryStatus, FailureReason, MessageKind, SenderType
from frontdesk.domain.errors import Conflict, InvalidInput
from frontdesk.domain.inbound import InboundContact, InboundMessage
from frontdesk.domain.input import clean
from frontdesk.domain.reply_window import check_free_text
from frontdesk.domain.rules import delivery_may_advance, extract_mentions, first_reply_seconds, takes_on_reply
from frontdesk.events import ConversationCreated, MessageCreated, MessageUpdated
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.direct import Direct, run
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view, message_view

Row = Mapping[Any, Any]  # a result row (RowMapping) or a dict built like one
PREVIEW_LENGTH = 140
MAX_TEXT_LENGTH = 65_536


@dataclass(frozen=True)
class Received:
    message_id: int
    conversation_id: int
    duplicate: bool


def _files_data(files: Sequence[StoredFile]) -> dict[str, Any]:
    return {"attachments": [attachment_view(f) for f in files]} if files else {}


def _files_preview(files: Sequence[StoredFile]) -> str:
    return ", ".join(f.file_name for f in files)


def _media_preview(msg: InboundMessage) -> str:
    """The names of the files still at the provider, for a message that has nothing else."""
    return ", ".join(m.file_name for m in msg.media if m.file_name)


def _preview(text: str) -> str:
    """The text with its whitespace collapsed, cut to PREVIEW_LENGTH. Collapsing a prefix gives a
    prefix of the collapsed whole, so a long text (a 50 KB mail) is not split whole."""
    head = text[: PREVIEW_LENGTH * 8]
    preview = " ".join(head.split())[:PREVIEW_LENGTH]
    if len(preview) < PREVIEW_LENGTH and len(head) < len(text):  # a head of mostly whitespace
        preview = " ".join(text.split())[:PREVIEW_LENGTH]
    return preview


_ci, _c, _m = t.contact_identities, t.contacts, t.messages
_B = sa.bindparam
# The ingest hot path: built and compiled once, run on the driver (store/direct.py).
_INSERT_CONTACT = Direct(
    _c.insert().returning(_c.c.id), ["workspace_id", "name", "email", "phone", "attributes", "created_at"]
)
_INSERT_IDENTITY = Direct(
    _ci.insert().returning(_ci.c.id), ["inbox_id", "source_id", "contact_id", "created_at"]
)
_conv = t.conversations
_earlier = _conv.alias("earlier")
_latest = (
    sa.select(sa.func.max(_earlier.c.id))
    .where(_earlier.c.identity_id == _ci.c.id)
    .correlate(_ci)
    .scalar_subquery()
)
_seen = _m.alias("seen")
_anchor = sa.select(sa.literal_column("1").label("one")).subquery("anchor")
# One statement whatever is known: whether this provider id was stored before, the sender's
# identity and contact, and the sender's latest conversation. It always returns one row (its
# columns empty for what is not known), so a first message needs no second look-up.
_SENDER = Direct(
    sa.select(
        _ci.c.id.label("identity_id_"),
        _ci.c.contact_id.label("contact_id_"),
        _c.c.name.label("contact_name"),
        _seen.c.id.label("seen_id_"),
        _seen.c.conversation_id.label("seen_conversation_id_"),
        *_conv.c,
    )
    .select_from(_anchor)
    .outerjoin(
        _seen, sa.and_(_seen.c.inbox_id == _B("inbox_id"), _seen.c.source_id == _B("message_source_id"))
    )
    .outerjoin(_ci, sa.and_(_ci.c.inbox_id == _B("inbox_id"), _ci.c.source_id == _B("contact_source_id")))
    .outerjoin(_c, _c.c.id == _ci.c.contact_id)
    .outerjoin(_conv, _conv.c.id == _latest)
)
_MESSAGE_KEYS = (
    "workspace_id",
    "conversation_id",
    "inbox_id",
    "kind",
    "sender_type",
    "sender_id",
    "text",
    "content_type",
    "source_id",
    "delivery_status",
    "failure_reason",
    "data",
    "annotations",
    "created_at",
)
_INSERT_MESSAGE = Direct(_m.insert().returning(_m.c.id), _MESSAGE_KEYS)


@functools.cache
def _insert_message_touching(keys: tuple[str, ...]) -> Direct:
    """PostgreSQL: the message's INSERT with its conversation's UPDATE of columns `keys` as a
    data-modifying CTE, which PostgreSQL runs whether or not the INSERT reads it. The two touch
    different tables, so neither needs to see the other's change."""
    touched = (
        _conv.update()
        .where(_conv.c.id == sa.bindparam("touched_id_"))
        .values({key: sa.bindparam(f"touch_{key}", type_=_conv.c[key].type) for key in keys})
        .cte("touched")
    )
    # Binds named apart from the columns: `column_keys` would also reach into the CTE's UPDATE
    # and set the conversation's columns of the same names.
    insert = _m.insert().values(
        {key: sa.bindparam(f"message_{key}", type_=_m.c[key].type) for key in _MESSAGE_KEYS}
    )
    return Direct(insert.returning(_m.c.id).add_cte(touched))


async def do_create_contact(
    tx: Tx, workspace_id: int, contact: InboundContact, now: datetime
) -> tuple[int, str]:
    """A new contact from what a channel knows of a person: its id and the name it got."""
    name = contact.name or contact.email or contact.phone or placeholder_name(contact.source_id)
    values = {
        "workspace_id": workspace_id,
        "name": name[:200],
        "email": contact.email,
        "phone": contact.phone,
        "attributes": {},
        "created_at": now,
    }
    return (await run(tx.conn, _INSERT_CONTACT, values))[0]["id"], name


async def do_add_identity(tx: Tx, inbox_id: int, source_id: str, contact_id: int, now: datetime) -> int:
    """The contact's identity on an inbox: how the channel names the person (an address, a number)."""
    values = {"inbox_id": inbox_id, "source_id": source_id, "contact_id": contact_id, "created_at": now}
    identity_id: int = (await run(tx.conn, _INSERT_IDENTITY, values))[0]["id"]
    return identity_id


async def _create_identity(tx: Tx, inbox: Row, msg: InboundMessage, now: datetime) -> tuple[int, int, str]:
    """A first message from this sender: a new contact and its identity on this inbox."""
    contact_id, name = await do_create_contact(tx, inbox["workspace_id"], msg.contact, now)
    identity_id = await do_add_identity(tx, inbox["id"], msg.contact.source_id, contact_id, now)
    if not msg.system_sender:
        await do_queue_profile(tx, inbox, contact_id, msg.contact.source_id)
    return identity_id, contact_id, name


async def do_receive_message(
    tx: Tx,
    inbox: Row,
    msg: InboundMessage,
    files: Sequence[StoredFile] = (),
    *,
    conversation_id: int | None = None,
    new_conversation: bool = False,
) -> Received:
    """Store one inbound message idempotently by its provider id and bring its conversation up.
    `files` are the message's attachments, already checked and written by the caller.
    By default the message joins the sender's latest conversation (chat channels). Email picks:
    `conversation_id` threads it into that conversation of this inbox (a new one if it is not
    this inbox's), `new_conversation` always starts one. An automatic message neither reopens
    nor marks unread (domain/arrival.py); a system sender's joins without becoming a contact.
    NUL in any text becomes U+FFFD (PostgreSQL cannot store it; the customer's message is never
    refused for it)."""
    msg = clean(msg)
    params = {
        "inbox_id": inbox["id"],
        "message_source_id": msg.source_id,
        "contact_source_id": msg.contact.source_id,
    }
    (found,) = await run(tx.conn, _SENDER, params)
    # The provider id may be known under another sender too: stored once all the same.
    if found["seen_id_"] is not None:
        return Received(found["seen_id_"], found["seen_conversation_id_"], duplicate=True)
    now = utcnow()
    conv: Row | None = None
    if not new_conversation and conversation_id is not None:
        conv = await _inbox_conversation(tx, inbox, conversation_id)
    elif not new_conversation and found["identity_id_"] is not None and found["id"] is not None:
        conv = found
    reopen = inbox["settings"].get("lock_to_single_conversation", True)
    if conv is not None and conv["status"] == ConversationStatus.RESOLVED:
        conv = conv if joins_resolved(msg.automatic, reopen) else None
    preview = _preview(msg.text or _files_preview(files) or _media_preview(msg))
    arrival = arrival_of(msg.automatic, conv is None, now)
    opened = conv is None
    window: dict[str, Any] = {}  # a system sender's message leaves the reply window as it is
    if conv is not None and msg.system_sender:
        sender: tuple[SenderType, int | None] = (SenderType.SYSTEM, None)
    else:
        identity_id, contact_id, contact_name = await _sender_identity(tx, inbox, msg, found, now)
        sender = (SenderType.CONTACT, contact_id)
        rules = tx.channels(inbox["channel_type"]).rules_for(inbox["settings"] or {}) if tx.channels else None
        window = _customer_wrote(conv, msg, now, rules)
        if conv is None:
            conv = await _open_with(
                tx, inbox, (identity_id, contact_id, contact_name), arrival, preview, now, **window
            )
    if opened:  # a new conversation was opened as the arrival leaves it
        message_id = await _insert_incoming(tx, inbox, conv["id"], sender, msg, files, now)
        return Received(message_id, conv["id"], duplicate=False)
    changes = {
        "last_activity_at": now,
        "last_message_preview": preview,
        **arrival.changes(conv["unread_count"], conv["waiting_since"]),
        **window,
    }
    # On PostgreSQL the message's INSERT carries the conversation's UPDATE: one round trip.
    touch = changes if tx.dialect == "postgresql" else None
    message_id = await _insert_incoming(tx, inbox, conv["id"], sender, msg, files, now, touch=touch)
    await do_update_conversation(tx, conv, changes, inbox=inbox, written=touch is not None)
    return Received(message_id, conv["id"], duplicate=False)


def _customer_wrote(
    conv: Row | None, msg: InboundMessage, now: datetime, rules: ChannelRules | None = None
) -> dict[str, Any]:
    """The reply window restarts at the provider's time of the customer's message (decision
    0039); a message delivered late, older than the last one, moves nothing back."""
    # A provider clock ahead of ours must not stretch the window past what the provider allows.
    at = min(msg.provider_time, now) if msg.provider_time is not None else now
    last = conv["customer_last_at"] if conv is not None else None
    if last is not None and at < last:
        return {}
    if msg.action and rules is not None:
        return _action_window(conv, at, rules)
    return {"customer_last_at": at, "replies_since_customer": 0}


def _action_window(conv: Row | None, at: datetime, rules: ChannelRules) -> dict[str, Any]:
    """An action (a menu click, a scan) opens the channel's shorter action window (decision
    0043): kept in the same two columns, as the window's start moved back so that it closes
    `action_window` after the action, and as replies already used so that the action's cap is
    left. An ordinary window still open with replies left is kept as it is."""
    window, cap, short = rules.reply_window, rules.messages_in_window, rules.action_window
    if window is None or cap is None or short is None:
        return {"customer_last_at": at, "replies_since_customer": 0}
    last = conv["customer_last_at"] if conv is not None else None
    if conv is not None and last is not None and at < last + window and conv["replies_since_customer"] < cap:
        return {}
    left = min(rules.messages_in_action_window or cap, cap)
    return {"customer_last_at": at + short - window, "replies_since_customer": cap - left}


async def _sender_identity(
    tx: Tx, inbox: Row, msg: InboundMessage, found: Row, now: datetime
) -> tuple[int, int, str]:
    """The sender's identity, contact and contact name: found, or made for a first message."""
    if found["identity_id_"] is None:
        return await _create_identity(tx, inbox, msg, now)
    return found["identity_id_"], found["contact_id_"], found["contact_name"]


async def _open_with(
    tx: Tx,
    inbox: Row,
    sender: tuple[int, int, str],
    arrival: Arrival,
    preview: str,
    now: datetime,
    **window: Any,
) -> Row:
    """A new conversation for the arriving message, as `arrival` leaves it."""
    identity_id, contact_id, contact_name = sender
    conv = await do_open_conversation(
        tx,
        workspace_id=inbox["workspace_id"],
        inbox_id=inbox["id"],
        contact_id=contact_id,
        identity_id=identity_id,
        contact_name=contact_name,
        now=now,
        last_message_preview=preview,
        **arrival.changes(0, None),
        **window,
    )
    view = conversation_view(await do_with_window(tx, conv, inbox))
    await tx.emit(ConversationCreated(inbox["workspace_id"], inbox["id"], view))
    return conv


async def _insert_incoming(
    tx: Tx,
    inbox: Row,
    conversation_id: int,
    sender: tuple[SenderType, int | None],
    msg: InboundMessage,
    files: Sequence[StoredFile],
    now: datetime,
    *,
    touch: dict[str, Any] | None = None,
) -> int:
    """`touch`: the conversation's column changes, made by the same statement."""
    values: dict[str, Any] = dict(
        workspace_id=inbox["workspace_id"],
        conversation_id=conversation_id,
        inbox_id=inbox["id"],
        kind=MessageKind.INCOMING.value,
        sender_type=sender[0].value,
        sender_id=sender[1],
        text=msg.text,
        content_type=msg.content_type,
        source_id=msg.source_id,
        delivery_status=None,
        failure_reason=None,
        data={**msg.data, **_files_data(files)},
        annotations=[a.as_json() for a in msg.annotations],
        created_at=now,
    )
    if touch:
        params = {f"message_{k}": v for k, v in values.items()}
        params.update({f"touch_{k}": v for k, v in touch.items()}, touched_id_=conversation_id)
        statement = _insert_message_touching(tuple(sorted(touch)))
    else:
        statement, params = _INSERT_MESSAGE, values
    message_id: int = (await run(tx.conn, statement, params))[0]["id"]
    for stored in files:
        await do_attach(tx, message_id, stored)
    await tx.emit(
        MessageCreated(inbox["workspace_id"], inbox["id"], message_view({**values, "id": message_id}))
    )
    return message_id


async def _inbox_conversation(tx: Tx, inbox: Row, conversation_id: int) -> Row | None:
    """The conversation with its contact's name (for its view), if it belongs to this inbox."""
    query = (
        sa.select(*_conv.c, _c.c.name.label("contact_name"))
        .join(_c, _c.c.id == _conv.c.contact_id)
        .where(_conv.c.id == conversation_id, _conv.c.inbox_id == inbox["id"])
    )
    return (await tx.conn.execute(query)).mappings().first()


async def do_set_delivery(
    tx: Tx,
    message: Row,
    status: DeliveryStatus,
    *,
    reason: FailureReason | None = None,
    detail: str | None = None,
    source_id: str | None = None,
) -> bool:
    if not delivery_may_advance(DeliveryStatus(message["delivery_status"]), status):
        return False
    changes: dict[str, Any] = {"delivery_status": status.value, **attempt_ended(message)}
    if status == DeliveryStatus.FAILED:
        changes["failure_reason"] = (reason or FailureReason.UNKNOWN).value
        changes["failure_detail"] = detail[:2000] if detail else None
        changes["next_attempt_at"] = None
    elif status == DeliveryStatus.SENT:  # the failures before it are over
        changes.update(next_attempt_at=None, failure_reason=None, failure_detail=None)
    if source_id and not message["source_id"]:
        changes["source_id"] = source_id
    await tx.conn.execute(t.messages.update().where(t.messages.c.id == message["id"]).values(**changes))
    await tx.emit(
        MessageUpdated(message["workspace_id"], message["inbox_id"], message_view({**message, **changes}))
    )
    return True


def _check_text(
    text: str, files: Sequence[StoredFile] = (), *, max_length: int | None = MAX_TEXT_LENGTH
) -> str:
    """`max_length` None: a reply, whose channel's rules limit its length."""
    if not text.strip() and not files:
        raise InvalidInput("text must not be empty", field="text")
    if max_length is not None and len(text) > max_length:
        raise InvalidInput(f"text is longer than {max_length} characters", field="text")
    return text


async def check_send_reply(
    tx: Tx,
    actor: Actor,
    conversation_id: int,
    text: str,
    files: Sequence[StoredFile] = (),
    *,
    channels: ChannelLookup,
    data: Mapping[str, Any] | None = None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The outgoing message and its delivery job commit together: a reply is never lost.
    The inbox's channel rules (through `channels`) may refuse it first: too long, or outside the
    reply window (decision 0039). `data` is kept with the message for its channel (an email's
    subject); `client_id` is the author's idempotency key (actions/message_repeats.py)."""
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    _check_text(text, files, max_length=None)
    inbox_settings = await require_enabled_inbox(tx, conv["inbox_id"])
    now = utcnow()
    await _check_channel_rules(tx, channels, conv, text, now)
    values: dict[str, Any] = dict(
        workspace_id=conv["workspace_id"],
        conversation_id=conv["id"],
        inbox_id=conv["inbox_id"],
        kind=MessageKind.OUTGOING.value,
        sender_type=SenderType.AGENT.value,
        sender_id=actor.user_id,
        text=text,
        content_type="text",
        source_id=None,
        delivery_status=DeliveryStatus.QUEUED.value,
        failure_reason=None,
        data={**_files_data(files), **(data or {})},
        client_id=client_id,
        created_at=now,
    )
    message_id = (
        await tx.conn.execute(t.messages.insert().values(**values).returning(t.messages.c.id))
    ).scalar_one()
    for stored in files:
        await do_attach(tx, message_id, stored)
    await enqueue(tx, "send_reply", {"message_id": message_id})
    message = message_view({**values, "id": message_id})
    await tx.emit(MessageCreated(conv["workspace_id"], conv["inbox_id"], message))
    changes: dict[str, Any] = {
        "last_activity_at": now,
        "waiting_since": None,
        "last_message_preview": _preview(text),
        "unread_count": 0,
    }
    if conv["customer_last_at"] is not None:
        changes["replies_since_customer"] = conv["replies_since_customer"] + 1
    if conv["first_reply_at"] is None:
        changes["first_reply_at"] = now
        changes["first_reply_seconds"] = first_reply_seconds(conv["created_at"], now)
    # The conversation row is locked (for_update, or SQLite's single writer), so of two agents
    # replying at once the second sees the first's assignment and takes nothing.
    if takes_on_reply(inbox_settings, conv["assignee_id"]):
        changes["assignee_id"] = actor.user_id
        await _take_by_reply(tx, conv, actor.user_id)
    await do_add_participants(tx, conv["id"], [actor.user_id])
    await do_update_conversation(tx, conv, changes)
    return message


async def _check_channel_rules(tx: Tx, channels: ChannelLookup, conv: Row, text: str, now: datetime) -> None:
    """Refuses (nothing stored) a reply the channel does not take now; the contact's other
    inboxes are looked up only to name them in a refusal."""
    rules = rules_of(channels, conv)
    if len(text) > rules.max_text_length:
        raise Conflict(
            f"text is longer than the {rules.max_text_length} characters this channel takes",
            field="text",
            code="text_too_long",
        )
    window = window_of(channels, conv, now, other_inbox=False)
    if window.refusal is not None:
        if await other_inboxes(tx.conn, channels, [conv]):
            window = window_of(channels, conv, now, other_inbox=True)
        check_free_text(window)


async def _take_by_reply(tx: Tx, conv: Row, user_id: int) -> None:
    """The activity line of an assignment by reply: an "assigned" line (the dashboard already
    follows those) marked `by_reply` so it reads as taking, not as being handed."""
    name = await user_name(tx, user_id)
    text = f"{name} took the conversation by replying"
    await do_activity(
        tx,
        conv,
        user_id,
        text,
        activity="assigned",
        by=name,
        assignee_id=user_id,
        team_id=conv["team_id"],
        comment=None,
        by_reply=True,
    )


async def check_add_note(
    tx: Tx,
    actor: Actor,
    conversation_id: int,
    text: str,
    files: Sequence[StoredFile] = (),
    *,
    client_id: str | None = None,
) -> dict[str, Any]:
    """A private note; @mentions (email or name without spaces) name members who are then
    added as participants."""
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    _check_text(text, files)
    mentioned = await _resolve_mentions(tx, actor.workspace_id, extract_mentions(text))
    now = utcnow()
    values: dict[str, Any] = dict(
        workspace_id=conv["workspace_id"],
        conversation_id=conv["id"],
        inbox_id=conv["inbox_id"],
        kind=MessageKind.NOTE.value,
        sender_type=SenderType.AGENT.value,
        sender_id=actor.user_id,
        text=text,
        content_type="text",
        source_id=None,
        delivery_status=None,
        failure_reason=None,
        data={"mentions": mentioned, **_files_data(files)},
        client_id=client_id,
        created_at=now,
    )
    message_id = (
        await tx.conn.execute(t.messages.insert().values(**values).returning(t.messages.c.id))
    ).scalar_one()
    for stored in files:
        await do_attach(tx, message_id, stored)
    message = message_view({**values, "id": message_id})
    await tx.emit(MessageCreated(conv["workspace_id"], conv["inbox_id"], message))
    await do_add_participants(tx, conv["id"], mentioned)
    return message


async def _resolve_mentions(tx: Tx, workspace_id: int, handles: list[str]) -> list[int]:
    if not handles:
        return []
    u = t.users
    rows = (
        await tx.conn.execute(
            sa.select(u.c.id, u.c.email_lower, u.c.name)
            .join(t.memberships, t.memberships.c.user_id == u.c.id)
            .where(t.memberships.c.workspace_id == workspace_id)
        )
    ).all()
    wanted = set(handles)
    return [
        r.id
        for r in rows
        if r.email_lower in wanted
        or r.name.lower().replace(" ", "") in wanted
        or r.email_lower.split("@")[0] in wanted
    ]


async def do_correct_window(tx: Tx, conversation_id: int, reason: FailureReason, rules: ChannelRules) -> None:
    """The provider refused a reply because the window is closed (WINDOW_CLOSED) or its message
    cap is used up (REPLY_LIMIT_REACHED): the conversation's window is set to say so, so the
    composer stops offering what the provider will refuse (decision 0043). The provider knows
    better than our count (a follow's or a menu click's short window, messages sent elsewhere)."""
    c, ct, i = t.conversations, t.contacts, t.inboxes
    conv = (
        (
            await tx.conn.execute(
                sa.select(
                    *c.c,
                    ct.c.name.label("contact_name"),
                    i.c.channel_type.label("inbox_channel_type"),
                    i.c.settings.label("inbox_settings"),
                )
                .join(ct, ct.c.id == c.c.contact_id)
                .join(i, i.c.id == c.c.inbox_id)
                .where(c.c.id == conversation_id)
            )
        )
        .mappings()
        .first()
    )
    if conv is None or conv["customer_last_at"] is None:
        return
    changes: dict[str, Any] = {}
    now = utcnow()
    window, cap = rules.reply_window, rules.messages_in_window
    if (
        reason == FailureReason.WINDOW_CLOSED
        and window is not None
        and conv["customer_last_at"] + window > now
    ):
        changes["customer_last_at"] = now - window
    elif (
        reason == FailureReason.REPLY_LIMIT_REACHED
        and cap is not None
        and conv["replies_since_customer"] < cap
    ):
        changes["replies_since_customer"] = cap
    if changes:
        await do_update_conversation(tx, dict(conv), changes)
