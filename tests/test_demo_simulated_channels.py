"""The demo's simulated channels (frontdesk/demo_sim/, decision 0045): the serve process answers as
the provider, the channel's real code talks to it over HTTP (registration, signed webhooks into
the real webhook route, replies through the real delivery jobs), and /demo/customer plays the
customer. Demo equipment: dev mode only, absent otherwise."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from frontdesk.demo import ADMIN_EMAIL, DEMO_PASSWORD, create_demo
from frontdesk.demo_sim.base import SimStore
from frontdesk.demo_sim.telegram import TelegramSimulator
from frontdesk.settings import Settings
from tests.conftest import TEST_SECRET, Server, free_port, make_settings, serving
from tests.factories import Agent, make_admin, token_for
from tests.test_loop import wait_for_status

BOT_TOKEN = "4242:SIMULATED-token-for-the-demo-test"


def sim_settings(database_url: str, data_dir: Path, port: int) -> Settings:
    """Settings naming the server's own address: the simulator calls the webhook there."""
    return make_settings(
        database_url, data_dir, demo_simulated_channels=True, public_url=f"http://127.0.0.1:{port}"
    )


def point_at_simulators(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """Each channel's provider address at its simulator, as the Makefile's SIM_ENV sets them."""
    sim = f"http://127.0.0.1:{port}/demo/sim"
    monkeypatch.setenv("FRONTDESK_TELEGRAM_API_BASE", f"{sim}/telegram")
    monkeypatch.setenv("FRONTDESK_LINE_API_URL", f"{sim}/line")
    monkeypatch.setenv("FRONTDESK_LINE_DATA_URL", f"{sim}/line")
    monkeypatch.setenv("FRONTDESK_WECHAT_API_BASE", f"{sim}/wechat")


@pytest.fixture
async def sim_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Server]:
    """A server with the simulated providers on, each channel pointed at its simulator as
    `make demo` points it."""
    port = free_port()
    point_at_simulators(monkeypatch, port)
    async with serving(sim_settings(database_url, tmp_path / "data", port), port=port) as running:
        yield running


@pytest.fixture
async def sim_http(sim_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10) as client:
        yield client


async def as_customer(http: httpx.AsyncClient, inbox: str, name: str, text: str) -> httpx.Response:
    return await http.post("/demo/customer/send", json={"inbox": inbox, "name": name, "text": text})


async def chat_lines(http: httpx.AsyncClient, inbox: str, name: str) -> list[dict[str, Any]]:
    r = await http.get("/demo/customer/chat", params={"inbox": inbox, "name": name})
    assert r.status_code == 200, r.text
    return list(r.json()["entries"])


async def wait_for_line(http: httpx.AsyncClient, inbox: str, name: str, text: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            for line in await chat_lines(http, inbox, name):
                if line["side"] == "business" and line["text"] == text:
                    return line
            await asyncio.sleep(0.05)


async def reply_to_only_conversation(
    http: httpx.AsyncClient, admin: Agent, ws: int, text: str
) -> dict[str, Any]:
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    messages = f"{base}/{conversation['id']}/messages"
    r = await http.post(messages, headers=admin.headers, json={"text": text})
    assert r.status_code == 201, r.text
    return await wait_for_status(http, admin.headers, messages, r.json()["id"], "sent")


async def test_a_customer_text_is_stored_and_the_agents_reply_reaches_the_simulator(
    sim_server: Server, sim_http: httpx.AsyncClient
) -> None:
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    made = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "Bot", "channel_type": "telegram", "settings": {}, "secrets": {"bot_token": BOT_TOKEN}},
    )
    assert made.status_code == 201, made.text
    assert made.json()["setup_warning"] is None  # setWebhook answered by the simulator
    inbox_id, uid = made.json()["id"], made.json()["uid"]
    inbox = f"telegram/{uid}"

    sent = await as_customer(http, inbox, "Ali Veli", "Merhaba, kargom nerede?")
    assert sent.status_code == 200, sent.text
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    assert conversation["inbox_id"] == inbox_id
    listed = (await http.get(f"{base}/{conversation['id']}/messages", headers=admin.headers)).json()
    assert [m["text"] for m in listed["messages"]] == ["Merhaba, kargom nerede?"]

    # sendChatAction (what the channel sends while the agent types) shows as "typing…".
    chat_id = TelegramSimulator(SimStore(Path()), "").customer_key("Ali Veli")
    action = {"chat_id": chat_id, "action": "typing"}
    assert (await http.post(f"/demo/sim/telegram/bot{BOT_TOKEN}/sendChatAction", json=action)).json()["ok"]
    shown = await http.get("/demo/customer/chat", params={"inbox": inbox, "name": "Ali Veli"})
    assert shown.json()["typing"] is True

    reply = await reply_to_only_conversation(http, admin, ws, "Bugün kargoda, Ali.")
    line = await wait_for_line(http, inbox, "Ali Veli", "Bugün kargoda, Ali.")
    assert line["kind"] == "text" and reply["delivery_status"] == "sent"
    shown = await http.get("/demo/customer/chat", params={"inbox": inbox, "name": "Ali Veli"})
    assert shown.json()["typing"] is False  # the message ended it
    # Another customer's chat is another chat.
    assert await chat_lines(http, inbox, "Someone Else") == []

    check = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}/check-connection", headers=admin.headers
    )
    assert check.json()["ok"] is True, check.text
    assert f"/webhooks/telegram/{uid}" in check.json()["detail"]


async def test_make_demo_adds_a_simulated_inbox_fed_by_its_simulator(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("FRONTDESK_TELEGRAM_API_BASE", f"http://127.0.0.1:{port}/demo/sim/telegram")
    settings = sim_settings(database_url, tmp_path / "data", port)
    lines = await create_demo(settings)  # before the server runs, as `make demo` does
    assert f"http://127.0.0.1:{port}/demo/customer" in lines[-1] and "Telegram" in lines[-1]
    assert await create_demo(settings) == lines  # idempotent: no second inbox
    kept = tmp_path / "data" / "demo-sim" / "telegram.json"
    state = json.loads(kept.read_text())
    [(uid, account)] = state["accounts"].items()
    assert account["webhook_url"] == f"http://127.0.0.1:{port}/webhooks/telegram/{uid}"
    kept.unlink()  # the simulator forgot: the same inbox registers again
    await create_demo(settings)
    assert list(json.loads(kept.read_text())["accounts"]) == [uid]

    async with serving(settings, port=port) as server, httpx.AsyncClient(base_url=server.url) as http:
        page = await http.get("/demo/customer", headers={"Accept-Language": "tr"})
        assert page.status_code == 200 and "Müşteri rolünde yazın" in page.text
        assert f'value="telegram/{uid}" data-files="1">Telegram (simulated)</option>' in page.text
        assert (await as_customer(http, f"telegram/{uid}", "Ayla", "Selam!")).status_code == 200
        admin = Agent(0, ADMIN_EMAIL, await token_for(http, ADMIN_EMAIL, DEMO_PASSWORD))
        [workspace] = (await http.get("/api/v1/me", headers=admin.headers)).json()["workspaces"]
        ws = workspace["id"]
        inboxes = (await http.get(f"/api/v1/workspaces/{ws}/inboxes", headers=admin.headers)).json()
        [simulated] = [i for i in inboxes if i["uid"] == uid]
        assert simulated["name"] == "Telegram (simulated)"
        search = f"/api/v1/workspaces/{ws}/conversations"
        found = (await http.get(search, headers=admin.headers, params={"inbox_id": simulated["id"]})).json()
        assert [c["inbox_id"] for c in found["conversations"]] == [simulated["id"]]


async def test_a_webhook_refused_by_the_inbox_is_shown_to_the_customer(
    sim_server: Server, sim_http: httpx.AsyncClient
) -> None:
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    made = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "Bot", "channel_type": "telegram", "settings": {}, "secrets": {"bot_token": BOT_TOKEN}},
    )
    inbox_id, uid = made.json()["id"], made.json()["uid"]
    r = await http.patch(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}", headers=admin.headers, json={"is_enabled": False}
    )
    assert r.status_code == 200, r.text
    refused = await as_customer(http, f"telegram/{uid}", "Ali", "hello?")
    assert refused.status_code == 502 and "HTTP 410" in refused.json()["error"]
    [line] = await chat_lines(http, f"telegram/{uid}", "Ali")
    assert "HTTP 410" in line["error"]
    unknown = await as_customer(http, "telegram/nope", "Ali", "hello?")
    assert unknown.status_code == 502 and "registered" in unknown.json()["error"]
    # The Bot API's own refusals: a chat that never wrote, a malformed token.
    api = f"/demo/sim/telegram/bot{BOT_TOKEN}/sendMessage"
    nobody = await http.post(api, json={"chat_id": 1, "text": "hi"})
    assert nobody.status_code == 400 and nobody.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat not found",
    }
    assert (await http.post("/demo/sim/telegram/botnot-a-token/getMe")).status_code == 401


async def test_no_simulators_without_the_setting_and_never_outside_dev_mode(http: httpx.AsyncClient) -> None:
    assert (await http.get("/demo/customer")).status_code == 404
    assert (await http.post(f"/demo/sim/telegram/bot{BOT_TOKEN}/getMe")).status_code in (404, 405)
    with pytest.raises(ValidationError, match="FRONTDESK_DEMO_SIMULATED_CHANNELS"):
        Settings(secret_key=TEST_SECRET, dev_mode=False, demo_simulated_channels=True)


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


async def test_a_customers_photo_is_fetched_from_the_simulator_at_arrival(
    sim_server: Server, sim_http: httpx.AsyncClient
) -> None:
    http = sim_http
    admin, ws = await make_admin(sim_server, http)
    made = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={"name": "Bot", "channel_type": "telegram", "settings": {}, "secrets": {"bot_token": BOT_TOKEN}},
    )
    inbox = f"telegram/{made.json()['uid']}"
    photo = {"name": "mug.png", "type": "image/png", "data": base64.b64encode(PNG).decode()}
    sent = await http.post(
        "/demo/customer/send", json={"inbox": inbox, "name": "Ali", "text": "the broken mug", "file": photo}
    )
    assert sent.status_code == 200, sent.text
    [line] = await chat_lines(http, inbox, "Ali")
    assert line["kind"] == "image" and line["file_name"] == "mug.png"
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    async with asyncio.timeout(10):
        while True:
            r = await http.get(f"{base}/{conversation['id']}/messages", headers=admin.headers)
            [found] = r.json()["messages"]
            if found["data"].get("attachments") and "pending_media" not in found["data"]:
                break
            await asyncio.sleep(0.05)
    assert found["text"] == "the broken mug"
    [file] = found["data"]["attachments"]
    # A PNG goes as a document (only a JPEG as a photo), its name and type kept.
    assert file["size"] == len(PNG) and file["content_type"] == "image/png"
    # Neither text nor file: nothing to send.
    empty = await http.post("/demo/customer/send", json={"inbox": inbox, "name": "Ali", "text": " "})
    assert empty.status_code == 422
