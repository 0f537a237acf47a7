"""WeChat setup and the provider calls around messages: the inbox form, Test connection, the
scene QR codes, the customer's profile, media downloads, the shared channel state (one token
fetch for many callers) and migration 0015."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic import command

from frontdesk.channels.base import ChannelError, Installation
from frontdesk.channels.wechat.adapter import WechatAdapter
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.inbound import MediaRef
from frontdesk.store.channel_state import InboxState
from frontdesk.store.migrate import alembic_config, upgrade
from frontdesk.store.types import utcnow
from tests.channels.wechat.support import WechatInbox, conversations, messages, wechat_inbox
from tests.conftest import Server
from tests.fakes import Answer, FakeProvider, media, unavailable
from tests.fakes.wechat import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    CALLBACK_IP_PATH,
    MEDIA_PATH,
    OPENID,
    QR_PATH,
    TOKEN,
    TOKEN_PATH,
    USER_PATH,
    deliver,
    error,
    inbox_body,
    push,
    qr_answer,
    signed,
    token_answer,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def adapter(server: Server, inbox: WechatInbox, **settings: object) -> WechatAdapter:
    """The inbox's adapter as the app builds it, with the inbox's channel state."""
    svc = server.services
    return WechatAdapter(
        {"app_id": APP_ID, "message_mode": "plaintext", **settings},
        {"app_secret": APP_SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY},
        svc.http,
        Installation(
            settings=svc.settings,
            public_url="http://frontdesk.test",
            state=InboxState(svc.db, svc.box, inbox.id),
        ),
    )


async def test_the_inbox_form_lists_the_settings_and_write_only_secrets(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    r = await http.get(inbox.api(f"inboxes/{inbox.id}"), headers=inbox.admin.headers)
    assert r.status_code == 200, r.text
    shown = json.dumps(r.json())
    assert APP_SECRET not in shown and AES_KEY not in shown  # secrets are write-only
    bad = await http.post(
        inbox.api("inboxes"),
        headers=inbox.admin.headers,
        json={"name": "x", "channel_type": "wechat", "settings": {"app_id": "wx 1", "message_mode": "loud"}},
    )
    assert bad.status_code == 422


async def test_check_connection_gets_a_token_and_says_what_is_wrong(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    url = inbox.api(f"inboxes/{inbox.id}/check-connection")
    r = await http.post(url, headers=inbox.admin.headers)
    assert r.json()["ok"] is True, r.text
    assert fake_provider.calls_to(CALLBACK_IP_PATH)[0].query["access_token"] == "TOKEN-1"
    fake_provider.script(TOKEN_PATH, error(40164, "invalid ip 203.0.113.9, not in whitelist"))
    r = await http.post(url, headers=inbox.admin.headers)
    body = r.json()
    assert body["ok"] is False and body["code"] == "auth_failed"
    assert "40164" in body["detail"] and "IP allow-list" in body["detail"]
    fake_provider.script(TOKEN_PATH, error(40125, "invalid appsecret"))
    body = (await http.post(url, headers=inbox.admin.headers)).json()
    assert body["ok"] is False and "invalid appsecret" in body["detail"]


async def test_scene_qr_codes_are_made_by_wechat_once_and_drawn_locally(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(
        server, http, fake_provider, monkeypatch, qr_scene="shop-window", qr_temporary_days=7
    )
    fake_provider.script(
        QR_PATH,
        qr_answer("http://weixin.qq.com/q/permanent"),
        qr_answer("http://weixin.qq.com/q/temp", 604800),
    )
    base = inbox.api(f"inboxes/{inbox.id}/entry-points")
    permanent, temporary = (await http.get(base, headers=inbox.admin.headers)).json()
    assert permanent["url"] == "http://weixin.qq.com/q/permanent" and permanent["kind"] == "qr_code"
    assert temporary["url"] == "http://weixin.qq.com/q/temp"
    png = await http.get(permanent["qr_png_url"], headers=inbox.admin.headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    first, second = fake_provider.calls_to(QR_PATH)  # the QR image above reused them
    assert first.json() == {
        "action_name": "QR_LIMIT_STR_SCENE",
        "action_info": {"scene": {"scene_str": "shop-window"}},
    }
    assert second.json()["action_name"] == "QR_STR_SCENE" and second.json()["expire_seconds"] == 604800


async def test_no_qr_codes_when_wechat_refuses_them(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    fake_provider.answer(QR_PATH, error(48001, "api unauthorized"))
    r = await http.get(inbox.api(f"inboxes/{inbox.id}/entry-points"), headers=inbox.admin.headers)
    assert r.status_code == 200 and r.json() == []


async def test_fetch_profile_reads_user_info(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    profile = await adapter(server, inbox).fetch_profile(OPENID)
    assert profile is not None
    assert profile.name == "Li Lei" and profile.picture_url and profile.language == "zh_CN"
    [call] = fake_provider.calls_to(USER_PATH)
    assert call.query["openid"] == OPENID and call.query["access_token"] == "TOKEN-1"
    fake_provider.script(USER_PATH, Answer(200, b'{"subscribe": 0, "openid": "x"}'))
    assert (await adapter(server, inbox).fetch_profile("x")) == type(profile)(name=None)
    fake_provider.script(USER_PATH, error(40003, "invalid openid"))
    with pytest.raises(ChannelError) as refused:
        await adapter(server, inbox).fetch_profile("nobody")
    assert refused.value.code == FailureReason.RECIPIENT_REFUSED


async def test_media_is_fetched_at_arrival_and_a_video_by_its_video_url(
    server: Server,
    http: httpx.AsyncClient,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    fake_provider.script(MEDIA_PATH, media(PNG, "image/png"))
    await deliver(http, inbox.path, signed(push("image", PicUrl="http://x", MediaId="IMG-1", MsgId="1")))
    [conv] = await conversations(http, inbox)
    async with asyncio.timeout(10):
        while True:
            [msg] = await messages(http, inbox, int(conv["id"]))
            if msg["data"].get("attachments"):
                break
            await asyncio.sleep(0.05)
    assert msg["data"]["attachments"][0]["content_type"] == "image/png"
    # A video: media/get answers JSON with the address of the file.
    video_url = fake_provider.serve_media(
        "/video/1.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32, "video/mp4"
    )
    fake_provider.script(MEDIA_PATH, Answer(200, json.dumps({"video_url": video_url}).encode()))
    target = tmp_path / "v"
    got = await adapter(server, inbox).fetch_media(MediaRef("VID-1"), target, 10_000)
    assert got.content_type == "video/mp4" and target.read_bytes().startswith(b"\x00\x00\x00\x18ftyp")


async def test_media_errors_token_refresh_expiry_and_size(
    server: Server,
    http: httpx.AsyncClient,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    a = adapter(server, inbox)
    fake_provider.script(TOKEN_PATH, token_answer("OLD"), token_answer("NEW"))
    fake_provider.script(MEDIA_PATH, error(40001, "invalid credential"), media(PNG, "image/png"))
    await a.fetch_media(MediaRef("M"), tmp_path / "1", 10_000)
    assert [c.query["access_token"] for c in fake_provider.calls_to(MEDIA_PATH)] == ["OLD", "NEW"]
    fake_provider.script(MEDIA_PATH, error(40007, "invalid media_id"))
    with pytest.raises(ChannelError) as gone:
        await a.fetch_media(MediaRef("M"), tmp_path / "2", 10_000)
    assert gone.value.code == FailureReason.ATTACHMENT_MISSING and not gone.value.retryable
    fake_provider.script(MEDIA_PATH, media(PNG, "image/png"))
    with pytest.raises(ChannelError) as big:
        await a.fetch_media(MediaRef("M"), tmp_path / "3", 10)
    assert big.value.code == FailureReason.TOO_LARGE
    fake_provider.script(MEDIA_PATH, unavailable(503))
    with pytest.raises(ChannelError) as down:
        await a.fetch_media(MediaRef("M"), tmp_path / "4", 10_000)
    assert down.value.retryable


async def test_one_token_fetch_for_many_concurrent_callers_and_a_refresh_before_expiry(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    fake_provider.script(TOKEN_PATH, Answer(200, b'{"access_token": "SLOW", "expires_in": 7200}', delay=0.3))
    clients = [adapter(server, inbox)._client() for _ in range(8)]
    tokens = await asyncio.gather(*(c.token() for c in clients))
    assert set(tokens) == {"SLOW"} and len(fake_provider.calls_to(TOKEN_PATH)) == 1
    state = InboxState(server.services.db, server.services.box, inbox.id)
    stored = await state.get("access_token")
    assert stored is not None and stored.value == "SLOW"
    # Less than five minutes left: the next caller gets a new one.
    await state.put("access_token", "SLOW", utcnow() + timedelta(minutes=4))
    fake_provider.script(TOKEN_PATH, token_answer("FRESH"))
    assert await clients[0].token() == "FRESH"


async def test_channel_state_is_encrypted_at_rest_and_per_inbox(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from frontdesk.store import tables as t

    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    svc = server.services
    state = InboxState(svc.db, svc.box, inbox.id)
    await state.put("k", "very-secret-token")
    async with svc.db.read() as conn:
        raw = (await conn.execute(sa.select(t.channel_state.c.value_encrypted))).scalar_one()
    assert "very-secret-token" not in raw
    assert (await InboxState(svc.db, svc.box, inbox.id + 999).get("k")) is None
    await state.delete("k")
    assert await state.get("k") is None


async def test_migration_0015_goes_down_and_up(
    server: Server,
    http: httpx.AsyncClient,
    fake_provider: FakeProvider,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    state = InboxState(server.services.db, server.services.box, inbox.id)
    await state.put("k", "v")
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0014")
    await asyncio.to_thread(upgrade, database_url)
    assert await state.get("k") is None  # the table came back empty
    await state.put("k", "v2")
    assert (await state.get("k")) is not None


async def test_saving_checks_the_token_and_the_encoding_aes_key(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    r = await http.get(inbox.api(f"inboxes/{inbox.id}"), headers=inbox.admin.headers)
    assert r.json().get("setup_warning") is None
    body = inbox_body("safe")
    body["secrets"] = {**body["secrets"], "encoding_aes_key": "too-short", "token": "ok123"}
    body["settings"] = {**body["settings"], "app_id": "wxsecond"}  # one inbox per AppID
    bad = await http.post(inbox.api("inboxes"), headers=inbox.admin.headers, json=body)
    assert bad.status_code == 201, bad.text
    assert bad.json()["setup_warning"].startswith("misconfigured:") and "43" in bad.json()["setup_warning"]
    body["secrets"] = {**body["secrets"], "encoding_aes_key": AES_KEY, "token": "no spaces!"}
    body["settings"] = {**body["settings"], "app_id": "wxthird"}
    worse = await http.post(inbox.api("inboxes"), headers=inbox.admin.headers, json=body)
    assert "Token" in worse.json()["setup_warning"]
