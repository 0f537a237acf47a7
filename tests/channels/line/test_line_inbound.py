"""LINE webhooks through the real route: the signature over the raw bytes (forged, missing,
re-serialised → 401, nothing stored), the console's Verify call, several events per body, every
event kind of the issue, dedupe by webhookEventId and message id (redelivery respected), media
fetched at arrival with the channel's token, the profile filled in by the fetch_profile job,
and line-bot-sdk's validator and parser as an independent cross-check."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from linebot.v3.webhook import SignatureValidator, WebhookParser
from linebot.v3.webhooks import FollowEvent, MessageEvent, TextMessageContent, UnsendEvent

from frontdesk.channels.base import WebhookRequest
from frontdesk.channels.line.adapter import LineAdapter
from frontdesk.store import tables as t
from tests.channels.line.line_support import deliver, line_inbox, messages, post, until
from tests.conftest import Server
from tests.factories import make_admin
from tests.fakes import FakeProvider, line

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)


async def count(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_a_signed_text_is_stored_with_its_reply_token_and_time(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    at = line.now_ms() - 5000
    [result] = await deliver(http, inbox, line.text("Hello from LINE", at=at, reply_token="rt-abc"))
    [message] = await messages(http, admin, ws, result["conversation_id"])
    assert message["text"] == "Hello from LINE" and message["kind"] == "incoming"
    token = message["data"]["reply_token"]
    assert token["token"] == "rt-abc"
    assert datetime.fromisoformat(token["received_at"]) == datetime.fromtimestamp(at / 1000, UTC)


async def test_forged_missing_and_reserialised_signatures_store_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    body = line.body_of(line.text("hi"))
    forged = line.sign(body, secret="not-the-channel-secret")
    assert (await post(http, inbox, body, forged)).status_code == 401
    assert (await post(http, inbox, body, {"content-type": "application/json"})).status_code == 401
    # The same JSON written out again (other spacing) no longer matches: the check is on the bytes.
    respaced = json.dumps(json.loads(body), indent=2).encode()
    assert (await post(http, inbox, respaced, line.sign(body))).status_code == 401
    assert await count(server, t.messages) == 0 and await count(server, t.contacts) == 0
    assert (await post(http, inbox, body)).status_code == 200


async def test_the_consoles_verify_call_is_answered(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    r = await post(http, inbox, b'{"destination":"U1","events":[]}')
    assert r.status_code == 200 and r.json() == {"ok": True, "results": []}


async def test_a_replayed_or_redelivered_event_is_stored_once(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    first = line.text("once")
    body = line.body_of(first)
    assert (await post(http, inbox, body)).status_code == 200
    assert (await post(http, inbox, body)).status_code == 200  # a replay of the same bytes
    again = {**first, "deliveryContext": {"isRedelivery": True}, "webhookEventId": "01HREDELIVERED"}
    [result] = await deliver(http, inbox, again)  # LINE's redelivery: a new event id, same message
    assert result["duplicate"] is True
    assert await count(server, t.messages) == 1


async def test_a_long_batch_stores_each_event_once(server: Server, http: httpx.AsyncClient) -> None:
    # More event ids than one statement records (EVENT_IDS_PER_STATEMENT), one of them sent
    # twice in the batch and one already taken by an earlier delivery.
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    taken = line.text("earlier")
    await deliver(http, inbox, taken)
    batch = [line.text(f"n{n}", user=f"U{n:032x}") for n in range(310)]
    batch.insert(200, batch[3])
    batch.append(taken)
    results = await deliver(http, inbox, *batch)
    assert [n for n, r in enumerate(results) if r["duplicate"]] == [200, 311]
    assert results[200]["message_id"] == results[3]["message_id"]
    assert await count(server, t.messages) == 311
    assert await count(server, t.inbound_events) == 311


async def test_a_redelivered_message_keeps_no_reply_token(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    [result] = await deliver(http, inbox, line.text("late", redelivery=True, reply_token="rt-old"))
    [message] = await messages(http, admin, ws, result["conversation_id"])
    assert "reply_token" not in message["data"]


async def test_several_events_of_every_kind_in_one_body(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    picture = f"{fake_provider.url}/profile-cdn/abc"  # LINE's CDN, played by the fake provider
    fake_provider.answer(line.profile_path(), line.profile(picture=picture))
    fake_provider.serve_media("/profile-cdn/abc", JPEG, "image/jpeg")
    img, vid, doc = line.image(), line.video(), line.file("menu.pdf", 1234)
    fake_provider.serve_media(line.content_path(img["message"]["id"]), JPEG, "image/jpeg")
    fake_provider.serve_media(line.content_path(vid["message"]["id"]), MP4, "video/mp4")
    fake_provider.answer(
        line.transcoding_path(vid["message"]["id"]), line.Answer(200, b'{"status":"succeeded"}')
    )
    fake_provider.serve_media(
        line.content_path(doc["message"]["id"]), b"%PDF-1.4\n" + bytes(100), "application/pdf"
    )
    fake_provider.serve_media(line.sticker_path("52002734"), PNG, "image/png")
    group = line.text("in a group", source={"type": "group", "groupId": "C1", "userId": line.USER})
    results = await deliver(
        http,
        inbox,
        line.event("follow", reply_token="rt-f", follow={"isUnblocked": False}),
        line.text("Hi"),
        img,
        vid,
        doc,
        line.location(),
        line.sticker(),
        line.event("postback", reply_token="rt-p", postback={"data": "action=buy&item=1"}),
        group,
        line.event("join", source={"type": "group", "groupId": "C1"}),
        line.event("beacon", beacon={"hwid": "d41d8cd98f", "type": "enter"}),
    )
    assert [r.get("outcome") for r in results[-3:]] == ["unknown", "unknown", "unknown"]
    conv = results[1]["conversation_id"]

    def settled(found: list[dict[str, object]]) -> bool:
        return all("pending_media" not in m["data"] for m in found)  # type: ignore[operator]

    found = await until(lambda: _when(http, admin, ws, conv, settled))
    by_text = {m["text"]: m for m in found}
    assert by_text["Tokyo Tower"]["data"]["location"]["latitude"] == 35.6585805
    assert by_text["Sticker: Happy, Yay"]["data"]["sticker"] == {
        "package_id": "11537",
        "sticker_id": "52002734",
    }
    assert by_text["Sticker: Happy, Yay"]["data"]["attachments"][0]["content_type"] == "image/png"
    assert by_text["action=buy&item=1"]["data"]["choice"]["choice_id"] == "action=buy&item=1"
    files = sorted(a["file_name"] for m in found for a in m["data"].get("attachments", []))
    assert files == ["image.jpg", "menu.pdf", "sticker.png", "video.mp4"]
    for path in (line.content_path(img["message"]["id"]), line.transcoding_path(vid["message"]["id"])):
        [call] = fake_provider.calls_to(path)
        assert call.headers["authorization"] == f"Bearer {line.ACCESS_TOKEN}"
    # The profile: the contact made by the follow gets LINE's display name and picture.
    contact = await until(lambda: _contact(http, admin, ws, "Ann Tanaka"))
    assert contact["attributes"]["picture_url"] == picture
    assert len(fake_provider.calls_to(line.profile_path())) == 1
    # The picture is copied here: served from our address, not LINE's, typed by its bytes.
    assert contact["avatar_url"].startswith("/files/contact-avatars/")
    stored = await http.get(contact["avatar_url"])
    assert stored.status_code == 200 and stored.content == JPEG
    assert stored.headers["content-type"] == "image/jpeg"


async def _when(http: httpx.AsyncClient, admin: object, ws: int, conv: int, ok: object) -> object:
    found = await messages(http, admin, ws, conv)  # type: ignore[arg-type]
    return found if ok(found) else None  # type: ignore[operator]


async def _contact(http: httpx.AsyncClient, admin: object, ws: int, name: str) -> object:
    r = await http.get(f"/api/v1/workspaces/{ws}/contacts", headers=admin.headers)  # type: ignore[attr-defined]
    return next((c for c in r.json()["contacts"] if c["name"] == name), None)


async def test_unfollow_is_an_activity_line_and_unsend_withdraws_the_message(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    said = line.text("oops, wrong chat")
    [result] = await deliver(http, inbox, said)
    conv = result["conversation_id"]
    await deliver(
        http,
        inbox,
        line.event("unsend", unsend={"messageId": said["message"]["id"]}),
        line.event("unfollow"),
    )
    found = await messages(http, admin, ws, conv)
    assert "revoked" in found[0]["data"] and found[0]["text"] == "oops, wrong chat"
    assert any("unfollowed or blocked" in m["text"] for m in found[1:])


async def test_an_expired_file_leaves_the_message_with_the_file_marked_failed(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    img = line.image()
    fake_provider.answer(line.content_path(img["message"]["id"]), line.error(404, "Not found"))
    [result] = await deliver(http, inbox, img)

    async def failed() -> object:
        [m] = await messages(http, admin, ws, result["conversation_id"])
        return m if any(e.get("status") == "failed" for e in m["data"].get("pending_media", [])) else None

    message = await until(failed)
    assert message["data"]["pending_media"][0]["reason"] == "attachment_missing"


def test_our_verifier_agrees_with_line_bot_sdk() -> None:
    adapter = LineAdapter(
        {"channel_id": line.CHANNEL_ID}, {"channel_secret": line.CHANNEL_SECRET}, httpx.AsyncClient()
    )
    validator = SignatureValidator(line.CHANNEL_SECRET)
    for body in (line.body_of(line.text("héllo ✓")), b'{"events":[]}', b"", "日本語".encode()):
        signature = line.sign(body)["x-line-signature"]
        assert validator.validate(body.decode(), signature)
        adapter.verify(WebhookRequest("POST", {"x-line-signature": signature}, {}, body))
        wrong = line.sign(body, "other")["x-line-signature"]
        assert not validator.validate(body.decode(), wrong)


def test_our_payloads_are_what_line_bot_sdk_parses() -> None:
    """The fake's bodies are LINE's shape: the SDK reads the same events and ids we do."""
    said = line.text("Hi there")
    body = line.body_of(
        said,
        line.event("follow", reply_token="rt", follow={"isUnblocked": True}),
        line.event("unsend", unsend={"messageId": "325708"}),
    )
    parsed = WebhookParser(line.CHANNEL_SECRET).parse(body.decode(), line.sign(body)["x-line-signature"])
    assert isinstance(parsed[0], MessageEvent) and isinstance(parsed[0].message, TextMessageContent)
    assert parsed[0].message.id == said["message"]["id"] and parsed[0].reply_token == said["replyToken"]
    assert isinstance(parsed[1], FollowEvent) and isinstance(parsed[2], UnsendEvent)
    ours = LineAdapter({}, {}, httpx.AsyncClient()).parse(WebhookRequest("POST", {}, {}, body))
    assert [type(e).__name__ for e in ours] == ["InboundMessage", "InboundFollow", "InboundRevoke"]


async def test_nul_bytes_bare_line_feeds_and_huge_ids(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    huge = "9" * 400
    said = line.text("line one\nline\x00two")
    said["message"]["id"] = huge
    other = line.text("another")
    other["message"]["id"] = huge + "1"  # the same first 255 characters: still another message
    first, second = await deliver(http, inbox, said, other)
    assert first["conversation_id"] == second["conversation_id"] and not second.get("duplicate")
    found = await messages(http, admin, ws, first["conversation_id"])
    assert found[0]["text"] == "line one\nline\ufffdtwo"
    assert found[0]["source_id"].startswith("sha256:") and found[0]["source_id"] != found[1]["source_id"]


async def test_a_video_is_fetched_once_line_has_transcoded_it(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    vid = line.video()
    message_id = vid["message"]["id"]
    processing = line.Answer(200, b'{"status":"processing"}')
    fake_provider.script(line.transcoding_path(message_id), processing, processing)
    fake_provider.answer(line.transcoding_path(message_id), line.Answer(200, b'{"status":"succeeded"}'))
    fake_provider.serve_media(line.content_path(message_id), MP4, "video/mp4")
    [result] = await deliver(http, inbox, vid)

    async def attached() -> object:
        [m] = await messages(http, admin, ws, result["conversation_id"])
        return m if m["data"].get("attachments") else None

    message = await until(attached)
    assert message["data"]["attachments"][0]["file_name"] == "video.mp4"
    assert len(fake_provider.calls_to(line.transcoding_path(message_id))) == 3
    assert len(fake_provider.calls_to(line.content_path(message_id))) == 1  # never before it was ready


async def test_a_file_larger_than_allowed_is_not_downloaded(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    doc = line.file("huge.zip", server.services.settings.max_attachment_bytes + 1)
    [result] = await deliver(http, inbox, doc)

    async def failed() -> object:
        [m] = await messages(http, admin, ws, result["conversation_id"])
        return m if any(e.get("status") == "failed" for e in m["data"].get("pending_media", [])) else None

    message = await until(failed)
    assert message["data"]["pending_media"][0]["reason"] == "too_large"
    assert fake_provider.calls_to(line.content_path(doc["message"]["id"])) == []


@pytest.mark.parametrize("server", [{"public_url": "https://desk.example.com"}], indirect=True)
async def test_saving_the_inbox_registers_its_webhook_with_line(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    [call] = fake_provider.calls_to(line.WEBHOOK_ENDPOINT)
    assert call.method == "PUT"
    assert call.json() == {"endpoint": f"https://desk.example.com/webhooks/line/{inbox.uid}"}
    assert call.headers["authorization"] == f"Bearer {line.ACCESS_TOKEN}"


async def test_a_profile_picture_that_is_not_an_image_is_left_out(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await line_inbox(http, admin, ws)
    picture = f"{fake_provider.url}/profile-cdn/login-page"
    fake_provider.answer(line.profile_path(), line.profile(name="Ken Sato", picture=picture))
    fake_provider.serve_media("/profile-cdn/login-page", b"<html>sign in</html>", "text/html")
    await deliver(http, inbox, line.text("Hello"))
    contact = await until(lambda: _contact(http, admin, ws, "Ken Sato"))
    assert contact["avatar_url"] is None and contact["attributes"]["picture_url"] == picture
