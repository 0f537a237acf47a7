"""The LINE channel (PRODUCT C4): a LINE Official Account through the Messaging API.

Inbound:  POST /webhooks/line/<inbox uid>, LINE's JSON, `x-line-signature` = base64 HMAC-SHA256
          of the raw body with the channel secret, checked before anything is read (parse.py).
Outbound: a reply goes with the reply token of the customer's latest message while it is valid
          and unused (free), else by push (counted against the monthly quota) with a stable
          X-Line-Retry-Key, so a repeated job is not sent twice (decision 0042).
Media:    the files customers send are fetched at arrival from the content endpoint (video and
          audio once LINE has transcoded them); stickers from LINE's sticker images.
Quota:    the worker reads the monthly quota and its consumption (quota.py) into the inbox's
          settings; the rules refuse a reply that could only go by push once it is used up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import httpx
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionCheck,
    EntryPoint,
    FetchedMedia,
    InboxAddress,
    Outbound,
    Profile,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
    assign_on_reply_field,
    call_failures,
    download_failures,
    save_response,
)
from frontdesk.channels.installation_env import read_installation
from frontdesk.channels.line.client import is_invalid_reply_token, messages_of, refusal
from frontdesk.channels.line.parse import STICKER_PREFIX, parse_body
from frontdesk.channels.line.settings import LineInstallationSettings
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.enums import FailureReason, MessageKind
from frontdesk.domain.inbound import InboundEvent, MediaRef
from frontdesk.store import tables as t

if TYPE_CHECKING:
    import contextlib

    from frontdesk.services import Services

SIGNATURE_HEADER = "x-line-signature"
RETRY_KEY_HEADER = "X-Line-Retry-Key"
# LINE says a reply token is valid "for a certain period" (about a minute, 30 s seen): we use it
# within this much of the customer's message, and fall back to push if LINE refuses it anyway.
REPLY_TOKEN_VALIDITY = timedelta(seconds=50)
LOADING_SECONDS = 10  # the loading animation, renewed while the agent keeps typing
MEDIA_SECONDS = 300.0  # a whole download, however slowly it trickles
# The retry keys of this installation's pushes: one UUID per (LINE channel, our message id).
_RETRY_NAMESPACE = uuid.UUID("6f1c2a52-3b7e-4c55-9a57-0d7f4e3c9b21")


class LineQuota(BaseModel):
    """The monthly message quota as last read from LINE (quota.py)."""

    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(description="Messages allowed this month; null: no limit.")
    used: int = Field(ge=0, description="Messages counted this month (pushes, not replies).")
    checked_at: str


class LineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel_id: str = Field(
        pattern=r"^\d{5,20}$",
        description="The Messaging API channel's Channel ID (LINE Developers console, Basic settings).",
    )
    basic_id: str | None = Field(
        default=None,
        pattern=r"^@[0-9A-Za-z._-]{1,40}$",
        description="The Official Account's basic ID, such as @123abcd: gives the add-friend link "
        "and QR code.",
    )
    lock_to_single_conversation: bool = Field(
        default=True, description="Reopen the contact's last conversation instead of starting a new one."
    )
    assign_on_reply: bool = assign_on_reply_field()
    # Kept by the worker, not by the administrator: absent from the form.
    quota: SkipJsonSchema[LineQuota | None] = None


@dataclass(frozen=True)
class LineSend:
    """What prepare() found for one send: the reply token to use, if it is still ours."""

    reply_token: str | None


def quota_of(settings: Mapping[str, Any]) -> LineQuota | None:
    raw = settings.get("quota")
    if not isinstance(raw, dict):
        return None
    try:
        return LineQuota.model_validate(raw)
    except ValueError:
        return None


def quota_exhausted(settings: Mapping[str, Any]) -> bool:
    quota = quota_of(settings)
    return quota is not None and quota.limit is not None and quota.used >= quota.limit


def retry_key(channel_id: str, message_id: int) -> str:
    return str(uuid.uuid5(_RETRY_NAMESPACE, f"{channel_id}:{message_id}"))


_RULES = ChannelRules(reply_token_validity=REPLY_TOKEN_VALIDITY, monthly_quota=True, max_text_length=5000)
_RULES_EXHAUSTED = ChannelRules(
    reply_token_validity=REPLY_TOKEN_VALIDITY, monthly_quota=True, max_text_length=5000, quota_exhausted=True
)


class LineAdapter(ChannelAdapter):
    channel_type = "line"
    settings_schema = LineSettings
    secret_fields = ("channel_secret", "channel_access_token")
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "channel_secret": "The channel secret (LINE Developers console, Basic settings): checks "
        "that each webhook really comes from LINE.",
        "channel_access_token": "A long-lived channel access token (Messaging API tab, Issue): "
        "sends replies and reads files, profiles and the quota.",
    }
    unique_settings = ("channel_id",)
    docs_path = "docs/channels/line.md"
    rules = _RULES

    @classmethod
    def rules_for(cls, settings: Mapping[str, Any]) -> ChannelRules:
        return _RULES_EXHAUSTED if quota_exhausted(settings) else _RULES

    @classmethod
    def background(
        cls, services: Services, *, with_worker: bool
    ) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
        if not with_worker:
            return ()
        from frontdesk.channels.line.quota import quota_poller

        return (quota_poller(services),)

    @cached_property
    def _install(self) -> LineInstallationSettings:
        return read_installation(LineInstallationSettings)

    # --- Inbound ---

    def verify(self, request: WebhookRequest) -> None:
        given = request.headers.get(SIGNATURE_HEADER, "")
        secret = str(self.secrets.get("channel_secret") or "")
        if not given or not secret:
            raise WebhookRejected("missing x-line-signature")
        expected = base64.b64encode(hmac.new(secret.encode(), request.body, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, given.strip().encode("ascii", "replace")):
            raise WebhookRejected("wrong x-line-signature")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        return parse_body(request.body)

    # --- Calls to LINE ---

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('channel_access_token', '')}"}

    async def _call(
        self, method: str, url: str, what: str, *, json: Any = None, headers: Mapping[str, str] = {}
    ) -> httpx.Response:
        with call_failures(f"LINE did not answer {what} in time", f"could not reach LINE for {what}"):
            return await self.http.request(method, url, json=json, headers={**self._headers(), **headers})

    def _api(self, path: str) -> str:
        return self._install.line_api_url.rstrip("/") + path

    def _data(self, path: str) -> str:
        return self._install.line_data_url.rstrip("/") + path

    # --- Outbound ---

    async def prepare(self, conn: AsyncConnection, outbound: Outbound) -> Outbound:
        """The reply token is ours when it is recent, this is the message's first attempt (an
        earlier one may have used it), and no earlier reply to the same customer message came
        before this one (it took the token)."""
        token = _recent_token(outbound.thread, datetime.now(UTC))
        if token is not None:
            m = t.messages
            latest_in = (
                sa.select(sa.func.max(m.c.id))
                .where(
                    m.c.conversation_id == outbound.conversation_id, m.c.kind == MessageKind.INCOMING.value
                )
                .scalar_subquery()
            )
            earlier = (
                sa.select(sa.func.count())
                .select_from(m)
                .where(
                    m.c.conversation_id == outbound.conversation_id,
                    m.c.kind == MessageKind.OUTGOING.value,
                    m.c.id < outbound.message_id,
                    m.c.id > sa.func.coalesce(latest_in, 0),
                )
                .scalar_subquery()
            )
            started = sa.select(m.c.attempt_started_at).where(m.c.id == outbound.message_id).scalar_subquery()
            row = (await conn.execute(sa.select(earlier.label("earlier"), started.label("started")))).one()
            if row.earlier or row.started is not None:
                token = None
        return _with(outbound, LineSend(reply_token=token))

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        messages = messages_of(outbound)
        extras = outbound.extras if isinstance(outbound.extras, LineSend) else LineSend(None)
        if extras.reply_token:
            response = await self._call(
                "POST",
                self._api("/v2/bot/message/reply"),
                "the reply",
                json={"replyToken": extras.reply_token, "messages": messages},
            )
            if response.is_success:
                return _receipt(response)
            if not is_invalid_reply_token(response):
                raise refusal(response, "the reply")
            # Expired or used after all: LINE sent nothing, so a push cannot send it twice.
        key = retry_key(str(self.settings.get("channel_id", "")), outbound.message_id)
        response = await self._call(
            "POST",
            self._api("/v2/bot/message/push"),
            "the push",
            json={"to": outbound.recipient_source_id, "messages": messages},
            headers={RETRY_KEY_HEADER: key},
        )
        if response.is_success:
            return _receipt(response)
        if response.status_code == 409 and response.headers.get("x-line-accepted-request-id"):
            return _receipt(response)  # an earlier attempt with this retry key was accepted: sent once
        raise refusal(response, "the push")

    async def send_typing(self, recipient_source_id: str) -> None:
        response = await self._call(
            "POST",
            self._api("/v2/bot/chat/loading/start"),
            "the loading indicator",
            json={"chatId": recipient_source_id, "loadingSeconds": LOADING_SECONDS},
        )
        if not response.is_success:
            raise refusal(response, "the loading indicator")

    async def mark_read(
        self, recipient_source_id: str, up_to_source_id: str | None, *, read_token: str | None = None
    ) -> None:
        """Mark the customer's messages read with the latest one's markAsReadToken (LINE takes it
        only when the account uses chat mode; otherwise it refuses and nothing changes)."""
        if not read_token:
            return
        response = await self._call(
            "POST", self._api("/v2/bot/chat/markAsRead"), "mark as read", json={"markAsReadToken": read_token}
        )
        if not response.is_success:
            raise refusal(response, "mark as read")

    # --- Media and profiles ---

    async def fetch_media(self, media: MediaRef, destination: Path, max_bytes: int) -> FetchedMedia:
        ref = media.reference
        kind, _, message_id = ref.partition(":")
        with download_failures():
            async with asyncio.timeout(MEDIA_SECONDS):
                if ref.startswith(STICKER_PREFIX):
                    sticker = quote(ref.removeprefix(STICKER_PREFIX), safe="")
                    base = self._install.line_sticker_url.rstrip("/")
                    url = f"{base}/stickershop/v1/sticker/{sticker}/android/sticker.png"
                    return await self._download(url, destination, max_bytes, auth=False)
                if kind in ("https", "http"):
                    return await self._download(ref, destination, max_bytes, auth=False)
                if kind in ("video", "audio"):
                    await self._transcoded(message_id)
                path = f"/v2/bot/message/{quote(message_id, safe='')}/content"
                return await self._download(self._data(path), destination, max_bytes, auth=True)

    async def _transcoded(self, message_id: str) -> None:
        path = f"/v2/bot/message/{quote(message_id, safe='')}/content/transcoding"
        response = await self._call("GET", self._data(path), "the transcoding check")
        if not response.is_success:
            raise _media_refusal(response)
        status = _object(response).get("status")
        if status == "processing":
            raise ChannelError(
                FailureReason.PROVIDER_UNAVAILABLE, "LINE is still preparing the file", retryable=True
            )
        if status != "succeeded":
            raise ChannelError(
                FailureReason.PROVIDER_REJECTED,
                f"LINE could not prepare the file ({status})",
                retryable=False,
            )

    async def _download(self, url: str, destination: Path, max_bytes: int, *, auth: bool) -> FetchedMedia:
        headers = self._headers() if auth else {}
        async with self.http.stream("GET", url, headers=headers, follow_redirects=not auth) as response:
            if not response.is_success:
                await response.aread()
                raise _media_refusal(response)
            await save_response(response, destination, max_bytes)
            return FetchedMedia(content_type=response.headers.get("content-type"))

    async def fetch_profile(self, source_id: str) -> Profile | None:
        path = f"/v2/bot/profile/{quote(source_id, safe='')}"
        response = await self._call("GET", self._api(path), "the profile")
        if response.status_code == 404:
            return None  # not (or no longer) a friend of the account: LINE shows no profile
        if not response.is_success:
            raise refusal(response, "the profile")
        body = _object(response)
        return Profile(
            name=_text(body.get("displayName")),
            picture_url=_text(body.get("pictureUrl")),
            language=_text(body.get("language")),
        )

    async def read_quota(self) -> LineQuota:
        """This month's quota and consumption, as LINE counts them."""
        quota = await self._call("GET", self._api("/v2/bot/message/quota"), "the quota")
        if not quota.is_success:
            raise refusal(quota, "the quota")
        used = await self._call(
            "GET", self._api("/v2/bot/message/quota/consumption"), "the quota consumption"
        )
        if not used.is_success:
            raise refusal(used, "the quota consumption")
        q, u = _object(quota), _object(used)
        limit = q.get("value") if q.get("type") == "limited" else None
        total = u.get("totalUsage")
        return LineQuota(
            limit=int(limit) if isinstance(limit, int) else None,
            used=int(total) if isinstance(total, int) and total >= 0 else 0,
            checked_at=datetime.now(UTC).isoformat(),
        )

    # --- Setup ---

    def entry_points(self, address: InboxAddress) -> Sequence[EntryPoint]:
        basic_id = self.settings.get("basic_id")
        if not basic_id:
            return ()
        return (EntryPoint("deep_link", "Add friend on LINE", f"https://line.me/R/ti/p/{quote(basic_id)}"),)

    async def check_connection(self) -> ConnectionCheck:
        """Bot info with the saved token, then this month's quota."""
        try:
            response = await self._call("GET", self._api("/v2/bot/info"), "the bot info")
        except ChannelError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, code=exc.code.value)
        if response.status_code == 401:
            return ConnectionCheck(
                ok=False,
                detail="LINE refused the channel access token: it is wrong, expired or revoked "
                "(issue a new one in the Messaging API tab)",
                code=FailureReason.AUTH_FAILED.value,
            )
        if response.status_code == 403:
            return ConnectionCheck(
                ok=False,
                detail="LINE refused the call: the channel is disabled or the token lacks the right",
                code=FailureReason.AUTH_FAILED.value,
            )
        if not response.is_success:
            failure = refusal(response, "the bot info")
            return ConnectionCheck(ok=False, detail=failure.detail, code=failure.code.value)
        info = _object(response)
        detail = f"connected as {info.get('displayName') or 'the bot'} ({info.get('basicId') or '?'})"
        try:
            quota = await self.read_quota()
        except ChannelError as exc:
            return ConnectionCheck(ok=True, detail=f"{detail}; the quota could not be read: {exc.detail}")
        if quota.limit is None:
            return ConnectionCheck(ok=True, detail=f"{detail}; {quota.used} messages this month, no limit")
        return ConnectionCheck(ok=True, detail=f"{detail}; used {quota.used} of {quota.limit} this month")

    async def on_saved(self, address: InboxAddress) -> None:
        """Tell LINE the webhook URL where it can take it (HTTPS only); otherwise the
        administrator pastes it into the console."""
        if not address.webhook_url.startswith("https://"):
            return
        response = await self._call(
            "PUT",
            self._api("/v2/bot/channel/webhook/endpoint"),
            "the webhook registration",
            json={"endpoint": address.webhook_url},
        )
        if not response.is_success:
            raise refusal(response, "the webhook registration")


def _recent_token(thread: Mapping[str, Any], now: datetime) -> str | None:
    given = thread.get("reply_token")
    if not isinstance(given, dict) or not isinstance(given.get("token"), str):
        return None
    try:
        received = datetime.fromisoformat(str(given.get("received_at")))
    except ValueError:
        return None
    if received.tzinfo is None or now - received >= REPLY_TOKEN_VALIDITY:
        return None
    return str(given["token"])


def _with(outbound: Outbound, extras: LineSend) -> Outbound:
    return replace(outbound, extras=extras)


def _receipt(response: httpx.Response) -> ProviderReceipt:
    sent = _object(response).get("sentMessages")
    if isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id"):
        return ProviderReceipt(source_id=str(sent[0]["id"]))
    return ProviderReceipt(source_id=None)


def _media_refusal(response: httpx.Response) -> ChannelError:
    if response.status_code in (404, 410):
        return ChannelError(
            FailureReason.ATTACHMENT_MISSING,
            f"LINE answered HTTP {response.status_code}: the file expired or was removed",
            retryable=False,
        )
    return refusal(response, "the file download")


def _object(response: httpx.Response) -> dict[str, Any]:
    """LINE's JSON answer as an object; {} for anything else (a proxy's HTML page, a list)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) and value else None
