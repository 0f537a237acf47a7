"""The email channel (PRODUCT C2, E1): customers write to the inbox's hosted address
`<local part>@<workspace mail slug>.<FRONTDESK_MAIL_DOMAIN>` (or to their own address that
forwards there); mail arrives through Frontdesk's SMTP listener (mail/listener.py), not by webhook.

Replies leave through the installation's SMTP relay (FRONTDESK_SMTP_*) as multipart mail
threaded on the customer's last message (mail/compose.py), with a Reply-To address that carries
the conversation's token so the answer finds its conversation again.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    Outbound,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
)
from frontdesk.domain.email_template import template_from_stored
from frontdesk.domain.email_threading import reply_address
from frontdesk.domain.inbound import InboundEvent
from frontdesk.domain.mail_addresses import hosted_address, hosted_domain, valid_local_part
from frontdesk.mail.compose import (
    MailAddress,
    ReplyFile,
    ReplyMail,
    ReplyTemplate,
    build_reply,
    reply_subject,
)
from frontdesk.mail.outbound import MailError, send_mail

__all__ = ["EmailAdapter", "EmailSettings"]

AddressMode = Literal["hosted", "own_address", "own_server"]
_EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    address_mode: AddressMode = Field(
        default="hosted",
        description="hosted: customers write to the hosted address; own_address: your own address "
        "forwards to the hosted address and replies are sent from it; own_server: your own "
        "IMAP/SMTP server (not built yet).",
    )
    local_part: str = Field(
        default="support",
        min_length=1,
        max_length=64,
        description="The name before the @ of the hosted address <name>@<workspace>.<mail domain>.",
    )
    from_name: str = Field(
        default="", max_length=200, description="Sender name of replies; empty: the inbox's name is not used."
    )
    own_address: str | None = Field(
        default=None,
        max_length=320,
        pattern=_EMAIL,
        description="Your own address (own_address mode): replies are sent From it.",
    )

    @field_validator("address_mode")
    @classmethod
    def _built_modes_only(cls, value: AddressMode) -> AddressMode:
        if value == "own_server":
            raise ValueError(
                "own_server (receiving by IMAP and sending through your own SMTP server) is not "
                "built yet; use hosted, or own_address with forwarding to the hosted address"
            )
        return value

    @field_validator("local_part")
    @classmethod
    def _local_part(cls, value: str) -> str:
        if not valid_local_part(value):
            raise ValueError(
                "use lower-case letters, digits, dots, dashes and underscores, starting and ending "
                "with a letter or digit; names starting with 'reply' are kept for reply addresses"
            )
        return value

    @field_validator("own_address")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() if value else None

    @model_validator(mode="after")
    def _own_address_needs_one(self) -> EmailSettings:
        if self.address_mode == "own_address" and not self.own_address:
            raise ValueError("own_address mode needs own_address, the address replies are sent from")
        return self


def _address(value: Any) -> MailAddress | None:
    """An address from a stored message's data: {"name", "address"} or a bare string."""
    if isinstance(value, Mapping) and isinstance(value.get("address"), str) and value["address"]:
        return MailAddress(str(value.get("name") or ""), value["address"].lower())
    if isinstance(value, str) and "@" in value:
        return MailAddress("", value.strip().lower())
    return None


def _addresses(values: Any) -> list[MailAddress]:
    if not isinstance(values, list | tuple):
        values = [values] if values else []
    found = [a for a in (_address(v) for v in values) if a is not None]
    return list({a.address: a for a in found}.values())


class EmailAdapter(ChannelAdapter):
    channel_type = "email"
    settings_schema = EmailSettings
    secret_fields = ("reply_secret",)
    unique_settings = ("local_part",)
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "reply_secret": "Signs the reply address (reply+<token>@…) put on every reply, so an answer "
        "joins its conversation. Frontdesk generates it; rotating it makes older reply addresses "
        "thread by their In-Reply-To header only."
    }

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        return {"reply_secret": secrets.token_urlsafe(32)}

    def verify(self, request: WebhookRequest) -> None:
        raise WebhookRejected("the email channel receives mail through the SMTP listener, not by webhook")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return []  # never reached: verify refuses every webhook

    def _domain(self, outbound: Outbound) -> str:
        mail_domain = self.installation.mail_domain
        if not mail_domain or not outbound.mail_slug:
            raise ChannelError("no mail domain is configured (FRONTDESK_MAIL_DOMAIN)", retryable=False)
        return hosted_domain(outbound.mail_slug, mail_domain)

    def _sender(self, outbound: Outbound) -> MailAddress:
        own = self.settings.get("own_address")
        if self.settings.get("address_mode") == "own_address" and own:
            address = str(own)
        else:
            address = hosted_address(
                str(self.settings.get("local_part") or "support"),
                str(outbound.mail_slug),
                self.installation.mail_domain,
            )
        return MailAddress(str(self.settings.get("from_name") or ""), address)

    def compose(self, outbound: Outbound, files: Sequence[ReplyFile] = ()) -> ReplyMail:
        """The reply to the conversation's latest incoming mail (or a first mail to the contact)."""
        domain = self._domain(outbound)
        sender = self._sender(outbound)
        last: Mapping[str, Any] = outbound.thread.get("email") or {}
        to = _addresses(last.get("reply_to")) or _addresses(last.get("from"))
        if not to:
            to = _addresses(outbound.recipient_source_id)
        ours = {sender.address, str(self.settings.get("own_address") or "")}
        own_domain = "@" + domain

        def foreign(a: MailAddress) -> bool:
            # Never copy ourselves: our own addresses and reply addresses stay out of Cc.
            return a.address not in ours and not a.address.endswith(own_domain)

        to_addresses = {a.address for a in to}
        cc = [a for a in _addresses(last.get("cc")) if foreign(a) and a.address not in to_addresses]
        subject = str(last.get("subject") or "") or f"#{outbound.conversation_number}"
        message_id = str(last.get("message_id") or "") or None
        references = [str(r) for r in last.get("references") or [] if isinstance(r, str)]
        return ReplyMail(
            sender=sender,
            to=to,
            cc=cc,
            subject=reply_subject(subject),
            text=outbound.text,
            message_id_domain=self.installation.mail_domain,
            in_reply_to=message_id,
            references=references,
            reply_to=reply_address(outbound.conversation_id, str(self.secrets["reply_secret"]), domain),
            files=files,
            template=_reply_template(outbound),
        )

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        relay = self.installation.mail
        if relay is None or not relay.enabled:
            raise ChannelError("no SMTP relay configured (FRONTDESK_SMTP_HOST)", retryable=False)
        files = await asyncio.to_thread(self._read_files, outbound.attachments)
        try:
            message, message_id = build_reply(self.compose(outbound, files))
        except ValueError as exc:
            raise ChannelError(f"cannot build the email: {exc}", retryable=False) from None
        try:
            await send_mail(relay, message)
        except MailError as exc:
            raise ChannelError(exc.reason, retryable=exc.retryable) from None
        # Stored as the message's source_id: the customer's answer names it in In-Reply-To.
        return ProviderReceipt(source_id=message_id)

    def _read_files(self, attachments: Sequence[Mapping[str, Any]]) -> list[ReplyFile]:
        root = self.installation.files_root
        if not attachments:
            return []
        if root is None:
            raise ChannelError("this worker does not know the attachments folder", retryable=False)
        base = root.resolve()
        found: list[ReplyFile] = []
        for a in attachments:
            # The link is /files/<relative path> under the public address; the file is on disk.
            relative = urlsplit(str(a["url"])).path.split("/files/", 1)[-1]
            path = (base / relative).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                raise ChannelError(f"the attachment {a['file_name']} is missing", retryable=False)
            found.append(ReplyFile(str(a["file_name"]), str(a["content_type"]), Path(path).read_bytes()))
        return found


def _reply_template(outbound: Outbound) -> ReplyTemplate | None:
    """The inbox's saved template (E5); None keeps the simple HTML part."""
    saved = outbound.email_template
    if not saved:
        return None
    image = saved.get("header_image_url")
    return ReplyTemplate(template_from_stored(saved.get("fields")), str(image) if image else None)
