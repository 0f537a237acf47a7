"""The closed vocabularies stored in the database and spoken by the API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Priority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class MessageKind(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"
    NOTE = "note"
    ACTIVITY = "activity"


class SenderType(StrEnum):
    CONTACT = "contact"
    AGENT = "agent"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
