"""TEST EQUIPMENT: "loopback", a minimal messaging channel that talks to the fake provider the
way a bot API does (setWebhook on save, getMe to test the connection, a deep link per inbox), so
the generic setup hooks can be tested before a real messaging channel exists. Registered only
by the `loopback_channel` fixture (tests/conftest.py), never in the product."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionCheck,
    EntryPoint,
    InboxAddress,
    Outbound,
    ProviderReceipt,
)
from frontdesk.domain.enums import FailureReason


class LoopbackSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    api_base: str = Field(description="The fake provider's address.")
    bot_name: str = "frontdesk_test_bot"


class LoopbackAdapter(ChannelAdapter):
    channel_type = "loopback"
    settings_schema = LoopbackSettings
    secret_fields = ("bot_token",)

    async def _call(self, method: str, payload: dict[str, object]) -> httpx.Response:
        url = f"{self.settings['api_base']}/bot{self.secrets.get('bot_token', '')}/{method}"
        try:
            response = await self.http.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise ChannelError(FailureReason.CONNECTION_FAILED, str(exc), retryable=True) from None
        if response.status_code >= 300:
            code = (
                FailureReason.AUTH_FAILED if response.status_code == 401 else FailureReason.PROVIDER_REJECTED
            )
            raise ChannelError(code, response.text[:300], retryable=response.status_code >= 500)
        return response

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        await self._call("sendMessage", {"chat_id": outbound.recipient_source_id, "text": outbound.text})
        return ProviderReceipt(source_id=None)

    async def send_typing(self, recipient_source_id: str) -> None:
        await self._call("sendChatAction", {"chat_id": recipient_source_id, "action": "typing"})

    def entry_points(self, address: InboxAddress) -> Sequence[EntryPoint]:
        return (
            EntryPoint(
                "deep_link",
                "Open the chat",
                f"https://t.example/{self.settings.get('bot_name')}?start={address.uid}",
            ),
        )

    async def check_connection(self) -> ConnectionCheck:
        try:
            me = (await self._call("getMe", {})).json()
        except ChannelError as exc:
            return ConnectionCheck(ok=False, detail=exc.detail, code=exc.code.value)
        return ConnectionCheck(ok=True, detail=f"signed in as @{me['result']['username']}")

    async def on_saved(self, address: InboxAddress) -> None:
        await self._call("setWebhook", {"url": address.webhook_url})
