"""The channel adapter interface: each channel knows its provider and nothing else.

The domain sees only the neutral events below, so a new channel never touches conversation code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, Field

from frontdesk.domain.enums import FailureReason
from frontdesk.domain.inbound import InboundEvent
from frontdesk.mail.outbound import MailConfig


def assign_on_reply_field() -> Any:
    """The inbox setting every channel offers (domain/rules.py takes_on_reply reads it)."""
    return Field(
        default=True,
        description="An agent who replies to an unassigned conversation is assigned to it, so no "
        "second agent answers the same customer.",
    )


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter may look at of an inbound HTTP request: nothing framework-specific."""

    method: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Opening:
    """Email: how a conversation an agent started by email began (empty otherwise): the subject
    the agent gave, the Message-ID its first mail left with (None until it was sent), and whether
    the message being sent is that first mail."""

    subject: str | None = None
    message_id: str | None = None
    is_this: bool = False


@dataclass(frozen=True)
class Outbound:
    message_id: int
    conversation_id: int
    conversation_number: int
    text: str
    content_type: str
    recipient_source_id: str
    recipient_name: str
    sender_name: str | None
    # Each: file_name, content_type, size and an absolute url the provider can fetch.
    attachments: tuple[dict[str, Any], ...] = ()
    # The data of the conversation's latest incoming message ({} if none): what a channel that
    # threads its replies (email: Message-ID, subject, Reply-To, CC) answers to.
    thread: Mapping[str, Any] = field(default_factory=dict)
    # Email: the Cc and other To addresses of the conversation's incoming mails, newest first
    # ({"name", "address"} each), so whoever the customer copied stays copied.
    conversation_cc: tuple[Mapping[str, Any], ...] = ()
    mail_slug: str | None = None  # the workspace's label in hosted email addresses
    # Email inboxes with a saved template (E5): {"fields": {...}, "header_image_url": absolute or None}.
    email_template: Mapping[str, Any] | None = None
    opening: Opening = field(default_factory=Opening)


@dataclass(frozen=True)
class Installation:
    """Installation-wide things a channel may need to send (email: the relay, the mail domain
    and the folder the attachments are stored in); adapters of other channels ignore it."""

    mail: MailConfig | None = None
    mail_domain: str = ""
    files_root: Path | None = None
    # FRONTDESK_MAIL_CA_FILE: authorities trusted for own-server inboxes' SMTP servers.
    mail_ca_file: Path | None = None


@dataclass(frozen=True)
class ProviderReceipt:
    source_id: str | None


@dataclass(frozen=True)
class ChannelRules:
    """What a channel allows (PRODUCT C14). Declared now, not yet enforced: the API channel has no
    reply window and its text limit is the general one. The reply checks in actions/messages.py
    take these over with the first channel that has a window (WhatsApp, LINE, WeChat)."""

    customer_writes_first: bool = False
    reply_window_seconds: int | None = None
    max_text_length: int = 65_536


class WebhookRejected(Exception):
    """The request failed the provider's signature or handshake: refused, logged, never stored."""


class ChannelError(Exception):
    """A send failed: `code` says what kind of failure (the agent sees it translated), `detail`
    says it in the provider's own words, `retryable` whether trying again can help."""

    def __init__(self, code: FailureReason, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retryable = retryable


class ChannelAdapter(ABC):
    channel_type: ClassVar[str]
    rules: ClassVar[ChannelRules] = ChannelRules()
    # What the administrator fills in; fields listed in secret_fields are encrypted at rest.
    settings_schema: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Settings no two inboxes of this channel in one workspace may share (email: local_part).
    unique_settings: ClassVar[tuple[str, ...]] = ()
    # What each secret is, for the administrator's form (secrets are write-only there).
    secret_descriptions: ClassVar[Mapping[str, str]] = {}
    # Secrets that only matter for some settings (email: the IMAP password in own_server mode):
    # {secret: {setting: (values…)}}; the form shows them only then.
    secret_shown_when: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {}

    def __init__(
        self,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
        http: httpx.AsyncClient,
        installation: Installation | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.http = http
        self.installation = installation or Installation()

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        """Secrets Frontdesk creates itself when the inbox is added."""
        return {}

    @classmethod
    def generated_secret_names(cls) -> frozenset[str]:
        """The names of the generated secrets, for forms, without making any (a key takes time)."""
        return frozenset(cls.generated_secrets())

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]:
        """New values for the secrets the rotate action replaces: by default every generated one."""
        return cls.generated_secrets()

    @abstractmethod
    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected unless the request really comes from the provider."""

    @abstractmethod
    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        """Provider payload to neutral events; raise InvalidInput naming what is wrong."""

    @abstractmethod
    async def send(self, outbound: Outbound) -> ProviderReceipt:
        """Deliver one outgoing message; raise ChannelError on failure."""
