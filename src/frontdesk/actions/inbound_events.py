"""What the ingest action (actions/ingest.py) does with each inbound event other than a
customer's message: delivery receipts, echoes, edits, unsends, reactions, follows, typing and
reads (domain/inbound.py); and the typed result of every event. The shapes kept in message data
are documented in domain/inbound_data.py; the choices in docs/decisions/0038-one-ingest-action.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from frontdesk.actions.conversations import do_activity, do_open_conversation, do_update_conversation
from frontdesk.actions.messages import Row, do_add_identity, do_create_contact, do_set_delivery
from frontdesk.actions.profiles import do_change_contact, do_queue_profile
from frontdesk.domain.arrival import arrival_of
from frontdesk.domain.enums import DeliveryStatus, FailureReason, MessageKind, SenderType
from frontdesk.domain.inbound import (
    InboundActivity,
    InboundContact,
    InboundEcho,
    InboundEdit,
    InboundFollow,
    InboundReaction,
    InboundRead,
    InboundRevoke,
    InboundStatus,
    InboundTyping,
    MediaRef,
)
from frontdesk.domain.inbound_data import (
    PENDING_MEDIA,
    edited_data,
    pending_files,
    reacted_data,
    revoked_data,
)
from frontdesk.events import ConversationCreated, MessageCreated, MessageUpdated, ephemeral
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view, message_view

TYPING_EVENT = "typing"  # the dashboard's typing indicator (the widget's visitor typing is the same)
READ_EVENT = "contact.read"


class Outcome(StrEnum):
    STORED = "stored"  # a new message (an echo too) was stored
    DUPLICATE = "duplicate"  # a message whose provider id this inbox already has
    REPEATED = "repeated"  # an event whose event id this inbox already took: nothing stored
    APPLIED = "applied"  # a status, edit, revoke, reaction, follow or activity changed what was stored
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


# Given a stored message's files still at the provider (in the transaction that stored it).
OnMedia = Callable[[Tx, Row, int, Sequence[MediaRef]], Awaitable[None]]

_m = t.messages


async def message_by_source(
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


async def apply_status(tx: Tx, inbox: Row, status: InboundStatus) -> IngestResult:
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
    await do_queue_profile(tx, inbox, contact_id, contact.source_id)
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


async def store_echo(tx: Tx, inbox: Row, echo: InboundEcho, on_media: OnMedia) -> IngestResult:
    """A message the business sent from the provider's own app: outgoing, already sent, from
    nobody in Frontdesk (sender_type system, data.echo), with no delivery job. It joins the
    customer's latest conversation, or starts one that nobody waits on (resolved); it reopens
    nothing, and answers whoever waited."""
    seen = await message_by_source(tx, inbox, echo.source_id)
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
    data = {**echo.data, "echo": True, **({PENDING_MEDIA: pending_files(media)} if media else {})}
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


async def apply_edit(tx: Tx, inbox: Row, edit: InboundEdit) -> IngestResult:
    """The customer changed a message's text: the new text is shown, the earlier ones kept."""
    row = await message_by_source(tx, inbox, edit.source_id, MessageKind.INCOMING)
    if row is None or row["text"] == edit.text:
        return IngestResult("edit", Outcome.IGNORED, row["id"] if row else None)
    at = edit.provider_time or utcnow()
    changes = {"text": edit.text, "data": edited_data(dict(row["data"]), row["text"], at)}
    return await _update_message(tx, row, changes, "edit")


async def apply_revoke(tx: Tx, inbox: Row, revoke: InboundRevoke) -> IngestResult:
    """The customer unsent a message: marked revoked; its text stays for the agent, flagged."""
    row = await message_by_source(tx, inbox, revoke.source_id, MessageKind.INCOMING)
    if row is None or "revoked" in row["data"]:
        return IngestResult("revoke", Outcome.IGNORED, row["id"] if row else None)
    changes = {"data": revoked_data(dict(row["data"]), revoke.provider_time or utcnow())}
    return await _update_message(tx, row, changes, "revoke")


async def apply_reaction(tx: Tx, inbox: Row, reaction: InboundReaction) -> IngestResult:
    """A reaction to any message of this inbox (ours or the customer's), one per contact."""
    row = await message_by_source(tx, inbox, reaction.source_id)
    if row is None:
        return IngestResult("reaction", Outcome.IGNORED)
    data = reacted_data(dict(row["data"]), reaction.contact_source_id, reaction.emoji)
    if data == row["data"]:
        return IngestResult("reaction", Outcome.IGNORED, row["id"], row["conversation_id"])
    return await _update_message(tx, row, {"data": data}, "reaction")


FOLLOWED = "{name} followed the account"
UNFOLLOWED = "{name} unfollowed or blocked the account"


async def apply_follow(tx: Tx, inbox: Row, follow: InboundFollow) -> IngestResult:
    """A follow or unfollow: the contact and identity are made (or their missing email and phone
    filled in: what an agent wrote is never overwritten). No conversation is opened by a follow
    alone (a follow is not a question, and a follower who never writes would fill the inbox);
    where the contact has one, its latest conversation gets an activity line, and an unfollow
    marks the customer as gone from it (customer_left_at) until a follow."""
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
    # Unfollowed or blocked: nothing sent here reaches the customer until they follow again
    # (the conversation's reply window says so and the reply action refuses).
    left_at = None if follow.following else (follow.provider_time or utcnow())
    if (conv["customer_left_at"] is None) != (left_at is None):
        await do_update_conversation(tx, conv, {"customer_left_at": left_at}, inbox=inbox)
    return IngestResult("follow", Outcome.APPLIED, conversation_id=conv["id"])


OPENED_LINK = "{name} opened {url} from the account's menu"


async def apply_activity(tx: Tx, inbox: Row, activity: InboundActivity) -> IngestResult:
    """A menu link opened or a location reported (InboundActivity). Only for a customer already
    known here: neither makes a contact or a conversation."""
    person = await _person(tx, inbox, activity.contact.source_id)
    if person is None:
        return IngestResult("activity", Outcome.IGNORED)
    if activity.location is not None:
        at = activity.provider_time or utcnow()
        await _keep_on_contact(
            tx,
            inbox,
            person["contact_id"],
            "last_location",
            {
                "latitude": activity.location.latitude,
                "longitude": activity.location.longitude,
                "reported_at": at.isoformat(),
            },
        )
    if activity.link is None or person["conversation_id"] is None:
        return IngestResult("activity", Outcome.APPLIED)
    conv = await _conversation(tx, person["conversation_id"])
    name = person["contact_name"]
    text = OPENED_LINK.format(name=name, url=activity.link)
    await do_activity(tx, conv, None, text, activity="opened_link", name=name, url=activity.link)
    return IngestResult("activity", Outcome.APPLIED, conversation_id=conv["id"])


async def _keep_on_contact(tx: Tx, inbox: Row, contact_id: int, key: str, value: Any) -> None:
    """One attribute of the contact, announced to the dashboards."""
    row = (await tx.conn.execute(sa.select(_c).where(_c.c.id == contact_id))).mappings().first()
    if row is not None and (row["attributes"] or {}).get(key) != value:
        await do_change_contact(
            tx, inbox["id"], row, {"attributes": {**(row["attributes"] or {}), key: value}}
        )


async def publish_presence(tx: Tx, inbox: Row, event: InboundTyping | InboundRead) -> IngestResult:
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
