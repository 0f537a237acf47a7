"""The one ingest action every channel's inbound events go through (webhooks, SMTP, IMAP, the
widget): files written once before the transaction, the transaction retried when concurrent
first messages of one contact race on a unique key, the files of a failed attempt or of a
duplicate discarded, every event stored at most once (by the provider's message id and by its
event id), and each kind of event (domain/inbound.py) handled here, not by the channel.

What each other kind of event does is in actions/inbound_events.py; this module is the
orchestration and the customer's message. Channels keep only what is theirs: email finds the
conversation by reply token and references (a `Place` callback), the widget refuses a blocked
visitor (the same callback), the IMAP import advances its cursor in the transaction that
stores (`in_same_tx`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.inbound_events import (
    IngestResult,
    OnMedia,
    Outcome,
    apply_activity,
    apply_edit,
    apply_follow,
    apply_reaction,
    apply_revoke,
    apply_status,
    message_by_source,
    publish_presence,
    store_echo,
)
from frontdesk.actions.media import do_queue_media
from frontdesk.actions.messages import Row, do_receive_message
from frontdesk.domain.annotations import Annotation, attachment_left_out
from frontdesk.domain.errors import DomainError
from frontdesk.domain.inbound import (
    InboundActivity,
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
from frontdesk.domain.inbound_data import media_of, message_extras
from frontdesk.domain.input import clean
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.direct import Direct, run
from frontdesk.store.types import utcnow

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
EVENT_IDS_PER_STATEMENT = 300


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


@functools.cache
def _take_event_ids_statement(count: int) -> Direct:
    """Record `count` event ids in one statement on the driver (store/direct.py); it returns the
    ids it recorded, not those already taken. On PostgreSQL a concurrent delivery of the same
    event waits here for the other transaction and, once that one committed, finds the id taken."""
    rows = ", ".join(f"(:inbox_id_{i}, :event_id_{i}, :created_at_{i})" for i in range(count))
    types = [
        sa.bindparam(f"{column}_{i}", type_=_ie.c[column].type)
        for i in range(count)
        for column in ("inbox_id", "event_id", "created_at")
    ]
    sql = (
        f"INSERT INTO inbound_events (inbox_id, event_id, created_at) VALUES {rows} "
        "ON CONFLICT (inbox_id, event_id) DO NOTHING RETURNING inbox_id, event_id"
    )
    return Direct(sa.text(sql).bindparams(*types).columns(inbox_id=sa.Integer, event_id=sa.String))


async def _take_event_ids(tx: Tx, items: Sequence[IngestItem]) -> set[int]:
    """Record the event ids of this batch; the indexes of the events already taken (before, or
    earlier in this batch). Events without an id cost nothing."""
    keys = [
        (item.inbox["id"], _event_key(item.event.event_id)) if item.event.event_id else None for item in items
    ]
    wanted = list(dict.fromkeys(key for key in keys if key is not None))
    if not wanted:
        return set()
    now = utcnow()
    fresh: set[tuple[int, str]] = set()
    for start in range(0, len(wanted), EVENT_IDS_PER_STATEMENT):  # within the drivers' parameter limits
        chunk = wanted[start : start + EVENT_IDS_PER_STATEMENT]
        params: dict[str, Any] = {}
        for i, (inbox_id, event_id) in enumerate(chunk):
            params.update({f"inbox_id_{i}": inbox_id, f"event_id_{i}": event_id, f"created_at_{i}": now})
        recorded = await run(tx.conn, _take_event_ids_statement(len(chunk)), params)
        fresh.update((row["inbox_id"], row["event_id"]) for row in recorded)
    repeated: set[int] = set()
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in fresh:
            fresh.discard(key)  # its first event in this batch is new; a later copy repeats it
        else:
            repeated.add(index)
    return repeated


_KIND = {
    InboundMessage: "message",
    InboundStatus: "status",
    InboundEcho: "echo",
    InboundEdit: "edit",
    InboundRevoke: "revoke",
    InboundReaction: "reaction",
    InboundFollow: "follow",
    InboundActivity: "activity",
    InboundTyping: "typing",
    InboundRead: "read",
    InboundUnknown: "unknown",
}


async def _repeated(tx: Tx, item: IngestItem) -> IngestResult:
    event = item.event
    if isinstance(event, InboundMessage):  # the retrying sender still learns where it went
        found = await message_by_source(tx, item.inbox, event.source_id)
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
            return await apply_status(tx, inbox, event)
        case InboundEcho():
            return await store_echo(tx, inbox, event, on_media)
        case InboundEdit():
            return await apply_edit(tx, inbox, event)
        case InboundRevoke():
            return await apply_revoke(tx, inbox, event)
        case InboundReaction():
            return await apply_reaction(tx, inbox, event)
        case InboundFollow():
            return await apply_follow(tx, inbox, event)
        case InboundActivity():
            return await apply_activity(tx, inbox, event)
        case InboundTyping() | InboundRead():
            return await publish_presence(tx, inbox, event)
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
        quoted = await message_by_source(tx, inbox, msg.reply_to_source_id)
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
    """The default OnMedia: one durable fetch_media job per file (jobs/media.py), enqueued in the
    transaction that stores the message, so neither exists without the other."""
    await do_queue_media(tx, message_id, len(media))
