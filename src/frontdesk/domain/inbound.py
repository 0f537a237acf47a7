"""The neutral inbound events every channel produces (webhook, SMTP, IMAP, widget); the ingest
action (actions/ingest.py) sees only these, so a new channel never touches conversation code.

Every event may carry the provider's `event_id` (a webhook's delivery id, an update id): a
repeated delivery with a known event id is acknowledged and stores nothing. `provider_time` is
when the provider says the event happened (reply windows are measured from it, never from our
insert time); None where the provider gives none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from frontdesk.domain.annotations import Annotation
from frontdesk.domain.enums import DeliveryStatus


@dataclass(frozen=True)
class InboundContact:
    source_id: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class InboundFile:
    """A file that came with an inbound message, as the provider sent it (not yet checked)."""

    file_name: str
    content_type: str
    # The bytes, or a spooled file holding them (a large mail's files are never read whole).
    content: bytes | Path


@dataclass(frozen=True)
class MediaRef:
    """A file the provider holds and we must download (its URL or media id usually expires
    within minutes): fetched at arrival by the durable fetch_media job through the channel's
    fetch_media hook, then attached to its message."""

    reference: str  # the provider's media id or URL, as the channel's fetch_media takes it
    file_name: str | None = None
    content_type: str | None = None  # as the provider claims it; checked by magic bytes
    size: int | None = None  # as the provider claims it, when it says


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ContactCard:
    """A contact the customer shared (vCard, WhatsApp contacts, LINE/Telegram contact)."""

    name: str
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sticker:
    package_id: str | None
    sticker_id: str
    media: MediaRef | None = None  # the image, where the provider lets us fetch it


@dataclass(frozen=True)
class Choice:
    """The customer tapped a button or picked a list row (interactive reply, postback)."""

    choice_id: str
    title: str


@dataclass(frozen=True)
class Referral:
    """How the customer came: a deep-link parameter, QR code, ad or post."""

    source: str  # deep_link, qr, ad, post, …
    ref: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    source_id: str
    contact: InboundContact
    text: str
    content_type: str = "text"
    data: dict[str, Any] = field(default_factory=dict)
    files: tuple[InboundFile, ...] = ()
    # Files still at the provider, fetched by a durable job after the message is stored.
    media: tuple[MediaRef, ...] = ()
    location: Location | None = None
    shared_contact: ContactCard | None = None
    sticker: Sticker | None = None
    choice: Choice | None = None
    referral: Referral | None = None
    # The provider id of the message this one quotes or answers, where the customer chose one.
    reply_to_source_id: str | None = None
    # What the system says about the message (a file left out …), kept beside its text.
    annotations: tuple[Annotation, ...] = ()
    # Sent by a machine on its own (an auto-reply, a bounce): it neither reopens its
    # conversation nor counts as unread (domain/arrival.py).
    automatic: bool = False
    # From a delivery system rather than a person (a bounce): where it joins a conversation it
    # is stored as the system's, and no contact or identity is made for its sender.
    system_sender: bool = False
    # An action rather than something the customer wrote (a menu click, a QR scan): it opens
    # the channel's action window where its rules have one (ChannelRules.action_window).
    action: bool = False
    event_id: str | None = None
    provider_time: datetime | None = None
    # A reply token the provider gave with this message (LINE), valid for a short while.
    reply_token: str | None = None


@dataclass(frozen=True)
class InboundStatus:
    """A delivery receipt for one of our outgoing messages, by our id or the provider's.
    Statuses only move forward (sent → delivered → read); a failure carries the provider's
    code and words."""

    status: DeliveryStatus
    message_id: int | None = None
    source_id: str | None = None
    reason: str | None = None
    provider_code: str | None = None
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundEcho:
    """A message the business sent from the provider's own app (WhatsApp Business app, LINE
    OA Manager, Messenger's Page inbox): stored as outgoing, marked as sent outside Frontdesk,
    never as the customer's."""

    source_id: str
    contact: InboundContact  # the customer it went to
    text: str
    content_type: str = "text"
    data: dict[str, Any] = field(default_factory=dict)
    media: tuple[MediaRef, ...] = ()
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundEdit:
    """The customer changed the text of a message they sent."""

    source_id: str
    text: str
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundRevoke:
    """The customer unsent (deleted for everyone) a message they sent."""

    source_id: str
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundReaction:
    """The customer reacted to a message (ours or theirs); an empty emoji takes it back."""

    source_id: str  # the message reacted to
    contact_source_id: str
    emoji: str
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundFollow:
    """The customer followed / subscribed to (True) or unfollowed / blocked (False) the account."""

    contact: InboundContact
    following: bool
    referral: Referral | None = None
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundActivity:
    """Something the customer did in the provider's app that is neither a message nor a follow.
    `link`: they opened a link of the account's menu (WeChat VIEW), shown as an activity line in
    their latest conversation; `location`: the provider reported where they are (WeChat's
    location reports, every few seconds while the chat is open), kept on the contact. Neither
    opens a conversation or a reply window: nothing was asked."""

    contact: InboundContact
    link: str | None = None
    location: Location | None = None
    event_id: str | None = None
    provider_time: datetime | None = None


@dataclass(frozen=True)
class InboundTyping:
    contact_source_id: str
    event_id: str | None = None


@dataclass(frozen=True)
class InboundRead:
    """The customer read our messages up to this time (or this provider message id)."""

    contact_source_id: str
    up_to_source_id: str | None = None
    up_to_time: datetime | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class InboundUnknown:
    """An event the channel does not handle: acknowledged with 2xx, ignored, counted."""

    kind: str
    event_id: str | None = None


InboundEvent = (
    InboundMessage
    | InboundStatus
    | InboundEcho
    | InboundEdit
    | InboundRevoke
    | InboundReaction
    | InboundFollow
    | InboundActivity
    | InboundTyping
    | InboundRead
    | InboundUnknown
)
