"""Telegram updates → the typed events of domain/inbound.py.

One Update per webhook call. Its update_id is the event id (a redelivered update stores nothing).
Only private chats are handled; group, supergroup and channel updates, updates of kinds we do not
ask for and message kinds we do not know become InboundUnknown (acknowledged, counted, ignored):
the Bot API adds fields and kinds about monthly, so anything unknown is tolerated, never refused.

A message's source_id is "<chat id>:<message id>" (message ids count per chat, not per bot); the
contact's source_id is the user id, which in a private chat is also the chat id replies go to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from frontdesk.domain.annotations import Annotation, attachment_left_out
from frontdesk.domain.errors import InvalidInput, MalformedRequest
from frontdesk.domain.inbound import (
    Choice,
    ContactCard,
    InboundContact,
    InboundEdit,
    InboundEvent,
    InboundFollow,
    InboundMessage,
    InboundUnknown,
    Location,
    MediaRef,
    Referral,
    Sticker,
)

__all__ = ["CallbackQuery", "ParsedUpdate", "parse_update"]

# "/start <payload>" as a t.me/<bot>?start=<payload> link sends it (payload: 1-64 of A-Za-z0-9_-).
START = re.compile(r"^/start(?:@\w+)?(?:\s+(\S{1,64}))?\s*$")


@dataclass(frozen=True)
class CallbackQuery:
    """A button press to acknowledge (answerCallbackQuery) so the customer's button stops spinning."""

    query_id: str


@dataclass(frozen=True)
class ParsedUpdate:
    events: list[InboundEvent]
    callback: CallbackQuery | None = None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _time(value: Any) -> datetime | None:
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def sender_name(user: dict[str, Any]) -> str | None:
    name = " ".join(p for p in (_str(user.get("first_name")), _str(user.get("last_name"))) if p)
    if name:
        return name[:200]
    username = _str(user.get("username"))
    return f"@{username}"[:200] if username else None


def _contact(user: dict[str, Any]) -> InboundContact | None:
    user_id = _int(user.get("id"))
    if user_id is None or user.get("is_bot") is True:
        return None
    return InboundContact(source_id=str(user_id), name=sender_name(user))


class _Media:
    """The files of one message, and a note for each one too big to download."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.refs: list[MediaRef] = []
        self.notes: list[Annotation] = []

    def add(self, item: dict[str, Any], name: str, content_type: str | None) -> MediaRef | None:
        file_id = _str(item.get("file_id"))
        if file_id is None:
            return None
        name = _str(item.get("file_name")) or name
        content_type = _str(item.get("mime_type")) or content_type
        size = _int(item.get("file_size"))
        if size is not None and size > self.limit:
            self.notes.append(attachment_left_out(name, size, "too_large", self.limit, content_type or ""))
            return None
        ref = MediaRef(reference=file_id, file_name=name, content_type=content_type, size=size)
        self.refs.append(ref)
        return ref


def _largest(sizes: Any) -> dict[str, Any]:
    photos = [p for p in sizes if isinstance(p, dict)] if isinstance(sizes, list) else []
    if not photos:
        return {}
    return max(photos, key=lambda p: (_int(p.get("file_size")) or 0, (_int(p.get("width")) or 0)))


# Message kinds that are a file, with the name and type a file of that kind gets by default.
_FILES: tuple[tuple[str, str, str | None], ...] = (
    ("document", "document", None),
    ("audio", "audio.mp3", "audio/mpeg"),
    ("voice", "voice.ogg", "audio/ogg"),
    ("video", "video.mp4", "video/mp4"),
    ("video_note", "video_note.mp4", "video/mp4"),
    ("animation", "animation.mp4", "video/mp4"),
)


def _sticker(item: dict[str, Any], media: _Media) -> Sticker:
    ref = None
    if item.get("is_animated") is not True:  # an animated sticker is a Lottie file no browser shows
        video = item.get("is_video") is True
        ref = media.add(
            {**item, "file_name": None, "mime_type": None},
            "sticker.webm" if video else "sticker.webp",
            "video/webm" if video else "image/webp",
        )
        media.refs = [r for r in media.refs if r is not ref]  # the sticker carries its own image
    return Sticker(
        package_id=_str(item.get("set_name")),
        sticker_id=_str(item.get("file_unique_id")) or _str(item.get("file_id")) or "",
        media=ref,
    )


def _location(message: dict[str, Any]) -> Location | None:
    venue = _dict(message.get("venue"))
    place = _dict(venue.get("location")) or _dict(message.get("location"))
    lat, lon = _num(place.get("latitude")), _num(place.get("longitude"))
    if lat is None or lon is None:
        return None
    return Location(lat, lon, name=_str(venue.get("title")), address=_str(venue.get("address")))


def _shared_contact(message: dict[str, Any]) -> ContactCard | None:
    card = _dict(message.get("contact"))
    phone = _str(card.get("phone_number"))
    name = " ".join(p for p in (_str(card.get("first_name")), _str(card.get("last_name"))) if p)
    if not phone and not name:
        return None
    return ContactCard(name=name or phone or "", phones=(phone,) if phone else ())


@dataclass
class _Parts:
    """What a message carries beyond its text."""

    media: _Media
    sticker: Sticker | None = None
    location: Location | None = None
    card: ContactCard | None = None

    @property
    def empty(self) -> bool:
        return not (self.media.refs or self.media.notes or self.sticker or self.location or self.card)


def _parts(message: dict[str, Any], limit: int) -> _Parts:
    parts = _Parts(_Media(limit))
    photo = _largest(message.get("photo"))
    if photo:
        unique = _str(photo.get("file_unique_id")) or "photo"
        parts.media.add({**photo, "file_name": None, "mime_type": None}, f"{unique}.jpg", "image/jpeg")
    for key, name, content_type in _FILES:
        item = _dict(message.get(key))
        if item:
            parts.media.add(item, name, content_type)
            break  # an animation also comes as a document: one file
    sticker = _dict(message.get("sticker"))
    if sticker:
        parts.sticker = _sticker(sticker, parts.media)
    parts.location = _location(message)
    parts.card = _shared_contact(message)
    return parts


def _kind(message: dict[str, Any]) -> str:
    known = {"message_id", "from", "chat", "date", "text", "caption", "entities", "caption_entities"}
    return next((k for k in message if k not in known and isinstance(message[k], dict | list)), "empty")


def _chat_kind(chat: dict[str, Any]) -> str:
    kind = chat.get("type")
    return f"{kind}_chat"[:100] if isinstance(kind, str) and kind else "unknown_chat"


def _message(update_id: str, message: dict[str, Any], limit: int) -> InboundEvent:
    chat = _dict(message.get("chat"))
    contact = _contact(_dict(message.get("from")))
    message_id, chat_id = _int(message.get("message_id")), _int(chat.get("id"))
    if chat.get("type") != "private":
        return InboundUnknown(_chat_kind(chat), event_id=update_id)
    if contact is None or message_id is None or chat_id is None:
        return InboundUnknown("message_without_sender", event_id=update_id)
    text = _str(message.get("text")) or _str(message.get("caption")) or ""
    parts = _parts(message, limit)
    if parts.sticker is not None and not text:
        text = _str(_dict(message.get("sticker")).get("emoji")) or ""
    if not text and parts.empty:
        return InboundUnknown(f"message.{_kind(message)}"[:100], event_id=update_id)
    start = START.match(text)
    referral = Referral("deep_link", ref=start.group(1)) if start and start.group(1) else None
    reply_to = _dict(message.get("reply_to_message"))
    quoted = _int(reply_to.get("message_id"))
    return InboundMessage(
        source_id=f"{chat_id}:{message_id}",
        contact=contact,
        text=text,
        media=tuple(parts.media.refs),
        sticker=parts.sticker,
        location=parts.location,
        shared_contact=parts.card,
        referral=referral,
        reply_to_source_id=f"{chat_id}:{quoted}" if quoted is not None else None,
        annotations=tuple(parts.media.notes),
        event_id=update_id,
        provider_time=_time(message.get("date")),
    )


def _edit(update_id: str, message: dict[str, Any]) -> InboundEvent:
    chat = _dict(message.get("chat"))
    message_id, chat_id = _int(message.get("message_id")), _int(chat.get("id"))
    text = _str(message.get("text")) or _str(message.get("caption"))
    if chat.get("type") != "private":
        return InboundUnknown(_chat_kind(chat), event_id=update_id)
    if message_id is None or chat_id is None or text is None:
        # A live location moving, a changed file without caption: nothing an agent reads.
        return InboundUnknown("edited_message", event_id=update_id)
    return InboundEdit(
        f"{chat_id}:{message_id}",
        text,
        event_id=update_id,
        provider_time=_time(message.get("edit_date")) or _time(message.get("date")),
    )


def _button_title(message: dict[str, Any], data: str) -> str | None:
    """The text of the inline button whose callback_data was pressed, where the message still shows it."""
    rows = _dict(message.get("reply_markup")).get("inline_keyboard")
    for row in rows if isinstance(rows, list) else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return _str(button.get("text"))
    return None


def _callback(update_id: str, query: dict[str, Any]) -> ParsedUpdate:
    query_id = _str(query.get("id"))
    contact = _contact(_dict(query.get("from")))
    message = _dict(query.get("message"))
    chat = _dict(message.get("chat"))
    data = _str(query.get("data"))
    if query_id is None or contact is None:
        return ParsedUpdate([InboundUnknown("callback_query", event_id=update_id)])
    acknowledge = CallbackQuery(query_id)
    if (chat and chat.get("type") != "private") or data is None:
        # A button in a group, or a game's button: acknowledged so it stops spinning, not stored.
        return ParsedUpdate([InboundUnknown("callback_query", event_id=update_id)], acknowledge)
    title = _button_title(message, data) or data
    event = InboundMessage(
        source_id=f"callback:{query_id}",
        contact=contact,
        text=title,
        choice=Choice(choice_id=data, title=title),
        event_id=update_id,
    )
    return ParsedUpdate([event], acknowledge)


def _member(update_id: str, change: dict[str, Any]) -> InboundEvent:
    """my_chat_member in a private chat: the customer blocked (kicked) or unblocked the bot."""
    chat = _dict(change.get("chat"))
    contact = _contact(_dict(change.get("from")))
    status = _dict(change.get("new_chat_member")).get("status")
    if chat.get("type") != "private" or contact is None or status not in ("kicked", "member"):
        return InboundUnknown("my_chat_member", event_id=update_id)
    return InboundFollow(
        contact, following=status == "member", event_id=update_id, provider_time=_time(change.get("date"))
    )


def _dispatch(update_id: str, update: dict[str, Any], limit: int) -> ParsedUpdate:
    handlers: dict[str, Callable[[dict[str, Any]], ParsedUpdate]] = {
        "message": lambda m: ParsedUpdate([_message(update_id, m, limit)]),
        "edited_message": lambda m: ParsedUpdate([_edit(update_id, m)]),
        "callback_query": lambda q: _callback(update_id, q),
        "my_chat_member": lambda c: ParsedUpdate([_member(update_id, c)]),
    }
    for key, handle in handlers.items():
        if isinstance(update.get(key), dict):
            return handle(update[key])
    kind = next((k for k in update if k != "update_id"), "empty")
    return ParsedUpdate([InboundUnknown(kind[:100], event_id=update_id)])


def parse_update(body: bytes, download_limit: int) -> ParsedUpdate:
    """One webhook body; MalformedRequest / InvalidInput only when it is not an Update at all."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}", field="body") from None
    if not isinstance(raw, dict):
        raise InvalidInput("body: an Update is a JSON object", field="body")
    update_id = _int(raw.get("update_id"))
    if update_id is None:
        raise InvalidInput("update_id: an Update needs its integer update_id", field="update_id")
    return _dispatch(str(update_id), raw, download_limit)
