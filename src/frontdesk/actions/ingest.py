"""The one ingest action every channel's inbound events go through (webhooks, SMTP, IMAP, the
widget): files written once before the transaction, the transaction retried when concurrent
first messages of one contact race on a unique key, the files of a failed attempt or of a
duplicate discarded, every event stored at most once (by the provider's message id and by its
event id), and each kind of event (domain/inbound.py) handled here, not by the channel.

Channels keep only what is theirs: email finds the conversation by reply token and references
(a `Place` callback), the widget refuses a blocked visitor (the same callback), the IMAP import
advances its cursor in the transaction that stores (`in_same_tx`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.conversations import do_activity, do_open_conversation, do_update_conversation
from frontdesk.actions.messages import (
    Row,
    do_add_identity,
    do_create_contact,
    do_receive_message,
    do_set_delivery,
)
from frontdesk.domain.annotations import Annotation, attachment_left_out
from frontdesk.domain.arrival import arrival_of
from frontdesk.domain.enums import DeliveryStatus, FailureReason, MessageKind, SenderType
from frontdesk.domain.errors import DomainError
from frontdesk.domain.inbound import (
    InboundContact,
    InboundEcho,
    InboundEdit,
    InboundEvent,
    InboundFollow,
    InboundMessage,
    InboundReaction,
    InboundRead,
    InboundRevoke,
    InboundStatus,
    InboundTyping,
    InboundUnknown,
    MediaRef,
)
from frontdesk.domain.inbound_data import (
    edited_data,
    media_of,
    message_extras,
    pending_files,
    reacted_data,
    revoked_data,
)
from frontdesk.domain.input import clean
from frontdesk.events import ConversationCreated, MessageCreated, MessageUpdated, ephemeral
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view, message_view

__all__ = [
    "INGESTED",
    "FileRules",
    "IngestItem",
    "IngestResult",
    "OnMedia",
    "Outcome",
    "Place",
    "Placement",
    "ingest",
    "ingest_items",
]

INGESTED = Counter("frontdesk_ingest_total", "Inbound events by what became of them", ["channel", "outcome"])
ATTEMPTS = 3  # concurrent first messages of one contact may race on the unique keys
EVENT_ID_LENGTH = 255
FETCH_MEDIA = "fetch_media"
TYPING_EVENT = "typing"  # the dashboard's typing indicator (the widget's visitor typing is the same)
READ_EVENT = "contact.read"


class Outcome(StrEnum):
    STORED = "stored"  # a new message (an echo too) was stored
    DUPLICATE = "duplicate"  # a message whose provider id this inbox already has
    REPEATED = "repeated"  # an event whose event id this inbox already took: nothing stored
    APPLIED = "applied"  # a status, edit, revoke, reaction or follow changed what was stored
    IGNORED = "ignored"  # names a message we do not have, or changes nothing (a status going back)
    PUBLISHED = "published"  # typing or read: told to open dashboards, nothing stored
    UNKNOWN = "unknown"  # a kind of event the channel does not handle: acknowledged, counted
    REFUSED = "refused"  # the channel's placement refused it inside the transaction


@dataclass(frozen=True)
class IngestResult:
    """What became of one event. `message_id`/`conversation_id`: the message it stored or
    changed, where there is one; `status`: what a delivery receipt reported."""

    event: str  # message, status, echo, edit, revoke, reaction, follow, typing, read, unknown
    outcome: Outcome
    message_id: int | None = None
    conversation_id: int | None = None
    status: DeliveryStatus | None = None

    def answer(self) -> dict[str, Any]:
        """The webhook's answer for this event (docs/channels/api.md)."""
        if self.event == "message":
            return {
                "message_id": self.message_id,
                "conversation_id": self.conversation_id,
                "duplicate": self.outcome != Outcome.STORED,
            }
        if self.event == "status" and self.status is not None:
            return {"status": self.status.value, "applied": self.outcome == Outcome.APPLIED}
        return {"event": self.event, "outcome": self.outcome.value, "message_id": self.message_id}


@dataclass(frozen=True)
class FileRules:
    """How a message's files are checked. Webhooks and the widget refuse the whole request for
    a file that breaks the rules (the sender can fix and retry). Mail cannot be sent back, so it
    is taken whatever the files' types (`received`) and a file over the limits is left out with
    an annotation (`leave_out`): losing the whole mail would be worse."""

    root: Path
    limit: int
    received: bool = False
    leave_out: bool = False
    field: str = "attachments.{index}"  # names a refused file in the error


@dataclass(frozen=True)
class Placement:
    """Where a message goes: `message` as it is to be stored (a channel may fill its data from
    the stored files), into `conversation_id` of this inbox, or always into a new conversation;
    neither: the sender's latest conversation."""

    message: InboundMessage
    conversation_id: int | None = None
    new_conversation: bool = False


# Run in the transaction before a message is stored, with its stored files; None refuses it
# (nothing is stored and its files go). May raise to refuse the whole batch.
Place = Callable[[Tx, Row, InboundMessage, Sequence[StoredFile]], Awaitable[Placement | None]]
# Given a stored message's files still at the provider (in the transaction that stored it).
OnMedia = Callable[[Tx, Row, int, Sequence[MediaRef]], Awaitable[None]]
# Runs in the same transaction after every event (the IMAP cursor); its failure rolls all back.
InSameTx = Callable[[Tx, Sequence[IngestResult]], Awaitable[None]]


@dataclass(frozen=True)
class IngestItem:
    inbox: Row
    event: InboundEvent
    place: Place | None = None


@dataclass(frozen=True)
class _Files:
    stored: list[StoredFile]
    left_out: tuple[Annotation, ...] = ()


async def ingest(
    db: Database,
    rules: FileRules,
    inbox: Row,
    events: Sequence[InboundEvent],
    *,
    place: Place | None = None,
    on_media: OnMedia | None = None,
    in_same_tx: InSameTx | None = None,
) -> list[IngestResult]:
    """Store `events` of one inbox in one write transaction; one result per event, in order."""
    items = [IngestItem(inbox, event, place) for event in events]
    return await ingest_items(db, rules, items, on_media=on_media, in_same_tx=in_same_tx)


async def ingest_items(
    db: Database,
    rules: FileRules,
    items: Sequence[IngestItem],
    *,
    on_media: OnMedia | None = None,
    in_same_tx: InSameTx | None = None,
) -> list[IngestResult]:
    """Like `ingest`, for events of several inboxes at once (a mail to several inboxes is stored
    for all of them or none). A file that breaks the rules raises DomainError naming it
    (field attachments.<n>) before anything is stored."""
    items = [dataclasses.replace(item, event=clean(item.event)) for item in items]
    files = await _store_files(rules, items)
    everything = [f for group in files for f in group.stored]
    try:
        for attempt in range(ATTEMPTS):
            try:
                async with db.write() as tx:
                    results = await _ingest_in(tx, items, files, on_media or enqueue_fetch_media)
                    if in_same_tx is not None:
                        await in_same_tx(tx, results)
                break
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
    except BaseException:
        discard_files(rules.root, everything)
        raise
    for group, result in zip(files, results, strict=True):
        if result.outcome != Outcome.STORED:  # a repeat or a refusal: its copies of the files go
            discard_files(rules.root, group.stored)
    for item, result in zip(items, results, strict=True):
        INGESTED.labels(str(item.inbox.get("channel_type", "unknown")), result.outcome.value).inc()
    return results


async def _store_files(rules: FileRules, items: Sequence[IngestItem]) -> list[_Files]:
    """Each message's files, checked and written before the transaction (each item owns its
    copies). Writing goes to a thread; an event without files has nothing to wait for."""
    groups: list[_Files] = []
    try:
        for item in items:
            event = item.event
            if isinstance(event, InboundMessage) and event.files:
                groups.append(await asyncio.to_thread(_write, rules, event))
            else:
                groups.append(_Files([]))
    except BaseException:
        discard_files(rules.root, [f for group in groups for f in group.stored])
        raise
    return groups


def _write(rules: FileRules, msg: InboundMessage) -> _Files:
    stored: list[StoredFile] = []
    notes: list[Annotation] = []
    try:
        for index, file in enumerate(msg.files):
            try:
                stored.append(
                    store_file(
                        rules.root,
                        file.file_name,
                        file.content_type,
                        file.content,
                        rules.limit,
                        received=rules.received,
                    )
                )
            except DomainError as exc:
                if not rules.leave_out:
                    exc.field = rules.field.format(index=index)
                    raise
                size = file.content.stat().st_size if isinstance(file.content, Path) else len(file.content)
                notes.append(
                    attachment_left_out(file.file_name, size, exc.code, rules.limit, file.content_type)
                )
    except BaseException:
        discard_files(rules.root, stored)
        raise
    return _Files(stored, tuple(notes))


async def _ingest_in(
    tx: Tx, items: Sequence[IngestItem], files: Sequence[_Files], on_media: OnMedia
) -> list[IngestResult]:
    """One attempt inside the write transaction."""
    repeated = await _take_event_ids(tx, items)
    results: list[IngestResult] = []
    for index, (item, group) in enumerate(zip(items, files, strict=True)):
        if index in repeated:
            results.append(await _repeated(tx, item))
        else:
            results.append(await _handle(tx, item, group, on_media))
    return results


def _event_key(event_id: str) -> str:
    """An event id as stored: a very long one by its digest (ids are compared, never shown)."""
    if len(event_id) <= EVENT_ID_LENGTH:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


_ie = t.inbound_events
_KNOWN_EVENTS = sa.select(_ie.c.event_id).where(
    _ie.c.inbox_id == sa.bindparam("inbox_id"), _ie.c.event_id.in_(sa.bindparam("ids", expanding=True))
)


async def _take_event_ids(tx: Tx, items: Sequence[IngestItem]) -> set[int]:
    """Record the event ids of this batch; the indexes of the events already taken (before, or
    earlier in this batch). Events without an id cost nothing. A concurrent delivery of the same
    event loses on the unique key, and its retry finds the id taken."""
    wanted: dict[int, list[tuple[int, str]]] = {}
    for index, item in enumerate(items):
        if item.event.event_id:
            wanted.setdefault(item.inbox["id"], []).append((index, _event_key(item.event.event_id)))
    repeated: set[int] = set()
    now = utcnow()
    for inbox_id, keyed in wanted.items():
        ids = list(dict.fromkeys(key for _, key in keyed))
        known = set((await tx.conn.execute(_KNOWN_EVENTS, {"inbox_id": inbox_id, "ids": ids})).scalars())
        new: list[dict[str, Any]] = []
        for index, key in keyed:
            if key in known:
                repeated.add(index)
            else:
                known.add(key)
                new.append({"inbox_id": inbox_id, "event_id": key, "created_at": now})
        if new:
            await tx.conn.execute(_ie.insert(), new)
    return repeated


_KIND = {
    InboundMessage: "message",
    InboundStatus: "status",
    InboundEcho: "echo",
    InboundEdit: "edit",
    InboundRevoke: "revoke",
    InboundReaction: "reaction",
    InboundFollow: "follow",
    InboundTyping: "typing",
    InboundRead: "read",
    InboundUnknown: "unknown",
}


async def _repeated(tx: Tx, item: IngestItem) -> IngestResult:
    event = item.event
    if isinstance(event, InboundMessage):  # the retrying sender still learns where it went
        found = await _message_by_source(tx, item.inbox, event.source_id)
        if found is not None:
            return IngestResult("message", Outcome.REPEATED, found["id"], found["conversation_id"])
    if isinstance(event, InboundStatus):
        return IngestResult("status", Outcome.REPEATED, status=event.status)
    return IngestResult(_KIND[type(event)], Outcome.REPEATED)


async def _handle(tx: Tx, item: IngestItem, files: _Files, on_media: OnMedia) -> IngestResult:
    inbox, event = item.inbox, item.event
    match event:
        case InboundMessage():
            return await _message(tx, item, files, on_media)
        case InboundStatus():
            return await _status(tx, inbox, event)
        case InboundEcho():
            return await _echo(tx, inbox, event, on_media)
        case InboundEdit():
            return await _edit(tx, inbox, event)
        case InboundRevoke():
            return await _revoke(tx, inbox, event)
        case InboundReaction():
            return await _reaction(tx, inbox, event)
        case InboundFollow():
            return await _follow(tx, inbox, event)
        case InboundTyping() | InboundRead():
            return await _presence(tx, inbox, event)
        case InboundUnknown():
            return IngestResult("unknown", Outcome.UNKNOWN)
    raise AssertionError(f"unhandled inbound event {type(event).__name__}")  # pragma: no cover


async def _message(tx: Tx, item: IngestItem, files: _Files, on_media: OnMedia) -> IngestResult:
    inbox, msg = item.inbox, item.event
    assert isinstance(msg, InboundMessage)
    if files.left_out:
        msg = dataclasses.replace(msg, annotations=(*files.left_out, *msg.annotations))
    placement = Placement(msg) if item.place is None else await item.place(tx, inbox, msg, files.stored)
    if placement is None:
        return IngestResult("message", Outcome.REFUSED)
    msg = placement.message
    media = media_of(msg)
    reply_to: int | None = None
    if msg.reply_to_source_id is not None:
        quoted = await _message_by_source(tx, inbox, msg.reply_to_source_id)
        reply_to = quoted["id"] if quoted is not None else None
    extras = message_extras(msg, reply_to)
    if extras:
        msg = dataclasses.replace(msg, data={**msg.data, **extras})
    received = await do_receive_message(
        tx,
        inbox,
        msg,
        files.stored,
        conversation_id=placement.conversation_id,
        new_conversation=placement.new_conversation,
    )
    if received.duplicate:
        return IngestResult("message", Outcome.DUPLICATE, received.message_id, received.conversation_id)
    if media:
        await on_media(tx, inbox, received.message_id, media)
    return IngestResult("message", Outcome.STORED, received.message_id, received.conversation_id)


async def enqueue_fetch_media(tx: Tx, inbox: Row, message_id: int, media: Sequence[MediaRef]) -> None:
    """The default OnMedia: one durable fetch_media job per file, enqueued in the transaction
    that stores the message (so neither exists without the other). Its payload names the
    message, the inbox, the file's index in data.pending_files and the provider's reference."""
    for index, ref in enumerate(media):
        payload = {
            "message_id": message_id,
            "inbox_id": inbox["id"],
            "index": index,
            "reference": ref.reference,
            "file_name": ref.file_name,
            "content_type": ref.content_type,
            "size": ref.size,
        }
        await enqueue(tx, FETCH_MEDIA, payload)


_m = t.messages


async def _message_by_source(
    tx: Tx, inbox: Row, source_id: str, kind: MessageKind | None = None
) -> Row | None:
    where = [_m.c.inbox_id == inbox["id"], _m.c.source_id == source_id]
    if kind is not None:
        where.append(_m.c.kind == kind.value)
    query = sa.select(_m).where(*where).order_by(_m.c.id).limit(1)
    return (await tx.conn.execute(query)).mappings().first()


def failure_detail(status: InboundStatus) -> str | None:
    """The provider's code and words of a failure, as the agent reads them."""
    if status.provider_code and status.reason:
        return f"{status.provider_code}: {status.reason}"
    return status.provider_code or status.reason


async def _status(tx: Tx, inbox: Row, status: InboundStatus) -> IngestResult:
    """A receipt for one of our outgoing messages: forward only (domain/rules.delivery_may_advance);
    a failure keeps the provider's code and words as its detail."""
    where = [_m.c.inbox_id == inbox["id"], _m.c.kind == MessageKind.OUTGOING.value]
    if status.message_id is not None:
        where.append(_m.c.id == status.message_id)
    elif status.source_id is not None:
        where.append(_m.c.source_id == status.source_id)
    else:
        return IngestResult("status", Outcome.IGNORED, status=status.status)
    row = (await tx.conn.execute(sa.select(_m).where(*where).limit(1))).mappings().first()
    if row is None:
        return IngestResult("status", Outcome.IGNORED, status=status.status)
    changed = await do_set_delivery(
        tx, row, status.status, reason=FailureReason.UNDELIVERABLE, detail=failure_detail(status)
    )
    outcome = Outcome.APPLIED if changed else Outcome.IGNORED
    return IngestResult("status", outcome, row["id"], row["conversation_id"], status.status)


_ci, _c, _conv = t.contact_identities, t.contacts, t.conversations
_latest = (
    sa.select(sa.func.max(_conv.c.id)).where(_conv.c.identity_id == _ci.c.id).correlate(_ci).scalar_subquery()
)
# The identity of a contact source id on an inbox, its contact, and its latest conversation.
_PERSON = (
    sa.select(
        _ci.c.id.label("identity_id"),
        _ci.c.contact_id,
        _c.c.name.label("contact_name"),
        _c.c.email.label("contact_email"),
        _c.c.phone.label("contact_phone"),
        _latest.label("conversation_id"),
    )
    .join(_c, _c.c.id == _ci.c.contact_id)
    .where(_ci.c.inbox_id == sa.bindparam("inbox_id"), _ci.c.source_id == sa.bindparam("source_id"))
)


async def _person(tx: Tx, inbox: Row, source_id: str) -> Row | None:
    params = {"inbox_id": inbox["id"], "source_id": source_id}
    return (await tx.conn.execute(_PERSON, params)).mappings().first()


async def _person_or_new(tx: Tx, inbox: Row, contact: InboundContact) -> tuple[Row, bool]:
    """The contact's identity on this inbox, made (with a new contact) the first time."""
    found = await _person(tx, inbox, contact.source_id)
    if found is not None:
        return found, False
    now = utcnow()
    contact_id, name = await do_create_contact(tx, inbox["workspace_id"], contact, now)
    identity_id = await do_add_identity(tx, inbox["id"], contact.source_id, contact_id, now)
    made = {
        "identity_id": identity_id,
        "contact_id": contact_id,
        "contact_name": name,
        "contact_email": contact.email,
        "contact_phone": contact.phone,
        "conversation_id": None,
    }
    return made, True


async def _conversation(tx: Tx, conversation_id: int) -> Row:
    query = (
        sa.select(*_conv.c, _c.c.name.label("contact_name"))
        .join(_c, _c.c.id == _conv.c.contact_id)
        .where(_conv.c.id == conversation_id)
    )
    return (await tx.conn.execute(query)).mappings().one()


async def _echo(tx: Tx, inbox: Row, echo: InboundEcho, on_media: OnMedia) -> IngestResult:
    """A message the business sent from the provider's own app: outgoing, already sent, from
    nobody in Frontdesk (sender_type system, data.echo), with no delivery job. It joins the
    customer's latest conversation, or starts one that nobody waits on (resolved); it reopens
    nothing, and answers whoever waited."""
    seen = await _message_by_source(tx, inbox, echo.source_id)
    if seen is not None:
        return IngestResult("echo", Outcome.DUPLICATE, seen["id"], seen["conversation_id"])
    person, _ = await _person_or_new(tx, inbox, echo.contact)
    now = utcnow()
    preview = " ".join(echo.text.split())[:140]
    if person["conversation_id"] is not None:
        conv = await _conversation(tx, person["conversation_id"])
        changes = {"last_activity_at": now, "last_message_preview": preview, "waiting_since": None}
        await do_update_conversation(tx, conv, changes)
    else:
        conv = await do_open_conversation(
            tx,
            workspace_id=inbox["workspace_id"],
            inbox_id=inbox["id"],
            contact_id=person["contact_id"],
            identity_id=person["identity_id"],
            contact_name=person["contact_name"],
            now=now,
            last_message_preview=preview,
            **arrival_of(True, True, now).changes(0, None),
        )
        await tx.emit(ConversationCreated(inbox["workspace_id"], inbox["id"], conversation_view(conv)))
    media = tuple(echo.media)
    data = {**echo.data, "echo": True, **({"pending_files": pending_files(media)} if media else {})}
    values: dict[str, Any] = dict(
        workspace_id=inbox["workspace_id"],
        conversation_id=conv["id"],
        inbox_id=inbox["id"],
        kind=MessageKind.OUTGOING.value,
        sender_type=SenderType.SYSTEM.value,
        sender_id=None,
        text=echo.text,
        content_type=echo.content_type,
        source_id=echo.source_id,
        delivery_status=DeliveryStatus.SENT.value,
        failure_reason=None,
        data=data,
        annotations=[],
        created_at=now,
    )
    message_id = (await tx.conn.execute(_m.insert().values(**values).returning(_m.c.id))).scalar_one()
    await tx.emit(
        MessageCreated(inbox["workspace_id"], inbox["id"], message_view({**values, "id": message_id}))
    )
    if media:
        await on_media(tx, inbox, message_id, media)
    return IngestResult("echo", Outcome.STORED, message_id, conv["id"])


async def _update_message(tx: Tx, row: Row, changes: dict[str, Any], event: str) -> IngestResult:
    await tx.conn.execute(_m.update().where(_m.c.id == row["id"]).values(**changes))
    await tx.emit(MessageUpdated(row["workspace_id"], row["inbox_id"], message_view({**row, **changes})))
    return IngestResult(event, Outcome.APPLIED, row["id"], row["conversation_id"])


async def _edit(tx: Tx, inbox: Row, edit: InboundEdit) -> IngestResult:
    """The customer changed a message's text: the new text is shown, the earlier ones kept."""
    row = await _message_by_source(tx, inbox, edit.source_id, MessageKind.INCOMING)
    if row is None or row["text"] == edit.text:
        return IngestResult("edit", Outcome.IGNORED, row["id"] if row else None)
    at = edit.provider_time or utcnow()
    changes = {"text": edit.text, "data": edited_data(dict(row["data"]), row["text"], at)}
    return await _update_message(tx, row, changes, "edit")


async def _revoke(tx: Tx, inbox: Row, revoke: InboundRevoke) -> IngestResult:
    """The customer unsent a message: marked revoked; its text stays for the agent, flagged."""
    row = await _message_by_source(tx, inbox, revoke.source_id, MessageKind.INCOMING)
    if row is None or "revoked" in row["data"]:
        return IngestResult("revoke", Outcome.IGNORED, row["id"] if row else None)
    changes = {"data": revoked_data(dict(row["data"]), revoke.provider_time or utcnow())}
    return await _update_message(tx, row, changes, "revoke")


async def _reaction(tx: Tx, inbox: Row, reaction: InboundReaction) -> IngestResult:
    """A reaction to any message of this inbox (ours or the customer's), one per contact."""
    row = await _message_by_source(tx, inbox, reaction.source_id)
    if row is None:
        return IngestResult("reaction", Outcome.IGNORED)
    data = reacted_data(dict(row["data"]), reaction.contact_source_id, reaction.emoji)
    if data == row["data"]:
        return IngestResult("reaction", Outcome.IGNORED, row["id"], row["conversation_id"])
    return await _update_message(tx, row, {"data": data}, "reaction")


FOLLOWED = "{name} followed the account"
UNFOLLOWED = "{name} unfollowed or blocked the account"


async def _follow(tx: Tx, inbox: Row, follow: InboundFollow) -> IngestResult:
    """A follow or unfollow: the contact and identity are made (or their missing email and phone
    filled in: what an agent wrote is never overwritten). No conversation is opened by a follow
    alone (a follow is not a question, and a follower who never writes would fill the inbox);
    where the contact has one, its latest conversation gets an activity line."""
    person, made = await _person_or_new(tx, inbox, follow.contact)
    if not made:
        fill = {
            "email": follow.contact.email if not person["contact_email"] else None,
            "phone": follow.contact.phone if not person["contact_phone"] else None,
        }
        fill = {k: v for k, v in fill.items() if v}
        if fill:
            await tx.conn.execute(_c.update().where(_c.c.id == person["contact_id"]).values(**fill))
    if person["conversation_id"] is None:
        return IngestResult("follow", Outcome.APPLIED)
    conv = await _conversation(tx, person["conversation_id"])
    name = person["contact_name"]
    text = (FOLLOWED if follow.following else UNFOLLOWED).format(name=name)
    referral = dataclasses.asdict(follow.referral) if follow.referral is not None else None
    await do_activity(
        tx,
        conv,
        None,
        text,
        activity="followed" if follow.following else "unfollowed",
        name=name,
        referral=referral,
    )
    return IngestResult("follow", Outcome.APPLIED, conversation_id=conv["id"])


async def _presence(tx: Tx, inbox: Row, event: InboundTyping | InboundRead) -> IngestResult:
    """Typing and read: nothing stored (they come by the thousand and are stale in seconds);
    told to the open dashboards as ephemeral events after the commit. A typing customer shows
    as the widget's visitor does ("typing" with conversation_id and contact_id); a read one as
    "contact.read" (statuses of our messages move only by InboundStatus receipts)."""
    kind = "typing" if isinstance(event, InboundTyping) else "read"
    person = await _person(tx, inbox, event.contact_source_id)
    if person is None or person["conversation_id"] is None:
        return IngestResult(kind, Outcome.IGNORED)
    data: dict[str, Any] = {"conversation_id": person["conversation_id"], "contact_id": person["contact_id"]}
    if isinstance(event, InboundTyping):
        tx.announce(ephemeral(TYPING_EVENT, inbox["workspace_id"], inbox["id"], {**data, "typing": True}))
    else:
        up_to_time = event.up_to_time.isoformat() if event.up_to_time else None
        data.update(up_to_source_id=event.up_to_source_id, up_to_time=up_to_time)
        tx.announce(ephemeral(READ_EVENT, inbox["workspace_id"], inbox["id"], data))
    return IngestResult(kind, Outcome.PUBLISHED, conversation_id=person["conversation_id"])
