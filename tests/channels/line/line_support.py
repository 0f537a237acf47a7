"""Shared steps of the LINE tests: an inbox through the admin API, signed webhook posts, and
reading what was stored through the agent API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import Agent
from tests.fakes import line


@dataclass(frozen=True)
class LineInbox:
    id: int
    uid: str
    webhook_path: str


async def line_inbox(http: httpx.AsyncClient, admin: Agent, ws: int, **settings: Any) -> LineInbox:
    r = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={
            "name": "LINE",
            "channel_type": "line",
            "settings": {"channel_id": line.CHANNEL_ID, "basic_id": line.BASIC_ID, **settings},
            "secrets": {"channel_secret": line.CHANNEL_SECRET, "channel_access_token": line.ACCESS_TOKEN},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return LineInbox(body["id"], body["uid"], body["webhook_path"])


async def post(
    http: httpx.AsyncClient, inbox: LineInbox, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await http.post(
        inbox.webhook_path, content=body, headers=line.sign(body) if headers is None else headers
    )


async def deliver(http: httpx.AsyncClient, inbox: LineInbox, *events: dict[str, Any]) -> list[dict[str, Any]]:
    r = await post(http, inbox, line.body_of(*events))
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


async def messages(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int) -> list[dict[str, Any]]:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["messages"]
    return found


async def until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll an async `check` until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.05)
