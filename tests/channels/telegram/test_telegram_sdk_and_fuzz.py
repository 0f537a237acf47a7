"""An independent check of our parser and of the fake's payloads: python-telegram-bot (the
maintained Bot API library, in the tests only) reads every Update the fake builds, and what it
reads agrees with what our parser makes of it. Then the webhook route fuzzed with random and
mutated bodies: never a 5xx."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from frontdesk.channels.telegram.parse import parse_update
from frontdesk.channels.telegram.settings import CLOUD_DOWNLOAD_LIMIT
from frontdesk.domain.inbound import InboundEdit, InboundFollow, InboundMessage, InboundUnknown
from tests.channels.telegram.conftest import make_telegram_inbox
from tests.conftest import Server
from tests.factories import make_admin
from tests.fakes import FakeProvider
from tests.fakes import telegram as tg

HERE = {"latitude": 41.0082, "longitude": 28.9784}
STICKER = {
    "file_id": "CAAC",
    "file_unique_id": "st",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
    "emoji": "👍",
}


def samples() -> list[dict[str, Any]]:
    return [
        tg.update(),
        tg.update("message", tg.message("/start promo_1")),
        tg.update("message", tg.message(None, photo=tg.photo_sizes(), caption="look")),
        tg.update("message", tg.message(None, document=tg.document())),
        tg.update(
            "message", tg.message(None, voice={"file_id": "AwAD", "file_unique_id": "v", "duration": 3})
        ),
        tg.update(
            "message",
            tg.message(
                None, video_note={"file_id": "DQAC", "file_unique_id": "n", "length": 240, "duration": 5}
            ),
        ),
        tg.update("message", tg.message(None, sticker=STICKER)),
        tg.update("message", tg.message(None, location=HERE)),
        tg.update(
            "message",
            tg.message(None, location=HERE, venue={"location": HERE, "title": "Shop", "address": "Main 1"}),
        ),
        tg.update("message", tg.message(None, contact={"phone_number": "+90555", "first_name": "Bob"})),
        tg.update("message", tg.message("reply", reply_to_message=tg.message("original"))),
        tg.update("edited_message", {**tg.message("fixed"), "edit_date": tg.DATE + 5}),
        tg.update("callback_query", tg.callback_query("yes", "Yes please")),
        tg.update("message", tg.group_message()),
        tg.update(
            "my_chat_member",
            {
                "chat": tg.private_chat(),
                "from": tg.USER,
                "date": tg.DATE,
                "old_chat_member": {"status": "member", "user": tg.BOT},
                "new_chat_member": {"status": "kicked", "user": tg.BOT, "until_date": 0},
            },
        ),
    ]


@pytest.mark.parametrize("payload", samples(), ids=lambda p: next(k for k in p if k != "update_id"))
def test_the_official_library_reads_each_update_as_we_do(payload: dict[str, Any]) -> None:
    update = Update.de_json(copy.deepcopy(payload), bot=None)
    assert update is not None and update.update_id == payload["update_id"]
    [event] = parse_update(json.dumps(payload).encode(), CLOUD_DOWNLOAD_LIMIT).events
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    if chat.type != "private":
        assert isinstance(event, InboundUnknown)
        return
    assert getattr(event, "event_id", None) == str(update.update_id)
    if isinstance(event, InboundMessage | InboundFollow):
        assert event.contact.source_id == str(user.id) and event.contact.name == user.full_name
    message = update.message or update.edited_message
    if isinstance(event, InboundMessage) and update.message is not None:
        assert event.source_id == f"{chat.id}:{update.message.message_id}"
        assert event.text in (
            update.message.text or update.message.caption or "",
            update.message.sticker and update.message.sticker.emoji,
        )
        if update.message.photo:
            biggest = max(update.message.photo, key=lambda p: p.file_size or 0)
            assert [m.reference for m in event.media] == [biggest.file_id]
        if update.message.document:
            assert event.media[0].file_name == update.message.document.file_name
        if update.message.location:
            assert event.location is not None and event.location.latitude == update.message.location.latitude
        if update.message.contact:
            assert event.shared_contact is not None and event.shared_contact.phones == (
                update.message.contact.phone_number,
            )
        if update.message.reply_to_message:
            assert event.reply_to_source_id == f"{chat.id}:{update.message.reply_to_message.message_id}"
    if isinstance(event, InboundEdit):
        assert message is not None and event.text == message.text
    if update.callback_query is not None:
        assert isinstance(event, InboundMessage) and event.choice is not None
        assert event.choice.choice_id == update.callback_query.data
    if update.my_chat_member is not None:
        assert isinstance(event, InboundFollow) and event.following is False


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
KEYS = [
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "chat",
    "from",
    "photo",
    "document",
    "text",
    "sticker",
    "location",
    "venue",
    "contact",
    "id",
    "type",
    "file_size",
    "data",
    "message_id",
]


def mutate(value: Any, data: st.DataObject) -> Any:
    """Replace or drop one value somewhere in a valid Update."""
    if isinstance(value, dict) and value and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        out = dict(value)
        choice = data.draw(st.integers(0, 2))
        if choice == 0:
            del out[key]
        elif choice == 1:
            out[key] = data.draw(JSON)
        else:
            out[key] = mutate(out[key], data)
        return out
    if isinstance(value, list) and value:
        index = data.draw(st.integers(0, len(value) - 1))
        return [mutate(v, data) if i == index else v for i, v in enumerate(value)]
    return data.draw(JSON)


async def test_random_and_mutated_bodies_never_break_the_webhook(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    headers = tg.headers(inbox.secret)
    bases = samples()
    statuses: list[int] = []

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        kind = data.draw(st.integers(0, 3))
        if kind == 0:
            body = data.draw(st.binary(max_size=200))
        elif kind == 1:
            body = json.dumps(data.draw(JSON)).encode()
        elif kind == 2:
            key = data.draw(st.sampled_from(KEYS))
            body = json.dumps(
                {"update_id": data.draw(st.integers(-(2**63), 2**63)), key: data.draw(JSON)}
            ).encode()
        else:
            body = json.dumps(mutate(data.draw(st.sampled_from(bases)), data)).encode()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            r = client.post(inbox.webhook_path, content=body, headers=headers)
        statuses.append(r.status_code)
        assert r.status_code < 500, (body[:300], r.text[:300])

    await asyncio.to_thread(fuzz)
    assert len(statuses) >= 50 and 200 in statuses
    assert (await inbox.post(http, tg.update())).status_code == 200  # still serving
