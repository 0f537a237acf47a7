"""The neutral inbound events every channel adapter produces; the domain sees only these."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    source_id: str
    contact: InboundContact
    text: str
    content_type: str = "text"
    data: dict[str, Any] = field(default_factory=dict)
    files: tuple[InboundFile, ...] = ()
    # What the system says about the message (a file left out …), kept beside its text.
    annotations: tuple[Annotation, ...] = ()
    # Sent by a machine on its own (an auto-reply, a bounce): it neither reopens its
    # conversation nor counts as unread (domain/arrival.py).
    automatic: bool = False
    # From a delivery system rather than a person (a bounce): where it joins a conversation it
    # is stored as the system's, and no contact or identity is made for its sender.
    system_sender: bool = False


@dataclass(frozen=True)
class InboundStatus:
    """A delivery receipt for one of our outgoing messages, by our id or the provider's."""

    status: DeliveryStatus
    message_id: int | None = None
    source_id: str | None = None
    reason: str | None = None


InboundEvent = InboundMessage | InboundStatus
