"""TEST EQUIPMENT: the Telegram side of the fake provider. Update builders in the Bot API's
documented shapes (checked against python-telegram-bot's Update.de_json in the channel's tests),
the secret-token header Telegram sends, and the Bot API's answers ({"ok": true, "result"} and
{"ok": false, "error_code", "description", "parameters"}) scripted on FakeProvider paths.
Never imported by src/."""

from __future__ import annotations

import itertools
import json
from typing import Any

from tests.fakes.provider import Answer, FakeProvider
from tests.fakes.signers import secret_token_header

TOKEN = "123456:AAF-test_token_abcdefghijklmnopqrstu"
BOT = {"id": 123456, "is_bot": True, "first_name": "Shop", "username": "shop_bot"}
USER = {"id": 777000111, "is_bot": False, "first_name": "Ann", "last_name": "Lee", "language_code": "en"}
DATE = 1_767_225_600  # 2026-01-01 00:00 UTC
_update_ids = itertools.count(500_000)
_message_ids = itertools.count(10)


def path(method: str) -> str:
    """Where the fake serves a Bot API method of the test bot."""
    return f"/bot{TOKEN}/{method}"


def file_path(name: str) -> str:
    return f"/file/bot{TOKEN}/{name}"


def ok(result: Any) -> Answer:
    return Answer(200, json.dumps({"ok": True, "result": result}).encode())


def error(code: int, description: str, retry_after: int | None = None) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Answer(code, json.dumps(body).encode())


def sent(message_id: int, chat_id: int = USER["id"], text: str = "ok") -> Answer:
    return ok({"message_id": message_id, "date": DATE, "chat": private_chat(chat_id), "text": text})


def webhook_info(url: str = "", **more: Any) -> Answer:
    return ok({"url": url, "has_custom_certificate": False, "pending_update_count": 0, **more})


def install_bot_api(provider: FakeProvider, webhook_url: str = "") -> None:
    """Default answers of every method the channel calls (a test scripts exceptions on top)."""
    provider.answer(path("getMe"), ok(BOT))
    provider.answer(path("setWebhook"), ok(True))
    provider.answer(path("getWebhookInfo"), webhook_info(webhook_url))
    provider.answer(path("sendMessage"), sent(901))
    provider.answer(path("sendPhoto"), sent(902))
    provider.answer(path("sendDocument"), sent(903))
    provider.answer(path("sendChatAction"), ok(True))
    provider.answer(path("answerCallbackQuery"), ok(True))


def private_chat(user_id: int = USER["id"]) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Ann", "last_name": "Lee"}


def message(text: str | None = "Hello, is my order on its way?", **fields: Any) -> dict[str, Any]:
    """A Message of a private chat with USER; `fields` add or replace (photo=[…], chat=…)."""
    body: dict[str, Any] = {
        "message_id": next(_message_ids),
        "from": USER,
        "chat": private_chat(),
        "date": DATE,
    }
    if text is not None:
        body["text"] = text
    body.update(fields)
    return body


def update(kind: str = "message", payload: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), kind: payload if payload is not None else message(), **extra}


def photo_sizes(file_id: str = "AgACphoto", big_size: int = 52_000) -> list[dict[str, Any]]:
    return [
        {"file_id": f"{file_id}-s", "file_unique_id": "uq-s", "width": 90, "height": 60, "file_size": 1_200},
        {"file_id": file_id, "file_unique_id": "uq-big", "width": 1280, "height": 853, "file_size": big_size},
        {
            "file_id": f"{file_id}-m",
            "file_unique_id": "uq-m",
            "width": 320,
            "height": 213,
            "file_size": 9_000,
        },
    ]


def document(file_id: str = "BQACdoc", name: str = "invoice.pdf", size: int = 3_000) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "file_unique_id": f"u-{file_id}",
        "file_name": name,
        "mime_type": "application/pdf",
        "file_size": size,
    }


def callback_query(data: str, title: str = "Track my order", with_message: bool = True) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "4382bfdwdsb323b2d9", "from": USER, "chat_instance": "-86", "data": data}
    if with_message:
        query["message"] = {
            "message_id": 901,
            "from": BOT,
            "chat": private_chat(),
            "date": DATE,
            "text": "How can we help?",
            "reply_markup": {"inline_keyboard": [[{"text": title, "callback_data": data}]]},
        }
    return query


def group_message(text: str = "hi all") -> dict[str, Any]:
    return message(text, chat={"id": -100123, "type": "supergroup", "title": "Customers"})


def headers(secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **secret_token_header(secret)}
