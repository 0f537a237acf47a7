"""What an inbound message's `data` carries beyond its text, in one documented shape whatever the
channel (docs/decisions/0038-one-ingest-action.md). The dashboard and the API read these keys;
a channel never writes its own spelling of them.

    location      {"latitude", "longitude", "name", "address"}
    contact_card  {"name", "phones": [...], "emails": [...]}
    sticker       {"package_id", "sticker_id"}
    choice        {"choice_id", "title"}            (a button or list row the customer picked)
    referral      {"source", "ref", "url"}          (how the customer came)
    reply_to      {"source_id", "message_id"}       (message_id: ours, None when not stored here)
    reply_token   {"token", "received_at"}          a free-reply token the provider gave with the
                  message (LINE); received_at: the provider's time of the message, ISO 8601
    read_token    a token the provider gave to mark the message read (LINE's markAsReadToken),
                  handed to the channel's mark_read when an agent reads the conversation
    pending_media [{"index", "reference", "file_name", "content_type", "size"}]
                  files still at the provider; the fetch_media job (jobs/media.py) attaches each
                  and removes its entry, or marks it {"status": "failed", "reason", "detail"}
    edits         [{"text", "edited_at"}]           earlier texts, oldest first (InboundEdit)
    revoked       {"revoked_at"}                    unsent by the customer; the text is kept
    reactions     {contact source id: emoji}        (InboundReaction; an empty emoji removes)
    echo          true                              sent from the provider's own app (InboundEcho)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from frontdesk.domain.inbound import InboundMessage, MediaRef

__all__ = [
    "PENDING_MEDIA",
    "PendingFile",
    "edited_data",
    "media_of",
    "message_extras",
    "pending_files",
    "reacted_data",
    "revoked_data",
]


PENDING_MEDIA = "pending_media"


class PendingFile(TypedDict):
    index: int
    reference: str
    file_name: str | None
    content_type: str | None
    size: int | None


def media_of(msg: InboundMessage) -> tuple[MediaRef, ...]:
    """The message's files still at the provider, the sticker's image last."""
    sticker = (msg.sticker.media,) if msg.sticker is not None and msg.sticker.media is not None else ()
    return (*msg.media, *sticker)


def pending_files(media: Sequence[MediaRef]) -> list[PendingFile]:
    return [
        PendingFile(
            index=i, reference=m.reference, file_name=m.file_name, content_type=m.content_type, size=m.size
        )
        for i, m in enumerate(media)
    ]


def message_extras(msg: InboundMessage, reply_to_message_id: int | None) -> dict[str, Any]:
    """The typed parts of `msg` as data keys (only those it has)."""
    extras: dict[str, Any] = {}
    if msg.location is not None:
        loc = msg.location
        extras["location"] = {
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "name": loc.name,
            "address": loc.address,
        }
    if msg.shared_contact is not None:
        card = msg.shared_contact
        extras["contact_card"] = {"name": card.name, "phones": list(card.phones), "emails": list(card.emails)}
    if msg.sticker is not None:
        extras["sticker"] = {"package_id": msg.sticker.package_id, "sticker_id": msg.sticker.sticker_id}
    if msg.choice is not None:
        extras["choice"] = {"choice_id": msg.choice.choice_id, "title": msg.choice.title}
    if msg.referral is not None:
        ref = msg.referral
        extras["referral"] = {"source": ref.source, "ref": ref.ref, "url": ref.url}
    if msg.reply_to_source_id is not None:
        extras["reply_to"] = {"source_id": msg.reply_to_source_id, "message_id": reply_to_message_id}
    if msg.reply_token is not None:
        received = msg.provider_time.isoformat() if msg.provider_time is not None else None
        extras["reply_token"] = {"token": msg.reply_token, "received_at": received}
    media = media_of(msg)
    if media:
        extras[PENDING_MEDIA] = pending_files(media)
    return extras


def edited_data(data: dict[str, Any], previous_text: str, at: datetime) -> dict[str, Any]:
    """The data of a message whose text the customer changed: the earlier text is kept."""
    edits = [*data.get("edits", []), {"text": previous_text, "edited_at": at.isoformat()}]
    return {**data, "edits": edits}


def revoked_data(data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {**data, "revoked": {"revoked_at": at.isoformat()}}


def reacted_data(data: dict[str, Any], contact_source_id: str, emoji: str) -> dict[str, Any]:
    """One reaction per contact: a new one replaces theirs, an empty one takes it back."""
    reactions = {k: v for k, v in data.get("reactions", {}).items() if k != contact_source_id}
    if emoji:
        reactions[contact_source_id] = emoji
    return {**data, "reactions": reactions}
