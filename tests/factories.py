"""Builders for tests: bootstrap through actions, everything else through the public API."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from typing import Any

import httpx

from frontdesk.actions.users import do_add_member, do_create_user, do_create_workspace
from frontdesk.domain.enums import Role
from tests.conftest import Server

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class Agent:
    user_id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Inbox:
    id: int
    webhook_path: str
    secret: str


async def token_for(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    login = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert login.status_code == 200, login.text
    r = await http.post(
        "/api/v1/me/tokens", json={"name": "tests"}, headers={"X-CSRF-Token": login.json()["csrf_token"]}
    )
    assert r.status_code == 201, r.text
    http.cookies.clear()
    return str(r.json()["token"])


async def make_admin(server: Server, http: httpx.AsyncClient, workspace: str = "Acme") -> tuple[Agent, int]:
    n = next(_seq)
    email = f"admin{n}@example.com"
    async with server.services.db.write() as tx:
        user_id = await do_create_user(tx, email, f"Admin {n}", PASSWORD)
        workspace_id = await do_create_workspace(tx, workspace, user_id)
    return Agent(user_id, email, await token_for(http, email)), workspace_id


async def make_member(
    server: Server,
    http: httpx.AsyncClient,
    workspace_id: int,
    role: Role = Role.AGENT,
    name: str | None = None,
) -> Agent:
    n = next(_seq)
    email = f"agent{n}@example.com"
    async with server.services.db.write() as tx:
        user_id = await do_create_user(tx, email, name or f"Agent {n}", PASSWORD)
        await do_add_member(tx, workspace_id, user_id, role)
    return Agent(user_id, email, await token_for(http, email))


async def make_inbox(
    http: httpx.AsyncClient,
    admin: Agent,
    workspace_id: int,
    *,
    webhook_url: str | None = None,
    members: list[int] | None = None,
    **settings: Any,
) -> Inbox:
    if webhook_url:
        settings["webhook_url"] = webhook_url
    r = await http.post(
        f"/api/v1/workspaces/{workspace_id}/inboxes",
        headers=admin.headers,
        json={"name": f"API {next(_seq)}", "channel_type": "api", "settings": settings},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    if members is not None:
        m = await http.put(
            f"/api/v1/workspaces/{workspace_id}/inboxes/{body['id']}/members",
            headers=admin.headers,
            json={"user_ids": members},
        )
        assert m.status_code == 204, m.text
    return Inbox(body["id"], body["webhook_path"], body["secrets"]["hmac_secret"])


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_inbound(
    http: httpx.AsyncClient, inbox: Inbox, payload: dict[str, Any], *, signature: str | None = "auto"
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "auto":
        headers["X-Frontdesk-Signature"] = sign(inbox.secret, body)
    elif signature is not None:
        headers["X-Frontdesk-Signature"] = signature
    return await http.post(inbox.webhook_path, content=body, headers=headers)


def message(
    source_id: str, contact: str = "c-1", text: str = "Hello, I need help", **contact_fields: Any
) -> dict[str, Any]:
    return {
        "type": "message",
        "source_id": source_id,
        "text": text,
        "contact": {"source_id": contact, **({"name": "Ann Customer"} | contact_fields)},
    }


async def receive(
    http: httpx.AsyncClient,
    inbox: Inbox,
    source_id: str,
    contact: str = "c-1",
    text: str = "Hello, I need help",
) -> dict[str, Any]:
    r = await post_inbound(http, inbox, message(source_id, contact, text))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()["results"][0]
    return result
