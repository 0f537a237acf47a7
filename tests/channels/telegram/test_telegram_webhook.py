"""Telegram updates through the real webhook route: the secret token checked (forged or missing:
401, nothing stored), each update stored once by its update_id, every private-chat message kind,
edits, button presses, /start deep links, blocking the bot; group updates and unknown kinds
acknowledged and ignored."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.channels.telegram.conftest import TelegramInbox, make_telegram_inbox
from tests.conftest import Server
from tests.factories import Agent, make_admin
from tests.fakes import FakeProvider
from tests.fakes import telegram as tg


async def setup(server: Server, http: httpx.AsyncClient) -> tuple[Agent, int, TelegramInbox]:
    admin, ws = await make_admin(server, http)
    return admin, ws, await make_telegram_inbox(http, admin, ws)


async def messages(http: httpx.AsyncClient, admin: Agent, ws: int, conv: int) -> list[dict[str, Any]]:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def stored(server: Server) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(t.messages))).scalar_one())


async def deliver(http: httpx.AsyncClient, inbox: TelegramInbox, update: dict[str, Any]) -> dict[str, Any]:
    r = await inbox.post(http, update)
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    return dict(result)


async def test_a_text_message_is_stored_with_the_sender(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    msg = tg.message("Hello, is my order on its way?", entities=[{"type": "bold", "offset": 0, "length": 5}])
    result = await deliver(http, inbox, tg.update("message", msg))
    [stored_msg] = await messages(http, admin, ws, result["conversation_id"])
    assert stored_msg["text"] == "Hello, is my order on its way?"
    assert stored_msg["source_id"] == f"{tg.USER['id']}:{msg['message_id']}"
    conv = await http.get(
        f"/api/v1/workspaces/{ws}/conversations/{result['conversation_id']}", headers=admin.headers
    )
    assert "Ann Lee" in conv.text


async def test_a_forged_or_missing_secret_is_refused_and_nothing_stored(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    _, _, inbox = await setup(server, http)
    update = tg.update()
    assert (await inbox.post(http, update, secret=None)).status_code == 401
    assert (await inbox.post(http, update, secret="wrong-secret")).status_code == 401
    assert (await inbox.post(http, update, secret=inbox.secret[:-1])).status_code == 401
    assert (await inbox.post(http, update, secret="")).status_code == 401
    assert await stored(server) == 0
    assert (await inbox.post(http, update)).status_code == 200
    assert await stored(server) == 1


async def test_a_redelivered_update_is_stored_once(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    _, _, inbox = await setup(server, http)
    update = tg.update()
    first = await deliver(http, inbox, update)
    again = await deliver(http, inbox, update)
    assert first["duplicate"] is False and again.get("duplicate", True) is True
    assert await stored(server) == 1


async def test_group_updates_and_unknown_kinds_are_acknowledged_and_ignored(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    _, _, inbox = await setup(server, http)
    ignored = [
        tg.update("message", tg.group_message()),
        tg.update("edited_message", tg.group_message("edited")),
        tg.update("channel_post", tg.message("news", chat={"id": -1001, "type": "channel", "title": "News"})),
        tg.update("message_reaction", {"chat": tg.private_chat(), "message_id": 3, "date": tg.DATE}),
        tg.update("business_connection", {"id": "bc1", "user": tg.USER, "date": tg.DATE, "is_enabled": True}),
        tg.update("some_future_kind", {"anything": [1, 2, {"deep": None}]}),
        tg.update("message", tg.message(None, dice={"emoji": "🎲", "value": 4})),
        tg.update("message", tg.message(None, poll={"id": "p", "question": "?", "options": []})),
        tg.update("edited_message", tg.message(None, location={"latitude": 1.0, "longitude": 2.0})),
        tg.update("message", tg.message("bot talk", **{"from": tg.BOT})),
    ]
    for update in ignored:
        result = await deliver(http, inbox, update)
        assert "conversation_id" not in result, (update, result)
    assert await stored(server) == 0


async def test_unknown_fields_are_tolerated(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    msg = tg.message("with extras", brand_new_field={"x": 1}, link_preview_options={"is_disabled": True})
    update = tg.update("message", msg, another_new_top_level=True)
    result = await deliver(http, inbox, update)
    [found] = await messages(http, admin, ws, result["conversation_id"])
    assert found["text"] == "with extras"


async def test_an_edited_message_shows_the_new_text_and_keeps_the_old(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    original = tg.message("I ordered 2 mugs")
    conv = (await deliver(http, inbox, tg.update("message", original)))["conversation_id"]
    edited = {**original, "text": "I ordered 3 mugs", "edit_date": tg.DATE + 60}
    await deliver(http, inbox, tg.update("edited_message", edited))
    [found] = await messages(http, admin, ws, conv)
    assert found["text"] == "I ordered 3 mugs"
    assert [e["text"] for e in found["data"]["edits"]] == ["I ordered 2 mugs"]


async def test_a_button_press_is_a_choice_and_the_button_stops_spinning(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    query = tg.callback_query("track_order", "Track my order")
    conv = (await deliver(http, inbox, tg.update("callback_query", query)))["conversation_id"]
    [found] = await messages(http, admin, ws, conv)
    assert found["text"] == "Track my order"
    assert found["data"]["choice"] == {"choice_id": "track_order", "title": "Track my order"}
    [answered] = await bot_api.wait_for(tg.path("answerCallbackQuery"))
    assert answered.json() == {"callback_query_id": query["id"]}


async def test_a_start_deep_link_records_its_parameter_as_the_referral(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    msg = tg.message("/start spring_sale-42", entities=[{"type": "bot_command", "offset": 0, "length": 6}])
    conv = (await deliver(http, inbox, tg.update("message", msg)))["conversation_id"]
    [found] = await messages(http, admin, ws, conv)
    assert found["data"]["referral"] == {"source": "deep_link", "ref": "spring_sale-42", "url": None}
    assert found["text"] == "/start spring_sale-42"


async def test_location_venue_contact_and_sticker(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    here = {"latitude": 41.0082, "longitude": 28.9784}
    kinds = [
        tg.message(None, location=here),
        tg.message(None, location=here, venue={"location": here, "title": "Shop", "address": "Main St 1"}),
        tg.message(None, contact={"phone_number": "+905551112233", "first_name": "Bob", "user_id": 42}),
        tg.message(
            None,
            sticker={
                "file_id": "CAACsticker",
                "file_unique_id": "st-uq",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": True,
                "is_video": False,
                "emoji": "👍",
                "set_name": "HotCherry",
            },
        ),
    ]
    conv = 0
    for msg in kinds:
        conv = (await deliver(http, inbox, tg.update("message", msg)))["conversation_id"]
    location, venue, card, sticker = await messages(http, admin, ws, conv)
    assert location["data"]["location"]["latitude"] == 41.0082
    assert venue["data"]["location"]["name"] == "Shop" and venue["data"]["location"]["address"] == "Main St 1"
    assert card["data"]["contact_card"] == {"name": "Bob", "phones": ["+905551112233"], "emails": []}
    assert sticker["data"]["sticker"] == {"package_id": "HotCherry", "sticker_id": "st-uq"}
    assert sticker["text"] == "👍"


async def test_blocking_the_bot_is_an_unfollow(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    _, _, inbox = await setup(server, http)
    await deliver(http, inbox, tg.update())
    change = {
        "chat": tg.private_chat(),
        "from": tg.USER,
        "date": tg.DATE,
        "old_chat_member": {"status": "member", "user": tg.BOT},
        "new_chat_member": {"status": "kicked", "user": tg.BOT, "until_date": 0},
    }
    result = await deliver(http, inbox, tg.update("my_chat_member", change))
    assert result.get("event") == "follow", result


async def test_a_body_that_is_no_update_is_refused_without_a_5xx(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    _, _, inbox = await setup(server, http)
    for body in (b"not json", b"[]", b"{}", b'{"update_id": "7"}', b'{"update_id": 1.5}'):
        r = await http.post(inbox.webhook_path, content=body, headers=tg.headers(inbox.secret))
        assert 400 <= r.status_code < 500, (body, r.status_code)
    assert await stored(server) == 0


async def test_huge_ids_nul_bytes_and_bare_line_feeds(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws, inbox = await setup(server, http)
    huge = 2**62 + 7
    user = {**tg.USER, "id": huge}
    msg = tg.message(
        "line one\nline two\x00end",
        chat={**tg.private_chat(), "id": huge},
        message_id=2**40,
        **{"from": user},
    )
    update = {**tg.update("message", msg), "update_id": 2**52}
    result = await deliver(http, inbox, update)
    [found] = await messages(http, admin, ws, result["conversation_id"])
    assert found["source_id"] == f"{huge}:{2**40}"
    assert found["text"].startswith("line one\nline two") and "\x00" not in found["text"]
    assert (await deliver(http, inbox, update)).get("duplicate", True) is True
