"""LINE webhook bodies to the typed events of domain/inbound.py.

A body is {"destination", "events": [...]}, several events per POST; the console's Verify posts
"events": []. Each event is read on its own: one LINE changes or we do not know becomes
InboundUnknown (acknowledged, counted, ignored) and never costs the others. Only a body that is
not a JSON object with an "events" list is refused (400).

Identities are the user's `source.userId`; group and room events are acknowledged and ignored.
Every event carries `webhookEventId` (stored once) and messages their LINE message id (stored
once); a redelivered event (`deliveryContext.isRedelivery`) keeps no reply token, which LINE
does not honour a second time.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson

from frontdesk.domain.errors import MalformedRequest
from frontdesk.domain.inbound import (
    Choice,
    InboundContact,
    InboundEvent,
    InboundFollow,
    InboundMessage,
    InboundRevoke,
    InboundUnknown,
    Location,
    MediaRef,
    Sticker,
)

__all__ = ["STICKER_PREFIX", "parse_body"]

# A sticker's image is fetched from LINE's sticker CDN, not the content API: its reference says so.
STICKER_PREFIX = "sticker:"
_MEDIA_TYPES = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/m4a"}
_MEDIA_NAMES = {"image": "image.jpg", "video": "video.mp4", "audio": "audio.m4a"}


def parse_body(body: bytes) -> list[InboundEvent]:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"body is not valid JSON: {exc}", field="body") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise MalformedRequest("body: expected an object with an events list", field="events")
    return [_event(e) for e in raw["events"]]


def _event(raw: Any) -> InboundEvent:
    if not isinstance(raw, dict):
        return InboundUnknown("line:malformed")
    kind = _str(raw.get("type")) or "none"
    event_id = _str(raw.get("webhookEventId"), limit=None)
    try:
        return _typed(raw, kind, event_id) or InboundUnknown(f"line:{kind}"[:100], event_id=event_id)
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError, OSError):
        # LINE's shape changed, or the event is damaged: acknowledged and counted, not stored.
        return InboundUnknown(f"line:{kind}:malformed"[:100], event_id=event_id)


def _typed(raw: dict[str, Any], kind: str, event_id: str | None) -> InboundEvent | None:
    source = raw.get("source")
    if not isinstance(source, dict) or source.get("type") != "user":
        return None  # groups and rooms: acknowledged and ignored
    user_id = _id(source.get("userId"))
    if not user_id:
        return None
    contact = InboundContact(source_id=user_id)
    at = _time(raw.get("timestamp"))
    context = raw.get("deliveryContext")
    redelivered = isinstance(context, dict) and context.get("isRedelivery") is True
    token = None if redelivered else _str(raw.get("replyToken"))
    if kind == "message":
        return _message(raw["message"], contact, at, token, event_id)
    if kind == "follow":
        return InboundFollow(contact, following=True, event_id=event_id, provider_time=at)
    if kind == "unfollow":
        return InboundFollow(contact, following=False, event_id=event_id, provider_time=at)
    if kind == "unsend":
        message_id = _id(raw["unsend"]["messageId"])
        return InboundRevoke(message_id, event_id=event_id, provider_time=at) if message_id else None
    if kind == "postback":
        data = str(raw["postback"]["data"])
        source_id = "postback:" + (event_id or f"{user_id}:{raw.get('timestamp')}")
        return InboundMessage(
            source_id=source_id[:255],
            contact=contact,
            text=data,
            choice=Choice(choice_id=data[:300], title=data[:300]),
            event_id=event_id,
            provider_time=at,
            reply_token=token,
        )
    return None


def _message(
    m: dict[str, Any], contact: InboundContact, at: datetime | None, token: str | None, event_id: str | None
) -> InboundEvent | None:
    message_id = _id(m["id"])
    kind = _str(m["type"]) or ""
    if not message_id:
        return None
    text = ""
    media: tuple[MediaRef, ...] = ()
    location = None
    sticker = None
    if kind == "text":
        text = str(m["text"])
    elif kind in _MEDIA_TYPES:
        media = (_content(m, message_id, kind),)
    elif kind == "file":
        size = m.get("fileSize")
        media = (
            MediaRef(
                reference="file:" + message_id,
                file_name=_str(m.get("fileName")) or "file",
                content_type=None,
                size=size if isinstance(size, int) and size >= 0 else None,
            ),
        )
    elif kind == "location":
        location = Location(
            latitude=float(m["latitude"]),
            longitude=float(m["longitude"]),
            name=_str(m.get("title")),
            address=_str(m.get("address")),
        )
        text = location.name or location.address or ""
    elif kind == "sticker":
        sticker_id = _str(m["stickerId"]) or ""
        keywords = [str(k) for k in m.get("keywords") or [] if isinstance(k, str)][:5]
        sticker = Sticker(
            package_id=_str(m.get("packageId")),
            sticker_id=sticker_id,
            media=MediaRef(STICKER_PREFIX + sticker_id, file_name="sticker.png", content_type="image/png")
            if sticker_id.isdigit()
            else None,
        )
        text = _str(m.get("text")) or ("Sticker: " + ", ".join(keywords) if keywords else "Sticker")
    else:
        return None
    read_token = _str(m.get("markAsReadToken"), limit=None)
    return InboundMessage(
        source_id=message_id,
        contact=contact,
        text=text,
        data={"read_token": read_token[:1000]} if read_token else {},
        media=media,
        location=location,
        sticker=sticker,
        reply_to_source_id=_id(m.get("quotedMessageId")),
        event_id=event_id,
        provider_time=at,
        reply_token=token,
    )


def _content(m: dict[str, Any], message_id: str, kind: str) -> MediaRef:
    provider = m.get("contentProvider") or {}
    # An image, video or audio the sender's app hosts elsewhere is fetched from its own address.
    external = provider.get("type") == "external" and _str(provider.get("originalContentUrl"))
    reference = external or (kind + ":" + message_id)
    return MediaRef(reference=reference, file_name=_MEDIA_NAMES[kind], content_type=_MEDIA_TYPES[kind])


def _time(value: Any) -> datetime | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    return None


def _id(value: Any) -> str | None:
    """A provider id as stored: an absurdly long one by its digest (ids are compared, not shown)."""
    found = _str(value, limit=None)
    if found is not None and len(found) > 255:
        return "sha256:" + hashlib.sha256(found.encode()).hexdigest()
    return found


def _str(value: Any, limit: int | None = 255) -> str | None:
    if isinstance(value, str) and value:
        return value[:limit]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
