"""WeChat inbound through the real webhook route: the server-URL check, signatures (plaintext,
compatible and safe mode, encrypted by wechatpy), every message and event kind, repeats, and
forged, replayed and hostile bodies."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.channels.wechat.support import WechatInbox, conversations, messages, wechat_inbox
from tests.conftest import Server
from tests.fakes import FakeProvider
from tests.fakes.wechat import (
    APP_ID,
    Signed,
    deliver,
    encrypted,
    event,
    push,
    signed,
    text,
)


async def _only_conversation(http: httpx.AsyncClient, inbox: WechatInbox) -> int:
    [conv] = await conversations(http, inbox)
    return int(conv["id"])


async def test_the_server_url_check_answers_echostr_only_when_signed(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch)
    good = signed(b"")
    r = await http.get(inbox.path, params={**good.query, "echostr": "5837397520756297"})
    assert r.status_code == 200 and r.text == "5837397520756297"
    forged = {**good.query, "signature": "0" * 40, "echostr": "x"}
    assert (await http.get(inbox.path, params=forged)).status_code == 401
    assert (await http.get(inbox.path, params={"echostr": "x"})).status_code == 401


async def test_a_plaintext_text_message_is_stored_once_and_answered_success(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    created = int(time.time()) - 30
    request = signed(text("Hello\nfrom WeChat", msg_id="98765432109876543210987", created=created))
    first = await deliver(http, inbox.path, request)
    assert first.status_code == 200 and first.text == "success"
    # WeChat retries a push it got no answer to in 5 s: the same MsgId stores nothing.
    again = await deliver(http, inbox.path, signed(request.body))
    assert again.status_code == 200 and again.text == "success"
    conv = await _only_conversation(http, inbox)
    [msg] = await messages(http, inbox, conv)
    assert msg["text"] == "Hello\nfrom WeChat"
    assert msg["source_id"] == "98765432109876543210987"  # a MsgId past 64 bits stays a string


async def test_forged_unsigned_and_resigned_bodies_are_refused_and_nothing_stored(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    body = text("hi")
    wrong_token = signed(body, token="not-the-token")
    assert (await deliver(http, inbox.path, wrong_token)).status_code == 401
    # WeChat in safe mode while the inbox says plaintext: refused (and logged), not dropped unread.
    assert (await deliver(http, inbox.path, encrypted(body))).status_code == 401
    unsigned = Signed({"timestamp": "1", "nonce": "2"}, body)
    assert (await deliver(http, inbox.path, unsigned)).status_code == 401
    # A genuine signature of two hours ago: a replayed capture, refused.
    replayed = signed(body, timestamp=str(int(time.time()) - 7200))
    assert (await deliver(http, inbox.path, replayed)).status_code == 401
    assert await conversations(http, inbox) == []


async def test_safe_mode_decrypts_what_wechatpy_encrypted(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="safe")
    r = await deliver(http, inbox.path, encrypted(text("你好，我需要帮助", msg_id="1")))
    assert r.status_code == 200 and r.text == "success", r.text
    conv = await _only_conversation(http, inbox)
    [msg] = await messages(http, inbox, conv)
    assert msg["text"] == "你好，我需要帮助"


async def test_safe_mode_refuses_plaintext_a_wrong_key_another_appid_and_a_bad_msg_signature(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="safe")
    assert (await deliver(http, inbox.path, signed(text("plain")))).status_code == 401
    other_key = encrypted(text("x"), aes_key="ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut")
    assert (await deliver(http, inbox.path, other_key)).status_code == 401
    other_app = encrypted(text("x"), app_id="wxsomeoneelse00000")
    assert (await deliver(http, inbox.path, other_app)).status_code == 401
    good = encrypted(text("x"))
    bad_sig = Signed({**good.query, "msg_signature": "f" * 40}, good.body)
    assert (await deliver(http, inbox.path, bad_sig)).status_code == 401
    # Another body under a genuine query: msg_signature covers the encrypted body, so it fails.
    other = encrypted(text("someone else's words"))
    assert (await deliver(http, inbox.path, Signed(good.query, other.body))).status_code == 401
    assert await conversations(http, inbox) == []
    assert APP_ID  # the inbox's own AppID is the one wechatpy encrypted for above


async def test_compatible_mode_takes_both_plaintext_and_encrypted_pushes(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="compatible")
    assert (await deliver(http, inbox.path, signed(text("plain one", msg_id="1")))).status_code == 200
    assert (
        await deliver(http, inbox.path, encrypted(text("sealed two", msg_id="2"), compatible=True))
    ).status_code == 200
    conv = await _only_conversation(http, inbox)
    assert [m["text"] for m in await messages(http, inbox, conv)] == ["plain one", "sealed two"]


async def test_every_message_kind(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    fake_provider.answer("/cgi-bin/media/get", httpx_answer_png())
    bodies = [
        push("image", PicUrl="http://mmbiz.qpic.cn/x", MediaId="IMG-1", MsgId="10"),
        push("voice", MediaId="VOICE-1", Format="amr", Recognition="我要退货", MsgId="11"),
        push("video", MediaId="VID-1", ThumbMediaId="T-1", MsgId="12"),
        push(
            "location",
            Location_X="23.134521",
            Location_Y="113.358803",
            Scale="20",
            Label="广州市",
            MsgId="13",
        ),
        push("link", Title="Order 42", Description="my order", Url="https://shop.example/42", MsgId="14"),
        push("shortvideo", MediaId="SV-1", ThumbMediaId="T-2", MsgId="15"),
    ]
    for body in bodies:
        r = await deliver(http, inbox.path, signed(body))
        assert r.status_code == 200 and r.text == "success", r.text
    conv = await _only_conversation(http, inbox)
    found = {m["source_id"]: m for m in await messages(http, inbox, conv)}
    assert found["11"]["text"] == "我要退货"
    assert found["13"]["data"]["location"]["latitude"] == pytest.approx(23.134521)
    assert found["13"]["data"]["location"]["address"] == "广州市"
    assert "https://shop.example/42" in found["14"]["text"]
    media_gets = await fake_provider.wait_for("/cgi-bin/media/get", 4)
    assert {c.query["media_id"] for c in media_gets} >= {"IMG-1", "VOICE-1", "VID-1", "SV-1"}
    assert all(c.query["access_token"] == "TOKEN-1" for c in media_gets)


def httpx_answer_png() -> object:
    from tests.fakes import media

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    return media(png, "image/png")


async def test_events_follow_scan_click_and_unknown(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    now = int(time.time())
    # A follow from the inbox's QR code: the scene is the new conversation's source.
    r = await deliver(
        http,
        inbox.path,
        signed(event("subscribe", EventKey="qrscene_shop-window", Ticket="TICKET", created=now - 5)),
    )
    assert r.status_code == 200 and r.text == "success"
    conv = await _only_conversation(http, inbox)
    [scan] = await messages(http, inbox, conv)
    assert scan["data"]["referral"] == {"source": "qr", "ref": "shop-window", "url": None}
    # A follower scans again (SCAN), clicks a menu item (CLICK), opens a menu link (VIEW: an
    # activity line), and WeChat reports where they are (LOCATION: kept on the contact).
    await deliver(http, inbox.path, signed(event("SCAN", EventKey="counter-2", Ticket="T2", created=now - 4)))
    await deliver(http, inbox.path, signed(event("CLICK", EventKey="MENU_ORDERS", created=now - 3)))
    await deliver(http, inbox.path, signed(event("VIEW", EventKey="https://shop.example", created=now - 2)))
    r = await deliver(
        http,
        inbox.path,
        signed(event("LOCATION", Latitude="23.1", Longitude="113.3", Precision="119.3", created=now - 1)),
    )
    assert r.status_code == 200
    # The same event delivered again (same sender and CreateTime) stores nothing.
    await deliver(http, inbox.path, signed(event("CLICK", EventKey="MENU_ORDERS", created=now - 3)))
    found = await messages(http, inbox, conv)
    refs = [m["data"].get("referral", {}).get("ref") for m in found if m["kind"] == "incoming"]
    assert refs.count("counter-2") == 1
    clicks = [m for m in found if m["data"].get("choice")]
    assert len(clicks) == 1 and clicks[0]["data"]["choice"]["choice_id"] == "MENU_ORDERS"
    [opened] = [m for m in found if m["data"].get("activity") == "opened_link"]
    assert opened["kind"] == "activity" and opened["data"]["url"] == "https://shop.example"
    assert opened["text"].endswith("opened https://shop.example from the account's menu")
    contact = (await http.get(inbox.api(f"contacts/{scan['sender_id']}"), headers=inbox.admin.headers)).json()
    where = contact["attributes"]["last_location"]
    assert (where["latitude"], where["longitude"]) == (23.1, 113.3)
    # Neither a link nor a report makes a stranger a contact, nor a report off the globe a place.
    stranger = "o6_bmasdasdsad6_2sgVt7hMZOPfX"
    for body in (
        event("VIEW", EventKey="https://shop.example/x", sender=stranger, created=now - 2),
        event("LOCATION", Latitude="23.1", Longitude="113.3", sender=stranger, created=now - 1),
        event("LOCATION", Latitude="nan", Longitude="513", created=now - 6),
    ):
        assert (await deliver(http, inbox.path, signed(body))).status_code == 200
    contacts = (await http.get(inbox.api("contacts"), headers=inbox.admin.headers)).json()["contacts"]
    assert len(contacts) == 1 and contacts[0]["attributes"]["last_location"] == where
    # Unfollowing leaves an activity line.
    await deliver(http, inbox.path, signed(event("unsubscribe", created=now)))
    lines = [m for m in await messages(http, inbox, conv) if m["kind"] == "activity"]
    assert any(m["data"].get("activity") == "unfollowed" for m in lines)


async def test_hostile_xml_is_refused_without_expanding_entities(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&b;</Content><MsgId>1</MsgId></xml>"
    )
    r = await deliver(http, inbox.path, signed(bomb))
    assert 400 <= r.status_code < 500
    external = b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>'
    assert 400 <= (await deliver(http, inbox.path, signed(external))).status_code < 500
    weird = text("with <b>unknown</b> elements", msg_id="7").replace(
        b"</xml>", b"<Future><![CDATA[x]]></Future></xml>"
    )
    assert (await deliver(http, inbox.path, signed(weird))).status_code == 200
    unknown = push("miniprogrampage", Title="x", MsgId="8")
    r = await deliver(http, inbox.path, signed(unknown))
    assert r.status_code == 200 and r.text == "success"
    [conv] = await conversations(http, inbox)
    assert len(await messages(http, inbox, int(conv["id"]))) == 1


async def test_huge_ids_are_kept_as_strings_and_nul_bytes_refused(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    huge = "9" * 40  # far past 64 bits
    r = await deliver(http, inbox.path, signed(text("tab\there", msg_id=huge)))
    assert r.status_code == 200
    [conv] = await conversations(http, inbox)
    [msg] = await messages(http, inbox, int(conv["id"]))
    assert msg["source_id"] == huge and msg["text"] == "tab\there"
    # XML cannot carry NUL, nor may an id overflow its column.
    nul_reference = (
        b"<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>a&#0;b</Content></xml>"
    )
    for body in (text("a\x00b", msg_id="2"), nul_reference, text("x", msg_id="9" * 300)):
        r = await deliver(http, inbox.path, signed(body))
        assert r.status_code == 400, r.text
    assert len(await messages(http, inbox, int(conv["id"]))) == 1
