"""The email channel (PRODUCT C2, E1): customers write to the inbox's hosted address
`<local part>@<workspace mail slug>.<FRONTDESK_MAIL_DOMAIN>` (or to their own address that
forwards there); mail arrives through Frontdesk's SMTP listener (channels/email/listener.py), not by webhook.

Replies leave through the installation's SMTP relay (FRONTDESK_SMTP_*), or through an own_server
inbox's own SMTP server, as multipart mail threaded on the customer's last message
(mail/compose.py), with a Reply-To address that carries the conversation's token so the answer
finds its conversation again.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ChannelRouter,
    Outbound,
    ProviderReceipt,
    assign_on_reply_field,
)
from frontdesk.channels.email import wiring
from frontdesk.channels.email.reply_context import ReplyContext, read_reply_context
from frontdesk.domain.email.addresses import hosted_address, hosted_domain, valid_local_part
from frontdesk.domain.email.dns import own_domain
from frontdesk.domain.email.template import template_from_stored
from frontdesk.domain.email.threading import reply_address
from frontdesk.domain.enums import FailureReason
from frontdesk.mail.compose import (
    MailAddress,
    ReplyFile,
    ReplyMail,
    ReplyTemplate,
    build_reply,
    reply_subject,
)
from frontdesk.mail.dkim import DkimError, generate_private_key, sign_message
from frontdesk.mail.outbound import MailConfig, MailError, send_mail

if TYPE_CHECKING:
    from frontdesk.services import Services

__all__ = ["EmailAdapter", "EmailSettings"]

AddressMode = Literal["hosted", "own_address", "own_server"]
Security = Literal["ssl", "starttls", "none"]
# The dashboard shows a field only while the form's values match (see settingsSchema.ts).
_ONLY_OWN_SERVER: dict[str, Any] = {"x-shown-when": {"address_mode": ["own_server"]}}
_ONLY_OWN_ADDRESS: dict[str, Any] = {"x-shown-when": {"address_mode": ["own_address"]}}
_OWN_ADDRESS_MODES: dict[str, Any] = {"x-shown-when": {"address_mode": ["own_address", "own_server"]}}
# Own-server mode neither receives at the hosted address nor puts reply addresses on its mail.
_HOSTED_MODES: dict[str, Any] = {"x-shown-when": {"address_mode": ["hosted", "own_address"]}}
# Seconds per SMTP step when the worker has no relay settings to take the timeout from.
_SMTP_TIMEOUT = 30.0
_EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$"
# Copies kept on a reply: enough for any real thread, bounded against a mail that lists hundreds.
MAX_CC = 50


class EmailSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    address_mode: AddressMode = Field(
        default="hosted",
        description="hosted: customers write to the hosted address; own_address: your own address "
        "forwards to the hosted address and replies are sent from it (DKIM-signed); own_server: "
        "mail is fetched from your own IMAP server and replies leave through your own SMTP server.",
    )
    local_part: str = Field(
        default="support",
        min_length=1,
        max_length=64,
        description="The name before the @ of the hosted address <name>@<workspace>.<mail domain> "
        "(hosted and own_address modes).",
        json_schema_extra=_HOSTED_MODES,
    )
    from_name: str = Field(
        default="", max_length=200, description="Sender name of replies; empty: the inbox's name is not used."
    )
    own_address: str | None = Field(
        default=None,
        max_length=320,
        pattern=_EMAIL,
        description="Your own address (own_address and own_server modes): replies are sent From it.",
        json_schema_extra=_OWN_ADDRESS_MODES,
    )
    dkim_selector: str = Field(
        default="frontdesk",
        min_length=1,
        max_length=63,
        pattern=r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
        description="own_address mode: the DKIM selector; the public key is published at "
        "<selector>._domainkey.<your domain>.",
        json_schema_extra=_ONLY_OWN_ADDRESS,
    )
    imap_host: str | None = Field(
        default=None,
        max_length=253,
        description="own_server mode: the IMAP server mail is fetched from.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    imap_port: int = Field(
        default=993,
        ge=1,
        le=65535,
        description="own_server mode: IMAP port.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    imap_security: Security = Field(
        default="ssl",
        description="own_server mode: ssl (TLS from the start, usually port 993), starttls (usually "
        "port 143) or none (only for a server on a trusted network).",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    imap_username: str | None = Field(
        default=None,
        max_length=320,
        description="own_server mode: IMAP user name.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    imap_folder: str = Field(
        default="INBOX",
        min_length=1,
        max_length=200,
        description="own_server mode: the folder new mail is fetched from. Messages are never "
        "deleted or moved there, and each is imported once.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    smtp_host: str | None = Field(
        default=None,
        max_length=253,
        description="own_server mode: the SMTP server replies leave through.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    smtp_port: int = Field(
        default=587,
        ge=1,
        le=65535,
        description="own_server mode: SMTP port.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    smtp_security: Security = Field(
        default="starttls",
        description="own_server mode: starttls (usually port 587), ssl (usually port 465) or none.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    smtp_username: str | None = Field(
        default=None,
        max_length=320,
        description="own_server mode: SMTP user name; empty: the server takes mail without login.",
        json_schema_extra=_ONLY_OWN_SERVER,
    )
    assign_on_reply: bool = assign_on_reply_field()

    @field_validator("imap_host", "smtp_host", "imap_username", "smtp_username")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

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
        if self.address_mode == "own_server":
            missing = [
                name
                for name in ("own_address", "imap_host", "imap_username", "smtp_host")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"own_server mode needs {', '.join(missing)}")
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


def _context(outbound: Outbound) -> ReplyContext:
    return outbound.extras if isinstance(outbound.extras, ReplyContext) else ReplyContext()


def _threading(last: Mapping[str, Any], outbound: Outbound) -> tuple[str, str | None, list[str]]:
    """Subject, In-Reply-To and References of a mail: the answer to the customer's latest mail;
    in a conversation an agent started by email and the customer has not answered yet, the first
    mail (with the agent's subject as it is) or a follow-up to it; else a bare "Re: #number"."""
    if last:
        subject = str(last.get("subject") or "") or f"#{outbound.conversation_number}"
        message_id = str(last.get("message_id") or "") or None
        references = [str(r) for r in last.get("references") or [] if isinstance(r, str)]
        return reply_subject(subject), message_id, references
    opening = _context(outbound).opening
    if opening.subject is not None:
        if opening.is_this:
            return opening.subject, None, []
        first = opening.message_id
        return reply_subject(opening.subject), first, [first] if first else []
    return reply_subject(f"#{outbound.conversation_number}"), None, []


class EmailAdapter(ChannelAdapter):
    channel_type = "email"
    takes_webhooks = False
    starts_conversations = True
    settings_schema = EmailSettings
    secret_fields = ("reply_secret", "dkim_private_key", "imap_password", "smtp_password")
    secret_shown_when: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
        "reply_secret": {"address_mode": ("hosted", "own_address")},
        "dkim_private_key": {"address_mode": ("own_address",)},
        "imap_password": {"address_mode": ("own_server",)},
        "smtp_password": {"address_mode": ("own_server",)},
    }
    unique_settings = ("local_part",)
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "reply_secret": "Signs the reply address (reply+<token>@…) put on every reply, so an answer "
        "joins its conversation. Frontdesk generates it; rotating it makes older reply addresses "
        "thread by their In-Reply-To header only.",
        "dkim_private_key": "The private key (PEM) that DKIM-signs replies sent from your own "
        "address; Frontdesk generates it and shows the public key as a DNS record to add.",
        "imap_password": "own_server mode: the IMAP password (for Gmail and Outlook, an app password).",
        "smtp_password": "own_server mode: the SMTP password (for Gmail and Outlook, an app password).",
    }

    @classmethod
    def routers(cls) -> Sequence[ChannelRouter]:
        return wiring.routers()

    @classmethod
    def background(
        cls, services: Services, *, with_worker: bool
    ) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
        return wiring.background(services, with_worker=with_worker)

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        return {"reply_secret": secrets.token_urlsafe(32), "dkim_private_key": generate_private_key()}

    @classmethod
    def generated_secret_names(cls) -> frozenset[str]:
        return frozenset({"reply_secret", "dkim_private_key"})

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]:
        # The DKIM key is published in the customer's DNS: a new one breaks signing until the
        # record is updated, so it has its own action (POST …/email-dns/dkim-key).
        return {"reply_secret": secrets.token_urlsafe(32)}

    async def prepare(self, conn: AsyncConnection, outbound: Outbound) -> Outbound:
        public_url = self.installation.public_url
        context = await read_reply_context(conn, outbound.message_id, outbound.conversation_id, public_url)
        return replace(outbound, extras=context)

    @property
    def _mail_domain(self) -> str:
        settings = self.installation.settings
        return settings.mail_domain if settings is not None else ""

    def _own_server(self) -> bool:
        return self.settings.get("address_mode") == "own_server"

    def _sender(self, outbound: Outbound) -> MailAddress:
        own = self.settings.get("own_address")
        if self.settings.get("address_mode") in ("own_address", "own_server") and own:
            address = str(own)
        else:
            address = hosted_address(
                str(self.settings.get("local_part") or "support"),
                str(_context(outbound).mail_slug),
                self._mail_domain,
            )
        return MailAddress(str(self.settings.get("from_name") or ""), address)

    def compose(self, outbound: Outbound, files: Sequence[ReplyFile] = ()) -> ReplyMail:
        """The reply to the conversation's latest incoming mail (or a first mail to the contact).

        own_server mode needs no hosted domain: the answer comes back to the own address, is
        fetched by IMAP and threads by In-Reply-To/References (a reply+token address on the hosted
        domain would take it past the customer's own mailbox), and the Message-ID is on the own
        address's domain."""
        sender = self._sender(outbound)
        # Our hosted domain, where there is one: its addresses (hosted, reply+) are never copied.
        mail_domain, mail_slug = self._mail_domain, _context(outbound).mail_slug
        hosted = hosted_domain(mail_slug, mail_domain) if mail_domain and mail_slug else None
        if self._own_server():
            reply_domain = None
            message_id_domain = sender.address.rsplit("@", 1)[-1]
        elif hosted is None:
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "no mail domain is configured (FRONTDESK_MAIL_DOMAIN)",
                retryable=False,
            )
        else:
            reply_domain, message_id_domain = hosted, mail_domain
        last: Mapping[str, Any] = outbound.thread.get("email") or {}
        to = _addresses(last.get("reply_to")) or _addresses(last.get("from"))
        if not to:  # no mail from the customer yet: the contact's address, with their name
            name = outbound.recipient_name if "@" not in outbound.recipient_name else ""
            to = [MailAddress(name, a.address) for a in _addresses(outbound.recipient_source_id)]
        ours = {sender.address, str(self.settings.get("own_address") or "")}

        def foreign(a: MailAddress) -> bool:
            # Never copy ourselves: our own addresses and reply addresses stay out of Cc.
            return a.address not in ours and not (hosted and a.address.endswith("@" + hosted))

        to_addresses = {a.address for a in to}
        # Everyone the customer copied in this conversation stays copied (E4), the latest
        # mail's Cc first, then the others of its earlier mails.
        copied = _addresses([*(last.get("cc") or []), *_context(outbound).conversation_cc])
        cc = [a for a in copied if foreign(a) and a.address not in to_addresses][:MAX_CC]
        subject, message_id, references = _threading(last, outbound)
        return ReplyMail(
            sender=sender,
            to=to,
            cc=cc,
            subject=subject,
            text=outbound.text,
            message_id_domain=message_id_domain,
            in_reply_to=message_id,
            references=references,
            reply_to=(
                reply_address(outbound.conversation_id, str(self.secrets["reply_secret"]), reply_domain)
                if reply_domain
                else None
            ),
            files=files,
            template=_reply_template(outbound),
        )

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        server = self._smtp_server()
        files = await asyncio.to_thread(self._read_files, outbound.attachments)
        try:
            message, message_id = build_reply(self.compose(outbound, files))
            message = self._dkim_signed(message)
        except ValueError as exc:
            raise ChannelError(
                FailureReason.INVALID_MESSAGE, f"cannot build the email: {exc}", retryable=False
            ) from None
        try:
            await send_mail(server, message)
        except MailError as exc:
            raise ChannelError(exc.code, exc.reason, retryable=exc.retryable) from None
        # Stored as the message's source_id: the customer's answer names it in In-Reply-To.
        return ProviderReceipt(source_id=message_id)

    def _smtp_server(self) -> MailConfig:
        """own_server mode: the inbox's own SMTP server, logged in as its user; otherwise the
        installation's relay."""
        settings = self.installation.settings
        relay = settings.mail_config if settings is not None else None
        if self.settings.get("address_mode") != "own_server":
            if relay is None or not relay.enabled:
                raise ChannelError(
                    FailureReason.NO_RELAY_CONFIGURED,
                    "no SMTP relay configured (FRONTDESK_SMTP_HOST)",
                    retryable=False,
                )
            return relay
        username = str(self.settings.get("smtp_username") or "")
        password = str(self.secrets.get("smtp_password") or "")
        if username and not password:
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "the inbox has an SMTP user name but no SMTP password (secret smtp_password)",
                retryable=False,
            )
        return MailConfig(
            host=str(self.settings.get("smtp_host") or ""),
            port=int(self.settings.get("smtp_port") or 587),
            username=username,
            password=password,
            security=self.settings.get("smtp_security") or "starttls",
            mail_from=str(self.settings.get("own_address") or ""),
            timeout=relay.timeout if relay is not None else _SMTP_TIMEOUT,
            ca_file=settings.mail_ca_file if settings is not None else None,
        )

    def _dkim_signed(self, message: EmailMessage) -> EmailMessage:
        """own_address mode: signed for the own address's domain. Hosted replies are not signed
        here: the hosted domain is the operator's, whose relay may sign them. An inbox made before
        keys were generated has none and sends unsigned until one is made."""
        own = self.settings.get("own_address")
        key = self.secrets.get("dkim_private_key")
        if self.settings.get("address_mode") != "own_address" or not own or not key:
            return message
        selector = str(self.settings.get("dkim_selector") or "frontdesk")
        try:
            return sign_message(message, own_domain(str(own)), selector, str(key))
        except DkimError as exc:
            raise ChannelError(FailureReason.SIGNING_FAILED, str(exc), retryable=False) from None

    def _read_files(self, attachments: Sequence[Mapping[str, Any]]) -> list[ReplyFile]:
        root = self.installation.files_root
        if not attachments:
            return []
        if root is None:
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "this worker does not know the attachments folder",
                retryable=False,
            )
        base = root.resolve()
        found: list[ReplyFile] = []
        for a in attachments:
            # The link is /files/<relative path> under the public address; the file is on disk.
            relative = urlsplit(str(a["url"])).path.split("/files/", 1)[-1]
            path = (base / relative).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                raise ChannelError(
                    FailureReason.ATTACHMENT_MISSING,
                    f"the attachment {a['file_name']} is missing",
                    retryable=False,
                )
            found.append(ReplyFile(str(a["file_name"]), str(a["content_type"]), Path(path).read_bytes()))
        return found


def _reply_template(outbound: Outbound) -> ReplyTemplate | None:
    """The inbox's saved template (E5); None keeps the simple HTML part."""
    saved = _context(outbound).template
    if not saved:
        return None
    image = saved.get("header_image_url")
    return ReplyTemplate(template_from_stored(saved.get("fields")), str(image) if image else None)
