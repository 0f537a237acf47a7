"""Helpers of the WeChat channel tests: an inbox made through the API, the fake WeChat wired in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.factories import Agent, make_admin
from tests.fakes import FakeProvider
from tests.fakes.wechat import inbox_body, speak_wechat


@dataclass(frozen=True)
class WechatInbox:
    admin: Agent
    ws: int
    id: int
    uid: str
    path: str

    def api(self, rest: str) -> str:
        return f"/api/v1/workspaces/{self.ws}/{rest}"


async def wechat_inbox(
    server: Server,
    http: httpx.AsyncClient,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    mode: str = "safe",
    **settings: Any,
) -> WechatInbox:
    monkeypatch.setenv("FRONTDESK_WECHAT_API_BASE", fake_provider.url)
    speak_wechat(fake_provider)
    admin, ws = await make_admin(server, http)
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes", headers=admin.headers, json=inbox_body(mode, **settings)
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return WechatInbox(admin, ws, body["id"], body["uid"], body["webhook_path"])


async def conversations(http: httpx.AsyncClient, inbox: WechatInbox) -> list[dict[str, Any]]:
    r = await http.get(inbox.api("conversations"), headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["conversations"])


async def messages(http: httpx.AsyncClient, inbox: WechatInbox, conv: int) -> list[dict[str, Any]]:
    r = await http.get(inbox.api(f"conversations/{conv}/messages"), headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def conversation(http: httpx.AsyncClient, inbox: WechatInbox, conv: int) -> dict[str, Any]:
    r = await http.get(inbox.api(f"conversations/{conv}"), headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def reply(http: httpx.AsyncClient, inbox: WechatInbox, conv: int, text: str) -> httpx.Response:
    return await http.post(
        inbox.api(f"conversations/{conv}/messages"), headers=inbox.admin.headers, json={"text": text}
    )


async def status_of(
    http: httpx.AsyncClient, inbox: WechatInbox, conv: int, message_id: int, wanted: str, timeout: float = 10
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            found = next(m for m in await messages(http, inbox, conv) if m["id"] == message_id)
            if found["delivery_status"] == wanted:
                return found
            await asyncio.sleep(0.05)
