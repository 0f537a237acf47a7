"""The Telegram channel's tests: the Bot API served by the fake provider (tests/fakes/telegram.py)
at FRONTDESK_TELEGRAM_API_BASE, and an inbox made through the public API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import Agent
from tests.fakes import FakeProvider
from tests.fakes import telegram as tg


@dataclass
class TelegramInbox:
    id: int
    uid: str
    webhook_path: str
    secret: str
    setup_warning: str | None

    async def post(
        self, http: httpx.AsyncClient, update: dict[str, Any], secret: str | None = "auto"
    ) -> httpx.Response:
        """Deliver an Update as Telegram does: JSON, the secret token in its header."""
        given = self.secret if secret == "auto" else secret
        headers = tg.headers(given) if given is not None else {"Content-Type": "application/json"}
        return await http.post(self.webhook_path, content=json.dumps(update).encode(), headers=headers)


@pytest.fixture
def bot_api(fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch) -> FakeProvider:
    """The fake provider speaking the Bot API, where the channel looks for Telegram."""
    monkeypatch.setenv("FRONTDESK_TELEGRAM_API_BASE", fake_provider.url)
    tg.install_bot_api(fake_provider)
    return fake_provider


async def make_telegram_inbox(
    http: httpx.AsyncClient, admin: Agent, ws: int, token: str = tg.TOKEN, **settings: Any
) -> TelegramInbox:
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={
            "name": "Shop bot",
            "channel_type": "telegram",
            "settings": settings,
            "secrets": {"bot_token": token},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return TelegramInbox(
        body["id"],
        body["uid"],
        body["webhook_path"],
        body["secrets"]["webhook_secret"],
        body["setup_warning"],
    )
