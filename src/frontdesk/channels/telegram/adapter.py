"""The Telegram channel (PRODUCT C4): a bot's private chats through the Bot API.

Inbound:  Telegram POSTs one Update per call to /webhooks/telegram/<inbox uid>, with the
          secret_token we gave setWebhook in X-Telegram-Bot-Api-Secret-Token (compared in
          constant time; missing or wrong → 401, nothing stored). parse.py reads the Update.
Outbound: sendMessage (4,096-character parts), sendPhoto / sendDocument by the address of our
          stored file, sendChatAction typing. Telegram's 429 parameters.retry_after becomes the
          delivery job's wait.
Setup:    on_saved calls setWebhook (idempotent); Test connection calls getMe and getWebhookInfo.
Media:    getFile, then <api base>/file/bot<token>/<file_path>, at arrival (≤ 20 MB on the cloud).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionCheck,
    EntryPoint,
    FetchedMedia,
    InboxAddress,
    Outbound,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
    assign_on_reply_field,
)
from frontdesk.channels.installation_env import read_installation
from frontdesk.channels.telegram.client import BotApi
from frontdesk.channels.telegram.parse import parse_update
from frontdesk.channels.telegram.sending import send_outbound
from frontdesk.channels.telegram.settings import CLOUD_DOWNLOAD_LIMIT, TelegramInstallationSettings
from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.inbound import InboundEvent, MediaRef

__all__ = ["ALLOWED_UPDATES", "SECRET_HEADER", "TelegramAdapter", "TelegramSettings"]

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"
# The update kinds parse.py handles; Telegram sends no others once setWebhook names these.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
_acknowledging: set[asyncio.Task[None]] = set()
LEARNED_USERNAME = "bot_username"  # channel-state key: the username getMe gave at the last save


class TelegramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_username: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^@?[A-Za-z0-9_]{3,64}$",
        description="The bot's username, for the t.me link and QR code customers start a chat at; "
        "empty: the username the bot token belongs to, read when the inbox is saved.",
    )
    lock_to_single_conversation: bool = Field(
        default=True, description="Reopen the customer's last conversation instead of starting a new one."
    )
    assign_on_reply: bool = assign_on_reply_field()


class TelegramAdapter(ChannelAdapter):
    channel_type = "telegram"
    settings_schema = TelegramSettings
    secret_fields = ("bot_token", "webhook_secret")
    secret_descriptions: ClassVar[Mapping[str, str]] = {
        "bot_token": "The token @BotFather gave when the bot was made (123456:ABC-…).",
        "webhook_secret": "Telegram sends it back with every update so Frontdesk knows the update is "
        "genuine. Frontdesk generates it and registers it when the inbox is saved.",
    }
    docs_path = "docs/channels/telegram.md"
    # No reply window; a text longer than one Telegram message goes as several; Telegram fetches
    # files we send by their address up to 20 MB.
    rules = ChannelRules(max_text_length=4 * 4096, max_media_bytes=20 * 1_048_576)

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        # token_urlsafe uses only A-Za-z0-9_-, as Telegram requires (1-256 characters).
        return {"webhook_secret": secrets.token_urlsafe(48)}

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]:
        """None: Rotate does not register the new secret with Telegram (only saving does), so a
        rotated secret would refuse every update until the next save."""
        return {}

    # --- Installation ---

    def _install(self) -> TelegramInstallationSettings:
        found: TelegramInstallationSettings | None = getattr(self, "_install_settings", None)
        if found is None:
            found = self._install_settings = read_installation(TelegramInstallationSettings)
        return found

    def _api(self) -> BotApi:
        install = self._install()
        return BotApi(
            self.http, str(self.secrets.get("bot_token") or ""), install.api_base, install.timeout_seconds
        )

    # --- Inbound ---

    def verify(self, request: WebhookRequest) -> None:
        expected = str(self.secrets.get("webhook_secret") or "")
        given = request.headers.get(SECRET_HEADER)
        if not expected or given is None or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("missing or wrong X-Telegram-Bot-Api-Secret-Token")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        # The installation's settings are read only for an update that carries a file.
        limit = self._limit() if b'"file_id"' in request.body else CLOUD_DOWNLOAD_LIMIT
        parsed = parse_update(request.body, limit)
        if parsed.callback is not None:
            self._acknowledge(parsed.callback.query_id)
        return parsed.events

    def _limit(self) -> int:
        return self._install().download_limit_bytes

    def _acknowledge(self, query_id: str) -> None:
        """answerCallbackQuery in the background, so the customer's button stops spinning; best
        effort (Telegram stops the spinner itself after a while)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        api = self._api()

        async def answer() -> None:
            try:
                await api.call("answerCallbackQuery", {"callback_query_id": query_id})
            except ChannelError as exc:
                log.info("could not answer a callback query", extra={"reason": exc.detail})

        task = loop.create_task(answer())
        _acknowledging.add(task)
        task.add_done_callback(_acknowledging.discard)

    async def fetch_media(self, media: MediaRef, destination: Path, max_bytes: int) -> FetchedMedia:
        api = self._api()
        limit = min(max_bytes, self._limit())
        found = await api.call("getFile", {"file_id": media.reference})
        result = found if isinstance(found, dict) else {}
        file_path = result.get("file_path")
        size = result.get("file_size")
        if isinstance(size, int) and size > limit:
            raise ChannelError(
                FailureReason.TOO_LARGE, f"the file is larger than {limit} bytes", retryable=False
            )
        if not isinstance(file_path, str) or not file_path:
            raise ChannelError(
                FailureReason.ATTACHMENT_MISSING, "Telegram gave no path for the file", retryable=False
            )
        fetched = await api.download(file_path, destination, limit)
        return FetchedMedia(fetched.content_type, file_name=PurePosixPath(file_path).name or None)

    # --- Outbound ---

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        return await send_outbound(self._api(), outbound, self.installation.state)

    async def send_typing(self, recipient_source_id: str) -> None:
        await self._api().call("sendChatAction", {"chat_id": recipient_source_id, "action": "typing"})

    # --- Setup ---

    async def entry_points(self, address: InboxAddress) -> Sequence[EntryPoint]:
        username = str(self.settings.get("bot_username") or "").lstrip("@")
        if not username and self.installation.state is not None:
            learned = await self.installation.state.get(LEARNED_USERNAME)
            username = learned.value if learned is not None else ""
        if not username:
            return ()
        return (
            EntryPoint(
                "deep_link", "Open the chat in Telegram", f"https://t.me/{username}?start={address.uid}"
            ),
        )

    async def on_saved(self, address: InboxAddress) -> None:
        """setWebhook with our secret and the update kinds we handle: the same call again changes
        nothing, so saving twice is harmless. Pending updates are kept (never dropped)."""
        await self._api().call(
            "setWebhook",
            {
                "url": address.webhook_url,
                "secret_token": str(self.secrets.get("webhook_secret") or ""),
                "allowed_updates": list(ALLOWED_UPDATES),
                "drop_pending_updates": False,
            },
        )
        # The bot's username, for the t.me link when the admin gave none (kept in the inbox's
        # channel state: a setup hook does not change the admin's settings).
        me = await self._api().call("getMe", {})
        actual = str(me.get("username") or "") if isinstance(me, dict) else ""
        if actual and self.installation.state is not None:
            await self.installation.state.put(LEARNED_USERNAME, actual)
        wanted = str(self.settings.get("bot_username") or "").lstrip("@")
        if wanted and actual.lower() != wanted.lower():
            raise ChannelError(
                FailureReason.MISCONFIGURED,
                f"the bot token belongs to @{actual}, not @{wanted}: the t.me link would open another bot",
                retryable=False,
            )

    async def check_connection(self) -> ConnectionCheck:
        api = self._api()
        try:
            me = await api.call("getMe", {})
            info = await api.call("getWebhookInfo", {})
        except ChannelError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, code=exc.code.value)
        username = str(me.get("username") or "") if isinstance(me, dict) else ""
        return webhook_check(username, info if isinstance(info, dict) else {}, self.installation.public_url)


def webhook_check(username: str, info: Mapping[str, Any], public_url: str) -> ConnectionCheck:
    """getWebhookInfo in words: where Telegram delivers, and the last error it met there."""
    me = f"signed in as @{username}"
    url = str(info.get("url") or "")
    ours = public_url.rstrip("/") + "/webhooks/telegram/"
    if not url:
        return ConnectionCheck(
            ok=False,
            detail=f"{me}, but no webhook is registered: save the inbox to register it",
            code=FailureReason.MISCONFIGURED.value,
        )
    if public_url and not url.startswith(ours):
        return ConnectionCheck(
            ok=False,
            detail=f"{me}, but Telegram delivers this bot's updates to {url}, not to this Frontdesk "
            f"({ours}…): save the inbox to register it here",
            code=FailureReason.MISCONFIGURED.value,
        )
    error = info.get("last_error_message")
    if isinstance(error, str) and error:
        when = info.get("last_error_date")
        at = f" at {_utc(when)}" if isinstance(when, int) else ""
        pending = info.get("pending_update_count")
        if isinstance(pending, int) and pending:
            # Updates are piling up: the error is current.
            return ConnectionCheck(
                ok=False,
                detail=f"{me}; Telegram cannot deliver to {url} ({pending} updates waiting); its last "
                f"error{at}: {error}",
                code=FailureReason.PROVIDER_REJECTED.value,
            )
        return ConnectionCheck(
            ok=True, detail=f"{me}; updates are delivered to {url} (the last error Telegram met{at}: {error})"
        )
    return ConnectionCheck(ok=True, detail=f"{me}; updates are delivered to {url}")


def _utc(seconds: int) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return str(seconds)
