"""The WeChat channel (PRODUCT C5): an Official Account (service account) through WeChat's server
API. docs/channels/wechat.md tells the setup; decision 0043 the choices.

Inbound:  POST /webhooks/wechat/<inbox uid>?signature&timestamp&nonce[&encrypt_type=aes&
          msg_signature], an XML body; GET with echostr is the server-URL verification. The
          SHA-1 signature is checked in constant time before anything is read; in safe mode
          (and compatible mode when WeChat encrypts) msg_signature is checked and the body
          decrypted (crypto.py). The answer is "success" once the events are stored: never a
          passive reply, which WeChat could deliver twice.
Outbound: customer-service messages (/cgi-bin/message/custom/send): text, and images, voice and
          video uploaded first as temporary media; within WeChat's rules (5 messages in the 48 h
          after the customer's message, 3 in the minute after a menu click or a QR scan).
          45015 and 45047 fail the reply as window_closed / reply_limit_reached, and the
          conversation's window is set from them.
Media:    /cgi-bin/media/get, at arrival (temporary media lasts 3 days).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionCheck,
    EntryPoint,
    FetchedMedia,
    HandshakeReply,
    InboxAddress,
    Outbound,
    Profile,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
    assign_on_reply_field,
    download_failures,
    save_response,
)
from frontdesk.channels.installation_env import read_installation
from frontdesk.channels.send_progress import SendProgress
from frontdesk.channels.wechat.client import (
    TOKEN_ERRORS,
    TOKEN_KEY,
    WechatClient,
    answer_of,
    raise_for_errcode,
    wechat_error,
)
from frontdesk.channels.wechat.crypto import CryptoError, aes_key, decrypt, signature_matches
from frontdesk.channels.wechat.parse import parse_push, xml_fields
from frontdesk.channels.wechat.settings import WechatInstallationSettings
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.errors import MalformedRequest
from frontdesk.domain.inbound import InboundEvent, MediaRef
from frontdesk.store.types import utcnow

log = logging.getLogger(__name__)

# What a customer-service message may carry, by our content type → WeChat's media type.
SENDABLE = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "audio/amr": "voice",
    "audio/mpeg": "voice",
    "video/mp4": "video",
}
VOICE_BYTES = 2 * 1_048_576
MAX_SKEW_SECONDS = 3600  # how far a push's signed timestamp may be from our clock
MAX_MEDIA_BYTES = 10 * 1_048_576
PERMANENT_QR_KEY = "qr:permanent:"
TEMPORARY_QR_KEY = "qr:temporary:"


class WechatSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    app_id: str = Field(
        min_length=2,
        max_length=64,
        pattern=r"^[A-Za-z0-9_]+$",
        description="The account's AppID (WeChat admin: Settings and Development, Basic Configuration).",
    )
    message_mode: Literal["plaintext", "compatible", "safe"] = Field(
        default="safe",
        description="Message encryption as set in the WeChat admin's server configuration: plaintext, "
        "compatible (both) or safe (encrypted, recommended).",
    )
    qr_scene: str = Field(
        default="frontdesk",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_\-.:]+$",
        description="The scene value of this inbox's QR codes: a customer who scans one arrives with it "
        "as the conversation's source.",
    )
    qr_temporary_days: int = Field(
        default=30,
        ge=1,
        le=30,
        description="How long the temporary QR code stays valid, in days (at most 30).",
    )
    assign_on_reply: bool = assign_on_reply_field()


class WechatAdapter(ChannelAdapter):
    channel_type = "wechat"
    settings_schema = WechatSettings
    secret_fields = ("app_secret", "token", "encoding_aes_key")
    unique_settings = ("app_id",)
    docs_path = "docs/channels/wechat.md"
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "app_secret": "The account's AppSecret (Basic Configuration): used to get the access token.",
        "token": "The Token you entered in the server configuration (3 to 32 letters or digits).",
        "encoding_aes_key": "The EncodingAESKey of the server configuration (43 characters), for the "
        "compatible and safe modes.",
    }
    secret_shown_when: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
        "encoding_aes_key": {"message_mode": ("compatible", "safe")}
    }
    rules = ChannelRules(
        customer_writes_first=True,
        reply_window=timedelta(hours=48),
        messages_in_window=5,
        action_window=timedelta(minutes=1),
        messages_in_action_window=3,
        max_text_length=2048,
        media_types=frozenset(SENDABLE),
        max_media_bytes=MAX_MEDIA_BYTES,
    )

    _plain: bytes | None = None  # the verified (and decrypted) body, for parse

    # --- Inbound ---

    def _signed(self, request: WebhookRequest) -> bool:
        q = request.query
        token = str(self.secrets.get("token") or "")
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        return bool(token and timestamp and nonce) and signature_matches(
            (token, timestamp, nonce), q.get("signature")
        )

    def handshake(self, request: WebhookRequest) -> HandshakeReply | None:
        """The server-URL check of the WeChat admin: echostr back only for a genuine signature."""
        echo = request.query.get("echostr")
        if echo is None or not self._signed(request):
            raise WebhookRejected("missing or wrong WeChat signature")
        return HandshakeReply(echo)

    def verify(self, request: WebhookRequest) -> None:
        if not self._signed(request):
            raise WebhookRejected("missing or wrong WeChat signature")
        stamp = request.query.get("timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > MAX_SKEW_SECONDS:
            # A genuine push is signed seconds before it arrives (WeChat retries within a
            # minute): an old signed request is a replay.
            raise WebhookRejected("the WeChat timestamp is too far from now")
        mode = self.settings.get("message_mode", "safe")
        encrypted = request.query.get("encrypt_type", "raw").lower() == "aes"
        if mode == "safe" and not encrypted:
            raise WebhookRejected("the inbox is in safe mode and the body is not encrypted")
        if mode == "plaintext" and encrypted and b"<MsgType" not in request.body:
            # WeChat encrypts (safe mode) while the inbox expects plaintext: say so in the log
            # rather than drop every message unread.
            raise WebhookRejected("the push is encrypted: set the inbox's message encryption to safe")
        if mode == "plaintext" or not encrypted:
            self._plain = request.body
            return
        fields = xml_fields(request.body)
        sealed = fields.get("Encrypt", "").strip()
        token = str(self.secrets.get("token") or "")
        q = request.query
        if not sealed or not signature_matches(
            (token, q.get("timestamp", ""), q.get("nonce", ""), sealed), q.get("msg_signature")
        ):
            raise WebhookRejected("missing or wrong WeChat msg_signature")
        try:
            key = aes_key(str(self.secrets.get("encoding_aes_key") or ""))
            self._plain = decrypt(key, sealed, str(self.settings.get("app_id", "")))
        except CryptoError as exc:
            raise WebhookRejected(f"cannot decrypt the body: {exc}") from None

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        if self._plain is None:  # parse is only ever called after verify
            raise MalformedRequest("body: not verified", field="body")
        return parse_push(self._plain)

    def webhook_answer(self, request: WebhookRequest) -> HandshakeReply | None:
        return HandshakeReply("success")

    # --- The API ---

    def _client(self) -> WechatClient:
        env = read_installation(WechatInstallationSettings)
        return WechatClient(
            self.http,
            env.wechat_api_base,
            str(self.settings.get("app_id", "")),
            str(self.secrets.get("app_secret") or ""),
            self.installation.state,
            env.wechat_timeout_seconds,
        )

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        """Each part (the text, then each file) is one customer-service message. WeChat takes no
        idempotency key: channels/send_progress.py keeps a retry or a killed worker from
        sending a part twice."""
        client = self._client()
        parts: list[Mapping[str, Any] | None] = []
        if outbound.text.strip():
            parts.append(None)
        parts.extend(outbound.attachments)
        if not parts:
            raise ChannelError(
                FailureReason.INVALID_MESSAGE, "the reply has neither text nor files", retryable=False
            )
        progress = SendProgress(self.installation.state, outbound.message_id, "WeChat")
        done = await progress.start()
        for index, part in enumerate(parts):
            if index < done:
                continue
            if part is None:
                body: dict[str, Any] = {"msgtype": "text", "text": {"content": outbound.text}}
            else:
                body = await self._media_body(client, part)
            await progress.sending(index)
            try:
                await client.call(
                    "POST",
                    "/cgi-bin/message/custom/send",
                    json_body={"touser": outbound.recipient_source_id, **body},
                )
            except ChannelError:
                await progress.failed(index)
                raise
            await progress.sent(index, last=index + 1 == len(parts))
        return ProviderReceipt(source_id=None)  # WeChat gives no id for a customer-service message

    async def _media_body(self, client: WechatClient, attachment: Mapping[str, Any]) -> dict[str, Any]:
        content_type = str(attachment.get("content_type", ""))
        kind = SENDABLE.get(content_type)
        name = str(attachment.get("file_name") or "file")
        if kind is None:
            raise ChannelError(
                FailureReason.INVALID_MESSAGE,
                f"WeChat takes images, voice (AMR, MP3) and MP4 video; {name} is {content_type}",
                retryable=False,
            )
        data = self._read_file(attachment)
        if kind == "voice" and len(data) > VOICE_BYTES:
            raise ChannelError(
                FailureReason.TOO_LARGE, f"{name}: WeChat takes voice up to 2 MB", retryable=False
            )
        uploaded = await client.call(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": kind},
            files={"media": (name, data, content_type)},
        )
        media_id = uploaded.get("media_id")
        if not isinstance(media_id, str):
            raise ChannelError(
                FailureReason.PROVIDER_REJECTED, "WeChat's upload gave no media_id", retryable=False
            )
        media: dict[str, Any] = {"media_id": media_id}
        if kind == "video":
            media["title"] = name
        return {"msgtype": kind, kind: media}

    def _read_file(self, attachment: Mapping[str, Any]) -> bytes:
        root = self.installation.files_root
        if root is None:
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                "this worker does not know the attachments folder",
                retryable=False,
            )
        base = root.resolve()
        relative = urlsplit(str(attachment.get("url", ""))).path.split("/files/", 1)[-1]
        path = (base / relative).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            raise ChannelError(
                FailureReason.ATTACHMENT_MISSING,
                f"the attachment {attachment.get('file_name')} is missing",
                retryable=False,
            )
        return path.read_bytes()

    async def send_typing(self, recipient_source_id: str) -> None:
        await self._client().call(
            "POST",
            "/cgi-bin/message/custom/typing",
            json_body={"touser": recipient_source_id, "command": "Typing"},
        )

    # --- Media and profiles ---

    async def fetch_media(self, media: MediaRef, destination: Path, max_bytes: int) -> FetchedMedia:
        """media/get streams the file; a video answers JSON with a video_url to fetch instead."""
        client = self._client()
        token = await client.token()
        with download_failures("WeChat"):
            try:
                try:
                    return await self._download(client, media, destination, max_bytes, token)
                except _Refused:
                    return await self._download(
                        client, media, destination, max_bytes, await client.token(refused=token)
                    )
            except _Refused as again:
                raise wechat_error(again.errcode, "invalid access token") from None

    async def _download(
        self, client: WechatClient, media: MediaRef, destination: Path, max_bytes: int, token: str
    ) -> FetchedMedia:
        async with client.stream("/cgi-bin/media/get", {"media_id": media.reference}, token) as response:
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or kind in ("application/json", "text/plain"):
                await response.aread()
                data = _json_or_error(response)
                url = data.get("video_url")
                if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                    raise ChannelError(
                        FailureReason.PROVIDER_REJECTED, "WeChat answered without the file", retryable=False
                    )
                async with self.http.stream("GET", url, timeout=client.timeout) as video:
                    if video.status_code != 200:
                        raise ChannelError(
                            FailureReason.ATTACHMENT_MISSING,
                            f"the video's address answered HTTP {video.status_code}",
                            retryable=video.status_code >= 500,
                        )
                    await _save(video, destination, max_bytes)
                    return FetchedMedia(
                        content_type=video.headers.get("content-type"), file_name=media.file_name
                    )
            await _save(response, destination, max_bytes)
            return FetchedMedia(content_type=response.headers.get("content-type"), file_name=media.file_name)

    async def fetch_profile(self, source_id: str) -> Profile | None:
        """user/info: the follower's nickname and picture where WeChat still gives them (since
        2021 it leaves them empty for most accounts), and their language."""
        data = await self._client().call(
            "GET", "/cgi-bin/user/info", params={"openid": source_id, "lang": "en"}
        )
        if not data.get("subscribe"):
            return Profile(name=None)  # not a follower: WeChat tells nothing more
        name = str(data.get("nickname") or "").strip() or None
        picture = str(data.get("headimgurl") or "").strip() or None
        language = str(data.get("language") or "").strip() or None
        return Profile(name=name, picture_url=picture, language=language)

    # --- Setup ---

    async def check_connection(self) -> ConnectionCheck:
        """Gets an access token with the saved AppID and AppSecret (without replacing the one in
        use), then asks WeChat for its callback addresses with it: wrong credentials, an address
        missing from the IP allow-list and an unreachable WeChat each say so."""
        client = self._client()
        try:
            token, expires = await client.new_token()
            if client.state is not None:
                await client.state.put(TOKEN_KEY, token, expires)
            await client.call("GET", "/cgi-bin/getcallbackip")
        except ChannelError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, code=exc.code.value)
        return ConnectionCheck(
            ok=True, detail="WeChat accepted the AppID and AppSecret and gave an access token"
        )

    async def on_saved(self, address: InboxAddress) -> None:
        """WeChat has no API to set the server URL (the admin pastes it): the secrets the WeChat
        admin will check are checked here, so a typo shows now rather than as a refused URL."""
        token = str(self.secrets.get("token") or "")
        if not re.fullmatch(r"[A-Za-z0-9]{3,32}", token):
            raise ChannelError(
                FailureReason.MISCONFIGURED, "the Token must be 3 to 32 letters or digits", retryable=False
            )
        if self.settings.get("message_mode", "safe") != "plaintext":
            try:
                aes_key(str(self.secrets.get("encoding_aes_key") or ""))
            except CryptoError as exc:
                raise ChannelError(FailureReason.MISCONFIGURED, str(exc), retryable=False) from None

    async def entry_points(self, address: InboxAddress) -> Sequence[EntryPoint]:
        """The inbox's scene QR codes, permanent and temporary, as WeChat makes them (their url is
        drawn as the QR code locally); kept in the inbox's state until they expire."""
        scene = str(self.settings.get("qr_scene") or "frontdesk")
        days = int(self.settings.get("qr_temporary_days") or 30)
        client = self._client()
        out: list[EntryPoint] = []
        try:
            permanent = await self._qr(
                client,
                PERMANENT_QR_KEY + scene,
                {
                    "action_name": "QR_LIMIT_STR_SCENE",
                    "action_info": {"scene": {"scene_str": scene}},
                },
            )
            out.append(EntryPoint("qr_code", f"Permanent QR code (scene {scene})", permanent))
            temporary = await self._qr(
                client,
                f"{TEMPORARY_QR_KEY}{scene}:{days}",
                {
                    "expire_seconds": days * 86_400,
                    "action_name": "QR_STR_SCENE",
                    "action_info": {"scene": {"scene_str": scene}},
                },
            )
            out.append(EntryPoint("qr_code", f"Temporary QR code (scene {scene}, {days} days)", temporary))
        except ChannelError as exc:
            log.warning("WeChat QR codes unavailable", extra={"error": exc.detail})
        return out

    async def _qr(self, client: WechatClient, key: str, body: dict[str, Any]) -> str:
        async def make() -> tuple[str, Any]:
            data = await client.call("POST", "/cgi-bin/qrcode/create", json_body=body)
            url = data.get("url")
            if not isinstance(url, str) or not url:
                raise ChannelError(
                    FailureReason.PROVIDER_REJECTED, "WeChat made no QR code url", retryable=False
                )
            seconds = data.get("expire_seconds")
            return url, (
                utcnow() + timedelta(seconds=seconds) if isinstance(seconds, int) and seconds else None
            )

        if client.state is None:
            url, _ = await make()
            return url
        return await client.state.fresh(key, make, margin=timedelta(days=1))


class _Refused(Exception):
    def __init__(self, errcode: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode


def _json_or_error(response: httpx.Response) -> dict[str, Any]:
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        errcode = data.get("errcode", 0)
        if isinstance(errcode, int) and errcode in TOKEN_ERRORS:
            raise _Refused(errcode)
        raise_for_errcode(data)
        if response.status_code == 200:
            return data
    answer_of(response)  # raises for the HTTP status
    raise ChannelError(
        FailureReason.PROVIDER_REJECTED, f"WeChat answered HTTP {response.status_code}", retryable=False
    )


async def _save(response: httpx.Response, destination: Path, max_bytes: int) -> None:
    await save_response(response, destination, max_bytes)
