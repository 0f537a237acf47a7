"""WeChat's XML pushes → the typed events of domain/inbound.py.

The XML is read with the standard library's parser after refusing any DOCTYPE or ENTITY
declaration (no entity expansion, no external entities: WeChat never sends either). Unknown
elements are ignored; ids stay strings (MsgId is a 64-bit number and may grow).

Messages: text, image, voice (with WeChat's recognition text where the account has it on),
video, shortvideo, location, link. Events: subscribe (with the QR scene when the follow came
from a scene QR code), unsubscribe, SCAN, CLICK, VIEW (a menu link opened: an activity line),
LOCATION (a location report: kept on the contact); everything else (template-send receipts,
new kinds) is acknowledged as InboundUnknown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from xml.etree import ElementTree

from frontdesk.domain.errors import MalformedRequest
from frontdesk.domain.inbound import (
    Choice,
    InboundActivity,
    InboundContact,
    InboundEvent,
    InboundFollow,
    InboundMessage,
    InboundUnknown,
    Location,
    MediaRef,
    Referral,
)

MAX_BODY = 1_048_576  # WeChat's pushes are a few kilobytes
MAX_ID = 200  # ids are stored in columns of 255 characters; WeChat's are far shorter
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
QR_PREFIX = "qrscene_"  # a non-follower's scan: subscribe with EventKey qrscene_<scene>

# What each media message's file is, as WeChat describes it (checked again by magic bytes).
_MEDIA = {
    "image": ("image.jpg", "image/jpeg"),
    "video": ("video.mp4", "video/mp4"),
    "shortvideo": ("video.mp4", "video/mp4"),
}
_VOICE_TYPES = {"amr": "audio/amr", "mp3": "audio/mpeg", "speex": "audio/speex", "silk": "audio/silk"}


def xml_fields(body: bytes) -> dict[str, str]:
    """The top-level elements of a WeChat XML body, by tag, as text (CDATA included)."""
    if len(body) > MAX_BODY:
        raise MalformedRequest("body: too large for a WeChat push", field="body")
    if _DECLARATION.search(body):
        raise MalformedRequest("body: DOCTYPE and ENTITY declarations are refused", field="body")
    try:
        root = ElementTree.fromstring(body)
    except (ElementTree.ParseError, ValueError) as exc:
        raise MalformedRequest(f"body is not well-formed XML: {exc}", field="body") from None
    if root.tag != "xml":
        raise MalformedRequest("body: the root element must be <xml>", field="body")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and len(child) == 0:
            fields.setdefault(
                child.tag, (child.text or "").strip("\r\n") if child.tag != "Content" else child.text or ""
            )
    return fields


def _id(fields: dict[str, str], name: str) -> str:
    """An id WeChat gives (MsgId, OpenID, MediaId): a string of at most MAX_ID characters."""
    value = fields.get(name, "").strip()
    if len(value) > MAX_ID:
        raise MalformedRequest(f"{name}: longer than {MAX_ID} characters", field=name)
    return value


def _required(fields: dict[str, str], name: str) -> str:
    value = _id(fields, name)
    if not value:
        raise MalformedRequest(f"{name}: missing", field=name)
    return value


def _time(fields: dict[str, str]) -> datetime | None:
    raw = fields.get("CreateTime", "").strip()
    if not raw.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _coordinate(fields: dict[str, str], name: str, limit: float) -> float:
    try:
        value = float(fields.get(name, ""))
    except ValueError:
        raise MalformedRequest(f"{name}: not a number", field=name) from None
    if not -limit <= value <= limit:  # NaN or off the globe
        raise MalformedRequest(f"{name}: not a coordinate", field=name)
    return value


def parse_push(body: bytes) -> list[InboundEvent]:
    fields = xml_fields(body)
    kind = fields.get("MsgType", "").strip()
    if kind == "event":
        return _event(fields)
    return [_message(fields, kind)]


def _message(fields: dict[str, str], kind: str) -> InboundEvent:
    msg_id = _id(fields, "MsgId") or _id(fields, "MsgID")
    if kind not in ("text", "image", "voice", "video", "shortvideo", "location", "link"):
        return InboundUnknown(kind=f"message.{kind or 'none'}"[:60], event_id=msg_id or None)
    if not msg_id:
        raise MalformedRequest("MsgId: missing", field="MsgId")
    base = InboundMessage(
        source_id=msg_id,
        contact=InboundContact(source_id=_required(fields, "FromUserName")),
        text="",
        event_id=msg_id,
        provider_time=_time(fields),
    )
    match kind:
        case "text":
            return replace(base, text=fields.get("Content", ""))
        case "image" | "video" | "shortvideo":
            file_name, content_type = _MEDIA[kind]
            ref = MediaRef(_required(fields, "MediaId"), file_name=file_name, content_type=content_type)
            return replace(base, media=(ref,))
        case "voice":
            fmt = fields.get("Format", "amr").strip().lower()
            ref = MediaRef(
                _required(fields, "MediaId"),
                file_name=f"voice.{fmt if fmt.isalnum() else 'amr'}"[:40],
                content_type=_VOICE_TYPES.get(fmt, "audio/amr"),
            )
            # WeChat's speech recognition, where the account turned it on: shown as the text.
            text = fields.get("Recognition", "").strip()
            data = {"voice_recognition": text} if text else {}
            return replace(base, text=text, media=(ref,), data=data)
        case "location":
            place = Location(
                latitude=_coordinate(fields, "Location_X", 90),
                longitude=_coordinate(fields, "Location_Y", 180),
                address=fields.get("Label", "").strip() or None,
            )
            return replace(base, location=place)
        case _:  # link
            parts = [fields.get(n, "").strip() for n in ("Title", "Description", "Url")]
            return replace(base, text="\n".join(p for p in parts if p))


def _event(fields: dict[str, str]) -> list[InboundEvent]:
    name = fields.get("Event", "").strip()
    sender = _id(fields, "FromUserName")
    when = fields.get("CreateTime", "").strip()[:20]
    # WeChat's events have no id: the sender and the time name one (CHANNELS.md 7).
    event_id = f"event:{sender}:{when}:{name}"[:255] if sender and when else None
    key = fields.get("EventKey", "").strip()
    at = _time(fields)
    contact = InboundContact(source_id=sender) if sender else None
    match name.lower():
        case "subscribe" if contact is not None:
            scene = key[len(QR_PREFIX) :] if key.startswith(QR_PREFIX) else ""
            if not scene:
                return [InboundFollow(contact, True, event_id=event_id, provider_time=at)]
            referral = Referral(source="qr", ref=scene)
            return [
                InboundFollow(contact, True, referral=referral, event_id=event_id, provider_time=at),
                # The scan is how the conversation began: its source, and WeChat's short window.
                _scan(contact, event_id, at, referral),
            ]
        case "unsubscribe" if contact is not None:
            return [InboundFollow(contact, False, event_id=event_id, provider_time=at)]
        case "scan" if contact is not None and key:
            return [_scan(contact, event_id, at, Referral(source="qr", ref=key))]
        case "view" if contact is not None and key:
            return [InboundActivity(contact, link=key, event_id=event_id, provider_time=at)]
        case "location" if contact is not None and (place := _reported_place(fields)) is not None:
            return [InboundActivity(contact, location=place, event_id=event_id, provider_time=at)]
        case "click" if contact is not None and key:
            return [
                InboundMessage(
                    source_id=event_id or f"click:{sender}:{key}",
                    contact=contact,
                    text=key,
                    choice=Choice(choice_id=key, title=key),
                    action=True,
                    event_id=event_id,
                    provider_time=at,
                )
            ]
    return [InboundUnknown(kind=f"event.{name or 'none'}"[:60], event_id=event_id)]


def _reported_place(fields: dict[str, str]) -> Location | None:
    """A location report's Latitude and Longitude, when both are numbers on the globe."""
    try:
        latitude, longitude = float(fields.get("Latitude", "")), float(fields.get("Longitude", ""))
    except ValueError:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(latitude=latitude, longitude=longitude)


def _scan(
    contact: InboundContact, event_id: str | None, at: datetime | None, referral: Referral
) -> InboundMessage:
    return InboundMessage(
        source_id=f"scan:{event_id or contact.source_id}"[:255],
        contact=contact,
        text="",
        referral=referral,
        action=True,
        event_id=f"scan:{event_id}" if event_id else None,
        provider_time=at,
    )
