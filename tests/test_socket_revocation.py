"""An agent socket closes (4401) once the credentials it was opened with are gone: the API token
deleted, the sign-in session signed out (or revoked by a password change). Two web processes
share one database and a Redis of the test's own, so the close must travel over the bus; the
same user's sockets opened with other credentials stay open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.channels.web.test_widget_socket import close_code
from tests.conftest import Server, make_settings, serving
from tests.factories import PASSWORD, make_admin
from tests.redis_server import RedisServer


@pytest.fixture
async def http(two_processes: tuple[Server, Server]) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the first process (the `server` fixture's process is not used here)."""
    async with httpx.AsyncClient(base_url=two_processes[0].url, timeout=10) as client:
        yield client


@pytest.fixture
async def two_processes(
    database_url: str, tmp_path: Path, own_redis: RedisServer
) -> AsyncIterator[tuple[Server, Server]]:
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                serving(
                    make_settings(
                        database_url,
                        tmp_path / "data",
                        redis_url=own_redis.url,
                        redis_channel="frontdesk:events",
                    )
                )
            )
            for _ in range(2)
        ]
        yield servers[0], servers[1]


async def _sign_in(client: httpx.AsyncClient, email: str) -> tuple[str, str]:
    """A new cookie session: (session cookie, CSRF token)."""
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.cookies["frontdesk_session"]
    client.cookies.clear()
    return cookie, str(r.json()["csrf_token"])


async def _token(client: httpx.AsyncClient, email: str) -> tuple[int, str]:
    cookie, csrf = await _sign_in(client, email)
    r = await client.post(
        "/api/v1/me/tokens",
        json={"name": "script"},
        headers={"X-CSRF-Token": csrf, "Cookie": f"frontdesk_session={cookie}"},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), str(r.json()["token"])


async def _open(server: Server, workspace_id: int, headers: dict[str, str]) -> Any:
    sock = await websockets.connect(
        server.ws_url(f"/api/v1/workspaces/{workspace_id}/stream"), additional_headers=headers
    )
    frame = json.loads(await asyncio.wait_for(sock.recv(), 5))
    assert frame["type"] == "ready", frame
    return sock


async def _still_open(sock: Any) -> None:
    await sock.send('{"type":"ping"}')
    async with asyncio.timeout(5):
        while json.loads(await sock.recv())["type"] != "pong":
            pass


async def test_deleting_a_token_closes_its_sockets_on_every_process(
    two_processes: tuple[Server, Server], http: httpx.AsyncClient
) -> None:
    a, b = two_processes
    admin, ws = await make_admin(a, http)
    token_id, token = await _token(http, admin.email)
    bearer = {"Authorization": f"Bearer {token}"}
    cookie, _ = await _sign_in(http, admin.email)
    on_a, on_b = await _open(a, ws, bearer), await _open(b, ws, bearer)
    other_token = await _open(b, ws, admin.headers)
    session = await _open(b, ws, {"Cookie": f"frontdesk_session={cookie}"})
    try:
        r = await http.delete(f"/api/v1/me/tokens/{token_id}", headers=admin.headers)
        assert r.status_code == 204, r.text
        assert await close_code(on_a) == 4401
        assert await close_code(on_b) == 4401  # told over the bus
        for sock in (other_token, session):
            await _still_open(sock)
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await _open(a, ws, bearer)  # and it cannot come back
    finally:
        for sock in (on_a, on_b, other_token, session):
            await sock.close()


async def test_signing_out_closes_that_sessions_sockets_on_every_process(
    two_processes: tuple[Server, Server], http: httpx.AsyncClient
) -> None:
    a, b = two_processes
    admin, ws = await make_admin(a, http)
    leaving, csrf = await _sign_in(http, admin.email)
    staying, _ = await _sign_in(http, admin.email)
    on_a = await _open(a, ws, {"Cookie": f"frontdesk_session={leaving}"})
    on_b = await _open(b, ws, {"Cookie": f"frontdesk_session={leaving}"})
    other_session = await _open(b, ws, {"Cookie": f"frontdesk_session={staying}"})
    by_token = await _open(a, ws, admin.headers)
    try:
        r = await http.post(
            "/api/v1/auth/logout", headers={"X-CSRF-Token": csrf, "Cookie": f"frontdesk_session={leaving}"}
        )
        assert r.status_code == 204, r.text
        assert await close_code(on_a) == 4401
        assert await close_code(on_b) == 4401
        for sock in (other_session, by_token):
            await _still_open(sock)
    finally:
        for sock in (on_a, on_b, other_session, by_token):
            await sock.close()


async def test_a_password_change_closes_the_other_sessions_sockets(
    two_processes: tuple[Server, Server], http: httpx.AsyncClient
) -> None:
    a, b = two_processes
    admin, ws = await make_admin(a, http)
    current, csrf = await _sign_in(http, admin.email)
    elsewhere, _ = await _sign_in(http, admin.email)
    mine = await _open(a, ws, {"Cookie": f"frontdesk_session={current}"})
    theirs = await _open(b, ws, {"Cookie": f"frontdesk_session={elsewhere}"})
    try:
        r = await http.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "a-new-long-password-9"},
            headers={"X-CSRF-Token": csrf, "Cookie": f"frontdesk_session={current}"},
        )
        assert r.status_code == 204, r.text
        assert await close_code(theirs) == 4401
        await _still_open(mine)
    finally:
        for sock in (mine, theirs):
            await sock.close()
