"""TEST EQUIPMENT: LINE's side of the LINE channel tests. Webhook bodies shaped as LINE sends
them (checked against line-bot-sdk's parser in the tests), signed LINE's way, and the Messaging
API answers the fake provider (tests/fakes/provider.py) gives for reply, push, content, profile,
quota and bot info. Never imported by src/."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.fakes.provider import Answer
from tests.fakes.signers import hmac_sha256_base64

CHANNEL_SECRET = "0123456789abcdef0123456789abcdef"
ACCESS_TOKEN = "line-token-" + "x" * 40
CHANNEL_ID = "1657000000"
BASIC_ID = "@123abcd"
USER = "U" + "4af4980629" * 3 + "ab"

REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
QUOTA = "/v2/bot/message/quota"
CONSUMPTION = "/v2/bot/message/quota/consumption"
BOT_INFO = "/v2/bot/info"
LOADING = "/v2/bot/chat/loading/start"
MARK_READ = "/v2/bot/chat/markAsRead"
WEBHOOK_ENDPOINT = "/v2/bot/channel/webhook/endpoint"

_ids = itertools.count(468789577898262530)
_events = itertools.count(1)


def profile_path(user_id: str = USER) -> str:
    return f"/v2/bot/profile/{user_id}"


def content_path(message_id: str) -> str:
    return f"/v2/bot/message/{message_id}/content"


def transcoding_path(message_id: str) -> str:
    return f"/v2/bot/message/{message_id}/content/transcoding"


def sticker_path(sticker_id: str) -> str:
    return f"/stickershop/v1/sticker/{sticker_id}/android/sticker.png"


def sign(body: bytes, secret: str = CHANNEL_SECRET) -> dict[str, str]:
    return {"x-line-signature": hmac_sha256_base64(secret, body), "content-type": "application/json"}


def body_of(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "Uffffffffffffffffffffffffffffffff", "events": list(events)}).encode()


def now_ms() -> int:
    return int(time.time() * 1000)


def event(
    kind: str,
    *,
    user: str = USER,
    at: int | None = None,
    redelivery: bool = False,
    reply_token: str | None = None,
    event_id: str | None = None,
    source: dict[str, Any] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One webhook event as LINE sends it."""
    out: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": now_ms() if at is None else at,
        "source": source or {"type": "user", "userId": user},
        "webhookEventId": event_id or f"01HXYZ{next(_events):020d}",
        "deliveryContext": {"isRedelivery": redelivery},
        **fields,
    }
    if reply_token is not None:
        out["replyToken"] = reply_token
    return out


def message_event(message: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("reply_token", f"rt-{next(_events)}")
    message = {"id": str(next(_ids)), "quoteToken": "q-" + "a" * 20, **message}
    return event("message", message=message, **kw)


def text(words: str, **kw: Any) -> dict[str, Any]:
    return message_event({"type": "text", "text": words, "markAsReadToken": "mr-1"}, **kw)


def image(**kw: Any) -> dict[str, Any]:
    return message_event({"type": "image", "contentProvider": {"type": "line"}}, **kw)


def video(**kw: Any) -> dict[str, Any]:
    return message_event({"type": "video", "duration": 6000, "contentProvider": {"type": "line"}}, **kw)


def file(name: str, size: int, **kw: Any) -> dict[str, Any]:
    return message_event({"type": "file", "fileName": name, "fileSize": size}, **kw)


def location(**kw: Any) -> dict[str, Any]:
    return message_event(
        {
            "type": "location",
            "title": "Tokyo Tower",
            "address": "4-2-8 Shibakoen, Minato",
            "latitude": 35.6585805,
            "longitude": 139.7454329,
        },
        **kw,
    )


def sticker(sticker_id: str = "52002734", **kw: Any) -> dict[str, Any]:
    return message_event(
        {
            "type": "sticker",
            "packageId": "11537",
            "stickerId": sticker_id,
            "stickerResourceType": "STATIC",
            "keywords": ["Happy", "Yay"],
        },
        **kw,
    )


def sent(message_id: str = "461230966842064897") -> Answer:
    """What reply and push answer on success."""
    body = {"sentMessages": [{"id": message_id, "quoteToken": "IStG5h1Tz7b"}]}
    return Answer(200, json.dumps(body).encode())


def error(status: int, message: str, *details: tuple[str, str], **headers: str) -> Answer:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = [{"message": m, "property": p} for m, p in details]
    return Answer(status, json.dumps(body).encode(), {"content-type": "application/json", **headers})


def invalid_reply_token() -> Answer:
    return error(400, "Invalid reply token")


def accepted_before(message_id: str = "461230966842064897") -> Answer:
    """A push repeated with an X-Line-Retry-Key LINE already accepted: 409, nothing sent again."""
    body = {"message": "The retry key is already accepted", "sentMessages": [{"id": message_id}]}
    return Answer(
        409,
        json.dumps(body).encode(),
        {"content-type": "application/json", "x-line-accepted-request-id": "abc-123"},
    )


def quota(limit: int | None) -> Answer:
    body = {"type": "none"} if limit is None else {"type": "limited", "value": limit}
    return Answer(200, json.dumps(body).encode())


def consumption(used: int) -> Answer:
    return Answer(200, json.dumps({"totalUsage": used}).encode())


def profile(name: str = "Ann Tanaka", picture: str = "https://profile.line-scdn.net/abc") -> Answer:
    body = {"userId": USER, "displayName": name, "pictureUrl": picture, "language": "ja"}
    return Answer(200, json.dumps(body).encode())


def bot_info() -> Answer:
    body = {
        "userId": "Ub9952f8",
        "basicId": BASIC_ID,
        "displayName": "Acme Support",
        "chatMode": "chat",
        "markAsReadMode": "manual",
    }
    return Answer(200, json.dumps(body).encode())
