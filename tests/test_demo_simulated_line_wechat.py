"""The demo's LINE and WeChat simulators (frontdesk/demo_sim/line.py, wechat.py; decision 0045):
the channel's real code talks to them over HTTP — a customer's text arrives signed as the
provider signs it (LINE's x-line-signature with a reply token; WeChat's signature, and in safe
mode the encrypted body with msg_signature), is stored, and the agent's reply goes through the
real delivery job to the simulator, which records it in the customer's chat."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.demo import create_demo
from frontdesk.demo_sim.base import SimStore, Simulator
from frontdesk.demo_sim.line import LineSimulator
from frontdesk.demo_sim.wechat import WechatSimulator
from tests.conftest import Server, free_port, serving
from tests.factories import Agent, make_admin
from tests.test_demo_simulated_channels import (
    as_customer,
    chat_lines,
    point_at_simulators,
    reply_to_only_conversation,
    sim_http,
    sim_server,
    sim_settings,
    wait_for_line,
)

__all__ = ["sim_http", "sim_server"]  # the fixtures, used here by name

LINE_SECRETS = {"channel_secret": "test-line-channel-secret", "channel_access_token": "test-line-token"}
WECHAT_SECRETS = {
    "app_secret": "test-wechat-app-secret",
    "token": "testToken42",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


async def make_inbox(
    server: Server,
    http: httpx.AsyncClient,
    admin: Agent,
    ws: int,
    sim_class: type[Simulator],
    settings: dict[str, Any],
    secrets: dict[str, str],
) -> tuple[int, str, Simulator]:
    """The inbox, saved in the dashboard, then entered in the provider's console (its webhook
    address and secrets: neither LINE over http nor WeChat learns them from an API call)."""
    kind = sim_class.channel_type
    made = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": f"{kind} shop", "channel_type": kind, "settings": settings, "secrets": secrets},
    )
    assert made.status_code == 201, made.text
    uid = str(made.json()["uid"])
    sim = sim_class(SimStore(server.services.settings.data_dir / "demo-sim"), f"{server.url}/demo/sim/{kind}")
    async with sim.store.edit(kind) as state:
        sim.console(state, uid, f"{server.url}/webhooks/{kind}/{uid}", settings, secrets)
    return int(made.json()["id"]), uid, sim


async def only_conversation_texts(http: httpx.AsyncClient, admin: Agent, ws: int) -> list[str]:
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    listed = (await http.get(f"{base}/{conversation['id']}/messages", headers=admin.headers)).json()
    return [m["text"] for m in listed["messages"]]


async def test_line_customer_text_is_stored_and_replies_go_by_reply_token_then_push(
    sim_server: Server, sim_http: httpx.AsyncClient
) -> None:
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    inbox_id, uid, sim = await make_inbox(
        sim_server, http, admin, ws, LineSimulator, {"channel_id": "2000000042"}, LINE_SECRETS
    )
    inbox = f"line/{uid}"
    sent = await as_customer(http, inbox, "Ayşe Kaya", "Siparişim ne zaman gelir?")
    assert sent.status_code == 200, sent.text
    assert await only_conversation_texts(http, admin, ws) == ["Siparişim ne zaman gelir?"]

    # The first reply uses the customer's reply token (free), the second goes by push (counted).
    first = await reply_to_only_conversation(http, admin, ws, "Yarın elinizde.")
    await wait_for_line(http, inbox, "Ayşe Kaya", "Yarın elinizde.")
    state = await sim.store.read("line")
    assert state["accounts"][uid]["used"] == 0 and first["delivery_status"] == "sent"
    await reply_to_only_conversation(http, admin, ws, "Kargo kodu: 123.")
    await wait_for_line(http, inbox, "Ayşe Kaya", "Kargo kodu: 123.")
    assert (await sim.store.read("line"))["accounts"][uid]["used"] == 1

    check = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}/check-connection", headers=admin.headers
    )
    assert check.json()["ok"] is True, check.text
    assert "used 1 of 200" in check.json()["detail"]
    # The simulator's own refusals, in LINE's shapes.
    api = "/demo/sim/line/v2/bot/message/reply"
    bearer = {"Authorization": f"Bearer {LINE_SECRETS['channel_access_token']}"}
    stale = await http.post(api, headers=bearer, json={"replyToken": "nope", "messages": [{"type": "text"}]})
    assert stale.status_code == 400 and stale.json() == {"message": "Invalid reply token"}
    assert (await http.get("/demo/sim/line/v2/bot/info")).status_code == 401


@pytest.mark.parametrize("mode", ["safe", "plaintext"])
async def test_wechat_customer_text_is_stored_and_the_reply_reaches_the_simulator(
    sim_server: Server, sim_http: httpx.AsyncClient, mode: str
) -> None:
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    settings = {"app_id": "wxtestdemo42", "message_mode": mode}
    inbox_id, uid, _ = await make_inbox(
        sim_server, http, admin, ws, WechatSimulator, settings, WECHAT_SECRETS
    )
    inbox = f"wechat/{uid}"
    sent = await as_customer(http, inbox, "Li Wei", "你好，我的快递在哪里？")
    assert sent.status_code == 200, sent.text
    assert await only_conversation_texts(http, admin, ws) == ["你好，我的快递在哪里？"]

    reply = await reply_to_only_conversation(http, admin, ws, "明天到。")
    line = await wait_for_line(http, inbox, "Li Wei", "明天到。")
    assert line["kind"] == "text" and reply["delivery_status"] == "sent"
    check = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}/check-connection", headers=admin.headers
    )
    assert check.json()["ok"] is True, check.text
    # A token the simulator never gave: WeChat's 40001.
    api = "/demo/sim/wechat/cgi-bin/message/custom/send"
    refused = await http.post(api, params={"access_token": "nope"}, json={"touser": "x"})
    assert refused.json()["errcode"] == 40001


async def test_make_demo_adds_line_and_wechat_inboxes_fed_by_their_simulators(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    point_at_simulators(monkeypatch, port)
    settings = sim_settings(database_url, tmp_path / "data", port)
    lines = await create_demo(settings)
    assert "LINE" in lines[-1] and "WeChat" in lines[-1]
    uids = {
        kind: next(
            iter(json.loads((tmp_path / "data" / "demo-sim" / f"{kind}.json").read_text())["accounts"])
        )
        for kind in ("line", "wechat")
    }
    async with serving(settings, port=port) as server, httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/demo/customer")
        for kind, name in (("line", "LINE (simulated)"), ("wechat", "WeChat (simulated)")):
            assert f'value="{kind}/{uids[kind]}" data-files="1">{name}</option>' in page.text
            sent = await as_customer(http, f"{kind}/{uids[kind]}", "Ayla", "Selam!")
            assert sent.status_code == 200, sent.text
            [entry] = await chat_lines(http, f"{kind}/{uids[kind]}", "Ayla")
            assert entry["side"] == "customer" and "error" not in entry


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(256)


async def wait_for_attachment(http: httpx.AsyncClient, admin: Agent, ws: int, index: int) -> dict[str, Any]:
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    async with asyncio.timeout(10):
        while True:
            r = await http.get(f"{base}/{conversation['id']}/messages", headers=admin.headers)
            messages = r.json()["messages"]
            if len(messages) > index:
                found = messages[index]
                if found["data"].get("attachments") and "pending_media" not in found["data"]:
                    return dict(found["data"]["attachments"][0])
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("kind", ["line", "wechat"])
async def test_customer_files_are_fetched_from_the_simulators_media_api(
    sim_server: Server, sim_http: httpx.AsyncClient, kind: str
) -> None:
    """LINE: the content endpoint (a video after its transcoding check); WeChat: media/get."""
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    if kind == "line":
        _, uid, _ = await make_inbox(
            sim_server, http, admin, ws, LineSimulator, {"channel_id": "2000000043"}, LINE_SECRETS
        )
    else:
        settings = {"app_id": "wxfiletest42", "message_mode": "safe"}
        _, uid, _ = await make_inbox(sim_server, http, admin, ws, WechatSimulator, settings, WECHAT_SECRETS)
    for index, (name, content_type, data) in enumerate(
        [("photo.jpg", "image/jpeg", JPEG), ("clip.mp4", "video/mp4", MP4)]
    ):
        upload = {"name": name, "type": content_type, "data": base64.b64encode(data).decode()}
        sent = await http.post(
            "/demo/customer/send", json={"inbox": f"{kind}/{uid}", "name": "Ali", "text": "", "file": upload}
        )
        assert sent.status_code == 200, sent.text
        file = await wait_for_attachment(http, admin, ws, index)
        assert file["size"] == len(data) and file["content_type"] == content_type
    if kind == "wechat":  # what a WeChat customer cannot send an Official Account
        pdf = {"name": "a.pdf", "type": "application/pdf", "data": base64.b64encode(b"%PDF-1.4").decode()}
        refused = await http.post(
            "/demo/customer/send", json={"inbox": f"wechat/{uid}", "name": "Ali", "text": "", "file": pdf}
        )
        assert refused.status_code == 502 and "pictures" in refused.json()["error"]
