"""The API channel (PRODUCT C10): any app posts messages in and receives replies by webhook.

Inbound:  POST /webhooks/api/<inbox uid>, JSON body, header
          X-Frontdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body with the inbox secret>.
Outbound: the worker POSTs each reply to the inbox's webhook_url, signed the same way, with
          X-Frontdesk-Message-Id so the receiver can drop a repeated delivery. With
          send_indicators on, an agent's typing and reading are POSTed there too ({"event":
          "typing"} / {"event": "read"}); Test connection POSTs {"event": "ping"}.
Media:    an inbound attachment may give a "url" instead of base64 "data": the fetch_media job
          GETs it (http/https only, streamed, size-capped) right after the message is stored.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, ValidationError, model_validator

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionCheck,
    FetchedMedia,
    Outbound,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
    assign_on_reply_field,
    call_failures,
    download_failures,
    retry_after_seconds,
    save_response,
)
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.enums import DeliveryStatus, FailureReason
from frontdesk.domain.errors import InvalidInput, MalformedRequest
from frontdesk.domain.inbound import (
    InboundContact,
    InboundEcho,
    InboundEdit,
    InboundEvent,
    InboundFile,
    InboundMessage,
    InboundReaction,
    InboundRevoke,
    InboundStatus,
    MediaRef,
)
from frontdesk.domain.input import Id
from frontdesk.security import hmac_sha256_hex, signature_matches

SIGNATURE_HEADER = "x-frontdesk-signature"
MESSAGE_ID_HEADER = "X-Frontdesk-Message-Id"
MAX_REDIRECTS = 3
# A whole media download, however slowly the sender trickles it (each read has its own timeout).
MEDIA_SECONDS = 300.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ApiSettings(_Strict):
    webhook_url: HttpUrl | None = Field(default=None, description="Where replies are POSTed.")
    lock_to_single_conversation: bool = Field(
        default=True, description="Reopen the contact's last conversation instead of starting a new one."
    )
    assign_on_reply: bool = assign_on_reply_field()
    send_indicators: bool = Field(
        default=False,
        description='POST {"event": "typing"} and {"event": "read"} to the webhook_url when an agent '
        "types in or reads a conversation.",
    )
    reply_window_hours: int | None = Field(
        default=None,
        ge=1,
        le=720,
        description="Replies are allowed this many hours after the customer's last message (its "
        "timestamp); empty: no window, replies are always allowed.",
    )


# Your id of this delivery: a payload sent again with an event_id the inbox took stores nothing.
EventId = Annotated[str | None, Field(default=None, min_length=1, max_length=255)]
SourceId = Annotated[str, Field(min_length=1, max_length=255)]


class ApiContactIn(_Strict):
    source_id: str = Field(min_length=1, max_length=255)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class ApiFileIn(_Strict):
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=1, max_length=100)
    data: str | None = Field(default=None, min_length=1, description="The file's bytes, base64-encoded.")
    url: str | None = Field(
        default=None,
        max_length=2048,
        description="Where Frontdesk downloads the file (http or https) right after the message is stored; "
        "instead of data.",
    )
    size: int | None = Field(
        default=None, ge=0, description="The file's size in bytes, where known (with url)."
    )

    @model_validator(mode="after")
    def _one_source(self) -> ApiFileIn:
        if (self.data is None) == (self.url is None):
            raise ValueError("give either data or url")
        if self.url is not None:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("url must be an absolute http or https address")
        return self


class ApiMessageIn(_Strict):
    type: Literal["message"]
    source_id: str = Field(min_length=1, max_length=255)
    contact: ApiContactIn
    text: str = Field(default="", max_length=65_536)
    content_type: Literal["text"] = "text"
    attachments: list[ApiFileIn] = Field(default_factory=list, max_length=5)
    timestamp: Annotated[str, Field(max_length=40)] | int | None = Field(
        default=None,
        description="When the customer sent the message (ISO 8601 with a zone, or Unix seconds); "
        "the reply window is measured from it. Default: when Frontdesk received it.",
    )
    event_id: EventId = None


class ApiStatusIn(_Strict):
    type: Literal["status"]
    message_id: Id
    status: Literal["delivered", "read", "failed"]
    reason: str | None = Field(default=None, max_length=2000)
    provider_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Your code of a failure, kept before its reason.",
    )
    event_id: EventId = None


class ApiEchoIn(_Strict):
    """A message your business sent the customer outside Frontdesk: shown as sent, never delivered."""

    type: Literal["echo"]
    source_id: SourceId
    contact: ApiContactIn
    text: str = Field(min_length=1, max_length=65_536)
    event_id: EventId = None


class ApiEditIn(_Strict):
    """The customer changed the text of their message `source_id`."""

    type: Literal["edit"]
    source_id: SourceId
    text: str = Field(min_length=1, max_length=65_536)
    event_id: EventId = None


class ApiRevokeIn(_Strict):
    """The customer unsent their message `source_id`."""

    type: Literal["revoke"]
    source_id: SourceId
    event_id: EventId = None


class ApiReactionIn(_Strict):
    """A contact reacted to message `source_id` (yours or theirs); an empty emoji takes it back."""

    type: Literal["reaction"]
    source_id: SourceId
    contact_source_id: SourceId
    emoji: str = Field(max_length=32)
    event_id: EventId = None


_Payload = TypeAdapter(
    Annotated[
        ApiMessageIn | ApiStatusIn | ApiEchoIn | ApiEditIn | ApiRevokeIn | ApiReactionIn,
        Field(discriminator="type"),
    ]
)
_TAGS = ("message", "status", "echo", "edit", "revoke", "reaction")


def _decode(index: int, file: ApiFileIn) -> InboundFile:
    try:
        content = base64.b64decode(file.data or "", validate=True)
    except binascii.Error:
        raise InvalidInput("data is not valid base64", field=f"attachments.{index}.data") from None
    return InboundFile(file_name=file.file_name, content_type=file.content_type, content=content)


def _provider_time(value: str | int | None) -> datetime | None:
    """The customer's send time, as ISO 8601 with a zone or Unix seconds."""
    if value is None:
        return None
    try:
        at = datetime.fromtimestamp(value, UTC) if isinstance(value, int) else datetime.fromisoformat(value)
    except (OverflowError, OSError, ValueError):
        raise InvalidInput("timestamp: not an ISO 8601 time or Unix seconds", field="timestamp") from None
    if at.tzinfo is None:
        raise InvalidInput("timestamp: give a time zone (Z or +hh:mm)", field="timestamp")
    return at.astimezone(UTC)


def _contact(c: ApiContactIn) -> InboundContact:
    return InboundContact(source_id=c.source_id, name=c.name, email=c.email, phone=c.phone)


def _event(payload: ApiEchoIn | ApiEditIn | ApiRevokeIn | ApiReactionIn) -> InboundEvent:
    match payload:
        case ApiEchoIn():
            return InboundEcho(
                payload.source_id, _contact(payload.contact), payload.text, event_id=payload.event_id
            )
        case ApiEditIn():
            return InboundEdit(payload.source_id, payload.text, event_id=payload.event_id)
        case ApiRevokeIn():
            return InboundRevoke(payload.source_id, event_id=payload.event_id)
        case ApiReactionIn():
            return InboundReaction(
                payload.source_id, payload.contact_source_id, payload.emoji, event_id=payload.event_id
            )


def validation_to_invalid(exc: ValidationError) -> InvalidInput:
    first = exc.errors()[0]
    loc = list(first["loc"])
    if loc and loc[0] in _TAGS:
        loc = loc[1:]  # the union's tag, not a field of the payload
    where = ".".join(str(p) for p in loc)
    code = "unknown_field" if first["type"] == "extra_forbidden" else "invalid"
    return InvalidInput(f"{where or 'body'}: {first['msg']}", field=where or None, code=code)


class ApiAdapter(ChannelAdapter):
    channel_type = "api"
    settings_schema = ApiSettings
    secret_fields = ("hmac_secret",)
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "hmac_secret": "Signs inbound webhooks and outgoing deliveries (HMAC-SHA256). Frontdesk generates "
        "it when the inbox is added; rotate it to get a new one."
    }

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        return {"hmac_secret": secrets.token_urlsafe(32)}

    @classmethod
    def rules_for(cls, settings: Mapping[str, Any]) -> ChannelRules:
        hours = settings.get("reply_window_hours")
        return ChannelRules(reply_window=timedelta(hours=hours)) if hours else cls.rules

    def verify(self, request: WebhookRequest) -> None:
        if not signature_matches(
            self.secrets["hmac_secret"], request.body, request.headers.get(SIGNATURE_HEADER)
        ):
            raise WebhookRejected("missing or wrong X-Frontdesk-Signature")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        try:
            raw = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise MalformedRequest(f"body is not valid JSON: {exc}", field="body") from None
        try:
            payload = _Payload.validate_python(raw)
        except ValidationError as exc:
            raise validation_to_invalid(exc) from None
        if not isinstance(payload, ApiMessageIn | ApiStatusIn):
            return [_event(payload)]
        if isinstance(payload, ApiStatusIn):
            return [
                InboundStatus(
                    status=DeliveryStatus(payload.status),
                    message_id=payload.message_id,
                    reason=payload.reason,
                    provider_code=payload.provider_code,
                    event_id=payload.event_id,
                )
            ]
        if not payload.text.strip() and not payload.attachments:
            raise InvalidInput("text: a message needs text or attachments", field="text")
        c = payload.contact
        return [
            InboundMessage(
                source_id=payload.source_id,
                contact=_contact(c),
                text=payload.text,
                content_type=payload.content_type,
                files=tuple(_decode(i, f) for i, f in enumerate(payload.attachments) if f.data is not None),
                media=tuple(
                    MediaRef(reference=f.url, file_name=f.file_name, content_type=f.content_type, size=f.size)
                    for f in payload.attachments
                    if f.url is not None
                ),
                provider_time=_provider_time(payload.timestamp),
                event_id=payload.event_id,
            )
        ]

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        response = await self._post(self._body(outbound), {MESSAGE_ID_HEADER: str(outbound.message_id)})
        return self._receipt(response)

    async def _post(self, payload: dict[str, Any], headers: Mapping[str, str] = {}) -> httpx.Response:
        """POST a signed JSON body to the webhook_url (the client's timeout applies)."""
        url = self.settings.get("webhook_url")
        if not url:
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "the inbox has no webhook_url to deliver replies to",
                retryable=False,
            )
        body = orjson.dumps(payload)
        signed = {
            "Content-Type": "application/json",
            "X-Frontdesk-Signature": "sha256=" + hmac_sha256_hex(self.secrets["hmac_secret"], body),
            **headers,
        }
        with call_failures(
            "timed out waiting for the webhook receiver", "could not reach the webhook receiver"
        ):
            return await self.http.post(url, content=body, headers=signed)

    # --- Typing and read out (best effort: the caller logs a failure and carries on) ---

    async def send_typing(self, recipient_source_id: str) -> None:
        await self._indicator({"event": "typing", "contact": {"source_id": recipient_source_id}})

    async def mark_read(
        self, recipient_source_id: str, up_to_source_id: str | None, *, read_token: str | None = None
    ) -> None:
        await self._indicator(
            {
                "event": "read",
                "contact": {"source_id": recipient_source_id},
                "up_to_source_id": up_to_source_id,
            }
        )

    async def _indicator(self, payload: dict[str, Any]) -> None:
        if not self.settings.get("send_indicators") or not self.settings.get("webhook_url"):
            return
        self._receipt(await self._post(payload))

    # --- Setup ---

    async def check_connection(self) -> ConnectionCheck:
        """POST a signed {"event": "ping"} to the webhook_url and report its answer: what a
        reply's delivery would meet (reachable, signature accepted, 2xx), with nothing stored."""
        if not self.settings.get("webhook_url"):
            return ConnectionCheck(
                ok=False,
                detail="no webhook_url is set: replies have nowhere to go",
                code=FailureReason.MISCONFIGURED.value,
            )
        try:
            response = await self._post({"event": "ping"})
            self._receipt(response)
        except ChannelError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, code=exc.code.value)
        return ConnectionCheck(ok=True, detail=f"the webhook receiver answered HTTP {response.status_code}")

    # --- Media ---

    async def fetch_media(self, media: MediaRef, destination: Path, max_bytes: int) -> FetchedMedia:
        """GET the file's url, following at most MAX_REDIRECTS redirects and only to http(s)."""
        url = media.reference
        with download_failures():
            async with asyncio.timeout(MEDIA_SECONDS):
                for _ in range(MAX_REDIRECTS + 1):
                    if urlsplit(url).scheme not in ("http", "https"):
                        raise ChannelError(
                            FailureReason.PROVIDER_REJECTED,
                            f"the file's address is not http or https: {url[:200]}",
                            retryable=False,
                        )
                    async with self.http.stream("GET", url, follow_redirects=False) as response:
                        if response.is_redirect and "location" in response.headers:
                            url = urljoin(url, response.headers["location"])
                            continue
                        return await _save_media(response, destination, max_bytes)
        raise ChannelError(
            FailureReason.PROVIDER_REJECTED, "the file's address redirects too often", retryable=False
        )

    @staticmethod
    def _body(outbound: Outbound) -> dict[str, Any]:
        return {
            "event": "message.created",
            "message": {
                "id": outbound.message_id,
                "conversation_id": outbound.conversation_id,
                "conversation_number": outbound.conversation_number,
                "text": outbound.text,
                "content_type": outbound.content_type,
                "sender_name": outbound.sender_name,
                "attachments": list(outbound.attachments),
            },
            "contact": {"source_id": outbound.recipient_source_id, "name": outbound.recipient_name},
        }

    @staticmethod
    def _receipt(response: httpx.Response) -> ProviderReceipt:
        code = response.status_code
        if 200 <= code < 300:
            source_id = None
            try:
                data = response.json()
                if isinstance(data, dict) and isinstance(data.get("source_id"), str):
                    source_id = data["source_id"]
            except ValueError:
                pass
            return ProviderReceipt(source_id=source_id)
        detail = f"webhook receiver answered HTTP {code}: {response.text[:300]}"
        raise _refusal(code, detail, response)


async def _save_media(response: httpx.Response, destination: Path, max_bytes: int) -> FetchedMedia:
    code = response.status_code
    if code in (404, 410):
        raise ChannelError(
            FailureReason.ATTACHMENT_MISSING,
            f"the file's address answered HTTP {code}: expired or removed",
            retryable=False,
        )
    if code != 200:
        await response.aread()
        raise _refusal(code, f"the file's address answered HTTP {code}: {response.text[:300]}", response)
    await save_response(response, destination, max_bytes)
    return FetchedMedia(content_type=response.headers.get("content-type"))


def _refusal(code: int, detail: str, response: httpx.Response) -> ChannelError:
    # 408 and 429 and 5xx are the other side's temporary trouble; other 4xx will not change.
    retryable = code in (408, 425, 429) or code >= 500
    wait = retry_after_seconds(response.headers.get("retry-after")) if retryable else None
    return ChannelError(_http_failure(code), detail, retryable=retryable, retry_after=wait)


def _http_failure(code: int) -> FailureReason:
    named = {
        401: FailureReason.AUTH_FAILED,
        403: FailureReason.AUTH_FAILED,
        408: FailureReason.TIMEOUT,
        413: FailureReason.TOO_LARGE,
        429: FailureReason.RATE_LIMITED,
    }
    if code in named:
        return named[code]
    return (
        FailureReason.PROVIDER_UNAVAILABLE if code >= 500 or code == 425 else FailureReason.PROVIDER_REJECTED
    )
