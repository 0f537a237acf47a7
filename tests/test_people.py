"""People: profile and preferences, password change and reset by email (through a real SMTP
server), avatars, invitations by email, presence, the members list and deactivation."""

from __future__ import annotations

import asyncio
import email
import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from aiosmtpd.controller import Controller

from frontdesk.domain.enums import Role
from frontdesk.http.api import schemas
from frontdesk.i18n import CATALOGUE, placeholders, translate
from frontdesk.store import tables as t
from frontdesk.store import views
from frontdesk.store.types import utcnow
from tests.conftest import Server, free_port
from tests.factories import PASSWORD, Agent, make_admin, make_inbox, make_member

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64
SMTP_PORT = free_port()
WITH_SMTP = {
    "smtp_host": "127.0.0.1",
    "smtp_port": SMTP_PORT,
    "smtp_starttls": False,
    "mail_from": "Desk <desk@example.com>",
    "public_url": "http://desk.example.com/",
}


# --- a real SMTP server ---------------------------------------------------------------------


class Inbox:
    """What the SMTP server received. `refuse` answers the next N messages with a 4xx."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 try again later"
            msg = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(msg, EmailMessage)
            self.messages.append(msg)
        return "250 OK"

    async def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                await asyncio.sleep(0.02)
        return list(self.messages)


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def link_token(text: str, path: str) -> str:
    found = re.search(rf"http://desk\.example\.com/{path}\?token=(\S+)", text)
    assert found, text
    return found.group(1)


async def sign_in(server: Server, email_: str, password: str = PASSWORD) -> httpx.AsyncClient:
    """A cookie session of its own, as a browser would hold it."""
    client = httpx.AsyncClient(base_url=server.url, timeout=10)
    r = await client.post("/api/v1/auth/login", json={"email": email_, "password": password})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return client


# --- i18n -------------------------------------------------------------------------------------


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    assert set(CATALOGUE) == {"en", "tr", "fa"}
    keys = set(CATALOGUE["en"])
    for locale, texts in CATALOGUE.items():
        assert set(texts) == keys, locale
        for key, text in texts.items():
            assert text.strip(), (locale, key)
            assert placeholders(text) == placeholders(CATALOGUE["en"][key]), (locale, key)
    assert translate("tr", "role.agent") == "temsilci"
    assert translate("de", "role.agent") == "an agent"  # unknown locale: English


# --- profile ----------------------------------------------------------------------------------


async def test_profile_defaults_partial_update_and_refusals(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    h = admin.headers
    me = (await http.get("/api/v1/me", headers=h)).json()
    assert me["display_name"] is None and me["avatar_url"] is None and me["locale"] == "en"
    assert me["preferences"] == {
        "theme": "system",
        "sound": True,
        "browser_notifications": True,
        "notify_on": ["new_conversation", "new_message", "mention", "assignment"],
        "auto_away_minutes": 10,
        "hotkeys": True,
    }
    assert me["workspaces"] == [{"id": ws, "name": "Acme", "role": "administrator"}]

    r = await http.patch(
        "/api/v1/me",
        headers=h,
        json={
            "display_name": " Ann ",
            "locale": "fa",
            "preferences": {"theme": "dark", "notify_on": ["mention", "assignment", "mention"]},
        },
    )
    assert r.status_code == 200, r.text
    r = await http.patch("/api/v1/me", headers=h, json={"preferences": {"auto_away_minutes": 0}})
    me = r.json()
    assert me["display_name"] == "Ann" and me["locale"] == "fa"
    assert me["preferences"]["theme"] == "dark"  # kept from the first update
    assert me["preferences"]["notify_on"] == ["mention", "assignment"]
    assert me["preferences"]["auto_away_minutes"] == 0 and me["preferences"]["sound"] is True

    refused = {
        "preferences.colour": {"preferences": {"colour": "red"}},
        "preferences.auto_away_minutes": {"preferences": {"auto_away_minutes": 481}},
        "preferences.theme": {"preferences": {"theme": "pink"}},
        "preferences.sound": {"preferences": {"sound": None}},
        "preferences.notify_on.0": {"preferences": {"notify_on": ["everything"]}},
        "locale": {"locale": "de"},
        "name": {"name": "   "},
        "nickname": {"nickname": "x"},
    }
    for field, body in refused.items():
        r = await http.patch("/api/v1/me", headers=h, json=body)
        assert r.status_code == 422, (field, r.text)
        assert r.json()["error"]["field"] == field, r.text
    assert r.json()["error"]["code"] == "unknown_field"
    assert (await http.get("/api/v1/me", headers=h)).json() == me  # nothing changed

    cleared = await http.patch("/api/v1/me", headers=h, json={"display_name": None, "name": "Ann Admin"})
    assert cleared.json()["display_name"] is None and cleared.json()["name"] == "Ann Admin"


async def test_stored_preferences_that_no_longer_pass_fall_back_to_defaults(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, _ = await make_admin(server, http)
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            t.users.update()
            .where(t.users.c.id == admin.user_id)
            .values(preferences={"theme": "neon", "sound": False, "retired_option": 1})
        )
    prefs = (await http.get("/api/v1/me", headers=admin.headers)).json()["preferences"]
    assert prefs["theme"] == "system" and prefs["sound"] is False and "retired_option" not in prefs


# --- password change --------------------------------------------------------------------------


async def test_password_change_keeps_this_session_and_ends_the_others(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, _ = await make_admin(server, http)
    here, elsewhere = await sign_in(server, admin.email), await sign_in(server, admin.email)
    try:
        url = "/api/v1/me/password"
        wrong = await here.post(url, json={"current_password": "nope-nope", "new_password": "brand-new-pw"})
        assert wrong.status_code == 400
        assert wrong.json()["error"]["code"] == "wrong_password"
        assert wrong.json()["error"]["field"] == "current_password"
        short = await here.post(url, json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422 and short.json()["error"]["field"] == "new_password"
        assert (await elsewhere.get("/api/v1/me")).status_code == 200  # refusals changed nothing

        ok = await here.post(url, json={"current_password": PASSWORD, "new_password": "brand-new-pw"})
        assert ok.status_code == 204, ok.text
        assert (await here.get("/api/v1/me")).status_code == 200
        assert (await elsewhere.get("/api/v1/me")).status_code == 401
        assert (await http.get("/api/v1/me", headers=admin.headers)).status_code == 200  # API token kept
        old = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
        assert old.status_code == 401
        new = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": "brand-new-pw"})
        assert new.status_code == 200
    finally:
        await here.aclose()
        await elsewhere.aclose()


# --- avatars ----------------------------------------------------------------------------------


async def test_avatar_upload_serve_replace_and_delete(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    h = admin.headers
    r = await http.post("/api/v1/me/avatar", headers=h, files={"file": ("me.png", PNG, "image/png")})
    assert r.status_code == 200, r.text
    first = r.json()["avatar_url"]
    got = await http.get(first)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert (await http.get("/api/v1/me", headers=h)).json()["avatar_url"] == first
    members = (await http.get(f"/api/v1/workspaces/{ws}/members", headers=h)).json()
    assert members[0]["avatar_url"] == first

    # The content decides the type: a WebP sent as "application/octet-stream" is a WebP.
    r = await http.post(
        "/api/v1/me/avatar", headers=h, files={"file": ("x.bin", WEBP, "application/octet-stream")}
    )
    second = r.json()["avatar_url"]
    assert second != first
    assert (await http.get(second)).headers["content-type"] == "image/webp"
    assert (await http.get(first)).status_code == 404  # the replaced picture is gone

    html = await http.post(
        "/api/v1/me/avatar", headers=h, files={"file": ("x.png", b"<html><script>", "image/png")}
    )
    assert html.status_code == 422 and html.json()["error"]["field"] == "file"
    assert "PNG, JPEG, WebP or GIF" in html.json()["error"]["message"]
    big = await http.post(
        "/api/v1/me/avatar", headers=h, files={"file": ("big.png", PNG + b"\x00" * 1_048_576, "image/png")}
    )
    assert big.status_code == 413 and big.json()["error"]["field"] == "file"
    assert (await http.get("/api/v1/me", headers=h)).json()["avatar_url"] == second  # refusals kept it

    assert (await http.delete("/api/v1/me/avatar", headers=h)).status_code == 204
    assert (await http.get("/api/v1/me", headers=h)).json()["avatar_url"] is None
    assert (await http.get(second)).status_code == 404
    assert (await http.get("/files/avatars/2020/01/" + "0" * 32)).status_code == 404


# --- password reset by email ------------------------------------------------------------------


@pytest.mark.parametrize("server", [WITH_SMTP], indirect=True)
async def test_password_reset_by_email(server: Server, http: httpx.AsyncClient, smtp: Inbox) -> None:
    admin, _ = await make_admin(server, http)
    await http.patch("/api/v1/me", headers=admin.headers, json={"locale": "tr", "display_name": "Ayşe"})
    browser = await sign_in(server, admin.email)
    try:
        smtp.refuse = 1  # the first try is refused (4xx): the queue retries
        unknown = await http.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})
        r = await http.post("/api/v1/auth/password-reset", json={"email": admin.email.upper()})
        assert unknown.status_code == r.status_code == 202
        assert unknown.json() == r.json()  # nothing tells the two apart
        [mail] = await smtp.wait(1)
        assert mail["To"] == admin.email and mail["From"] == "Desk <desk@example.com>"
        assert mail["Subject"] == "Frontdesk parolanızı sıfırlayın"
        body = text_of(mail)
        assert body.startswith("Merhaba Ayşe,") and "60 dakika" in body
        token = link_token(body, "reset-password")

        confirm = "/api/v1/auth/password-reset/confirm"
        short = await http.post(confirm, json={"token": token, "password": "short"})
        assert short.status_code == 422 and short.json()["error"]["field"] == "password"
        assert (await browser.get("/api/v1/me")).status_code == 200  # refused: nothing changed
        assert (
            await http.post(confirm, json={"token": token, "password": "a-new-password"})
        ).status_code == 204
        again = await http.post(confirm, json={"token": token, "password": "another-password"})
        assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
        assert (await browser.get("/api/v1/me")).status_code == 401  # every session ended
        ok = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": "a-new-password"})
        assert ok.status_code == 200
        await asyncio.sleep(0.2)
        assert len(smtp.messages) == 1  # nothing for the unknown address
    finally:
        await browser.aclose()


async def test_password_reset_without_email_logs_the_link_in_dev_mode(
    server: Server, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    admin, _ = await make_admin(server, http)
    caplog.set_level(logging.INFO, logger="frontdesk.http.api.people")
    r = await http.post("/api/v1/auth/password-reset", json={"email": admin.email})
    assert r.status_code == 202
    found = re.search(r"/reset-password\?token=(\S+)", caplog.text)
    assert found, caplog.text
    async with server.services.db.read() as conn:
        jobs = (await conn.execute(sa.select(t.jobs.c.kind))).scalars().all()
    assert "send_password_reset" not in jobs
    # An expired link is refused like an unknown one.
    async with server.services.db.write() as tx:
        await tx.conn.execute(t.password_resets.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    confirm = {"token": found.group(1), "password": "a-new-password"}
    expired = await http.post("/api/v1/auth/password-reset/confirm", json=confirm)
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "invalid_token"
    unknown = await http.post("/api/v1/auth/password-reset/confirm", json={**confirm, "token": "fdr_nope"})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "token"
    login = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert login.status_code == 200


# --- invitations ------------------------------------------------------------------------------


@pytest.mark.parametrize("server", [WITH_SMTP], indirect=True)
async def test_invitation_is_emailed_and_previewed(
    server: Server, http: httpx.AsyncClient, smtp: Inbox
) -> None:
    admin, ws = await make_admin(server, http)
    await http.patch("/api/v1/me", headers=admin.headers, json={"locale": "fa", "display_name": "Sara"})
    r = await http.post(
        f"/api/v1/workspaces/{ws}/invitations",
        headers=admin.headers,
        json={"email": "new@example.com", "role": "supervisor"},
    )
    assert r.status_code == 201
    [mail] = await smtp.wait(1)
    assert mail["To"] == "new@example.com"
    assert mail["Subject"] == "Sara شما را به فضای کاری Acme در Frontdesk دعوت کرد"
    token = link_token(text_of(mail), "accept-invitation")
    assert token == r.json()["token"]  # the response still returns it too
    assert "با نقش ناظر" in text_of(mail)

    preview = await http.get(f"/api/v1/invitations/{token}")
    assert preview.status_code == 200
    assert preview.json() == {"workspace_name": "Acme", "email": "new@example.com", "role": "supervisor"}
    accepted = await http.post(
        "/api/v1/invitations/accept", json={"token": token, "name": "New", "password": PASSWORD}
    )
    assert accepted.status_code == 201
    assert (await http.get(f"/api/v1/invitations/{token}")).status_code == 404
    assert (await http.get("/api/v1/invitations/fdi_unknown")).status_code == 404


async def test_invitation_without_email_queues_nothing(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    r = await http.post(
        f"/api/v1/workspaces/{ws}/invitations", headers=admin.headers, json={"email": "x@example.com"}
    )
    assert r.status_code == 201
    async with server.services.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar() == 0


# --- presence ---------------------------------------------------------------------------------


async def next_frame(ws: Any, type_: str, timeout: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame.get("type") == type_:
                return dict(frame)


async def next_presence(ws: Any, user_id: int) -> str:
    """The next presence change of one user (a socket also hears its own announcement)."""
    while True:
        frame = await next_frame(ws, "presence.updated")
        if frame["data"]["user_id"] == user_id:
            return str(frame["data"]["status"])


async def presence_of(http: httpx.AsyncClient, agent: Agent, ws_id: int) -> dict[int, str]:
    r = await http.get(f"/api/v1/workspaces/{ws_id}/presence", headers=agent.headers)
    assert r.status_code == 200, r.text
    return {a["user_id"]: a["status"] for a in r.json()["agents"]}


async def test_presence_follows_the_chosen_status_while_connected(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    agent = await make_member(server, http, ws_id)
    url = server.ws_url(f"/api/v1/workspaces/{ws_id}/stream")
    presence_url = f"/api/v1/workspaces/{ws_id}/presence"
    async with websockets.connect(url, additional_headers=admin.headers) as watcher:
        await next_frame(watcher, "ready")
        assert await presence_of(http, admin, ws_id) == {admin.user_id: "online", agent.user_id: "offline"}
        async with websockets.connect(url, additional_headers=agent.headers) as sock:
            await next_frame(sock, "ready")
            assert await next_presence(watcher, agent.user_id) == "online"
            r = await http.put(presence_url, headers=agent.headers, json={"status": "away"})
            assert r.status_code == 204
            assert await next_presence(watcher, agent.user_id) == "away"
            assert (await presence_of(http, admin, ws_id))[agent.user_id] == "away"
            bad = await http.put(presence_url, headers=agent.headers, json={"status": "busy"})
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
        assert await next_presence(watcher, agent.user_id) == "offline"
        assert (await presence_of(http, admin, ws_id))[agent.user_id] == "offline"
        # Reconnecting announces the stored choice, not "online".
        async with websockets.connect(url, additional_headers=agent.headers) as sock:
            await next_frame(sock, "ready")
            assert await next_presence(watcher, agent.user_id) == "away"
            members = (await http.get(f"/api/v1/workspaces/{ws_id}/members", headers=admin.headers)).json()
            row = next(m for m in members if m["user_id"] == agent.user_id)
            assert row["availability"] == "away" and row["status"] == "away"


# --- members and deactivation -----------------------------------------------------------------


async def test_members_list_in_a_fixed_number_of_queries(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws, name="Bo")
    inbox = await make_inbox(http, admin, ws, members=[agent.user_id])
    team = (
        await http.post(f"/api/v1/workspaces/{ws}/teams", headers=admin.headers, json={"name": "T"})
    ).json()
    await http.post(
        f"/api/v1/workspaces/{ws}/teams/{team['id']}/members",
        headers=admin.headers,
        json={"user_id": agent.user_id},
    )
    other_admin, other_ws = await make_admin(server, http, "Other")
    await make_inbox(http, other_admin, other_ws, members=[other_admin.user_id])

    url = f"/api/v1/workspaces/{ws}/members"

    async def count() -> int:
        server.counter.statements.clear()
        server.counter.enabled = True
        try:
            r = await http.get(url, headers=agent.headers)
        finally:
            server.counter.enabled = False
        assert r.status_code == 200
        return len(server.counter.statements)

    few = await count()
    for _ in range(5):
        extra = await make_member(server, http, ws)
        await http.put(
            f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/members",
            headers=admin.headers,
            json={"user_ids": [agent.user_id, extra.user_id]},
        )
    assert await count() == few == 4  # token, membership, members, their teams and inboxes

    members = (await http.get(url, headers=agent.headers)).json()
    bo = next(m for m in members if m["user_id"] == agent.user_id)
    assert bo == {
        "user_id": agent.user_id,
        "email": agent.email,
        "name": "Bo",
        "display_name": None,
        "avatar_url": None,
        "role": "agent",
        "is_active": True,
        "availability": "online",
        "status": "offline",
        "team_ids": [team["id"]],
        "inbox_ids": [inbox.id],
    }
    assert other_admin.user_id not in {m["user_id"] for m in members}


async def test_deactivated_member_is_refused_until_reactivated(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    sup = await make_member(server, http, ws, role=Role.SUPERVISOR)
    base = f"/api/v1/workspaces/{ws}"
    active = f"{base}/members/{agent.user_id}/active"
    assert (await http.put(active, headers=sup.headers, json={"is_active": False})).status_code == 403
    me = await http.put(
        f"{base}/members/{admin.user_id}/active", headers=admin.headers, json={"is_active": False}
    )
    assert me.status_code == 400 and me.json()["error"]["code"] == "cannot_deactivate_self"
    missing = await http.put(
        f"{base}/members/999999/active", headers=admin.headers, json={"is_active": False}
    )
    assert missing.status_code == 404
    assert (await http.put(active, headers=admin.headers, json={"is_active": "no"})).status_code == 422

    url = server.ws_url(f"{base}/stream")
    async with websockets.connect(url, additional_headers=agent.headers) as sock:
        await next_frame(sock, "ready")
        assert (await http.put(active, headers=admin.headers, json={"is_active": False})).status_code == 204
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await next_frame(sock, "never")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    for path in (base, f"{base}/conversations", f"{base}/members", f"{base}/presence"):
        r = await http.get(path, headers=agent.headers)
        assert r.status_code == 403, path
        assert r.json()["error"]["code"] == "member_deactivated"
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(url, additional_headers=agent.headers) as sock:
            await sock.recv()
    assert (await http.get("/api/v1/me", headers=agent.headers)).json()["workspaces"] == []
    members = (await http.get(f"{base}/members", headers=admin.headers)).json()
    row = next(m for m in members if m["user_id"] == agent.user_id)
    assert row["is_active"] is False and row["status"] == "offline"
    presence = await presence_of(http, admin, ws)
    assert agent.user_id not in presence

    assert (await http.put(active, headers=admin.headers, json={"is_active": True})).status_code == 204
    assert (await http.get(f"{base}/conversations", headers=agent.headers)).status_code == 200
    async with websockets.connect(url, additional_headers=agent.headers) as sock:
        await next_frame(sock, "ready")
    audit = (await http.get(f"{base}/audit-events", headers=admin.headers)).json()["events"]
    assert [(e["action"], e["target_id"]) for e in audit[:2]] == [
        ("member.reactivate", agent.user_id),
        ("member.deactivate", agent.user_id),
    ]


# --- shapes -----------------------------------------------------------------------------------


def test_views_match_the_response_schemas() -> None:
    user = {
        "id": 1,
        "email": "a@b.c",
        "name": "A",
        "display_name": None,
        "locale": "en",
        "avatar_path": "2025/01/" + "a" * 32,
    }
    from frontdesk.domain.preferences import Preferences

    profile = views.profile_view(user, Preferences().model_dump(), [{"id": 1, "name": "W", "role": "agent"}])
    assert set(profile) == set(schemas.Profile.model_fields)
    schemas.Profile.model_validate(profile)
    member = views.member_view(
        {**user, "user_id": 1, "role": "agent", "is_active": True, "availability": "away"}, "offline", [], [2]
    )
    assert set(member) == set(schemas.Member.model_fields)
    schemas.Member.model_validate(member)
