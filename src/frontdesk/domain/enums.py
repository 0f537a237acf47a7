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
    CANCELLED = "cancelled"  # an agent stopped it before it was sent: it never will be


class FailureReason(StrEnum):
    """Why a delivery attempt failed, as a code the dashboard translates; the provider's own
    words travel beside it as the message's failure_detail."""

    NO_RELAY_CONFIGURED = "no_relay_configured"  # no SMTP relay for this installation
    MISCONFIGURED = "misconfigured"  # a setting the inbox or installation needs is missing
    INBOX_DISABLED = "inbox_disabled"
    INVALID_MESSAGE = "invalid_message"  # the message itself cannot be built for the channel
    ATTACHMENT_MISSING = "attachment_missing"
    SIGNING_FAILED = "signing_failed"  # DKIM
    CONNECTION_FAILED = "connection_failed"
    TIMEOUT = "timeout"
    CERTIFICATE_UNTRUSTED = "certificate_untrusted"
    AUTH_FAILED = "auth_failed"
    RECIPIENT_REFUSED = "recipient_refused"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    PROVIDER_UNAVAILABLE = "provider_unavailable"  # a temporary refusal (HTTP 5xx, SMTP 4xx)
    PROVIDER_REJECTED = "provider_rejected"  # a lasting refusal not named above
    WINDOW_CLOSED = "window_closed"  # the channel's reply window (ChannelRules) is over
    REPLY_LIMIT_REACHED = "reply_limit_reached"  # the window's message cap (ChannelRules) is used up
    QUOTA_EXHAUSTED = "quota_exhausted"  # the provider's monthly message allowance is used up
    UNDELIVERABLE = "undeliverable"  # the provider reported the failure after accepting it
    INTERNAL_ERROR = "internal_error"  # a fault in Frontdesk itself
    UNKNOWN = "unknown"  # failures recorded before reasons had codes


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
