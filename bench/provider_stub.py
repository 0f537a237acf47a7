"""The providers' APIs as far as the ingest benchmark's channel rows need them, on 127.0.0.1 only.

Creating a LINE, WeChat or Telegram inbox and ingesting its first message from a contact makes
Frontdesk call the provider (Telegram's setWebhook and getMe when the inbox is saved; LINE's
profile, WeChat's stable_token and user/info from the worker for each new contact; LINE's quota
from the worker). The benchmark points every provider base setting (FRONTDESK_LINE_API_URL,
FRONTDESK_LINE_DATA_URL, FRONTDESK_LINE_STICKER_URL, FRONTDESK_WECHAT_API_BASE,
FRONTDESK_TELEGRAM_API_BASE) here, so nothing leaves the machine and each of those calls gets a
fast, well-formed success. `GET /__calls` counts what was asked, by route.

    .venv/bin/python bench/provider_stub.py --port N
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from typing import Any

import orjson
import uvicorn

CALLS: Counter[str] = Counter()
BOT = {"id": 900000001, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}
_TELEGRAM = re.compile(r"^/bot[^/]+/([A-Za-z]+)$")


def answer(method: str, path: str) -> tuple[str, int, Any]:
    """(route counted, status, JSON body) for one call."""
    if path.startswith("/v2/bot/profile/"):
        user = path.rsplit("/", 1)[1]
        return "line profile", 200, {"userId": user, "displayName": "Bench user", "language": "en"}
    if path == "/v2/bot/message/quota":
        return "line quota", 200, {"type": "limited", "value": 500}
    if path == "/v2/bot/message/quota/consumption":
        return "line quota", 200, {"totalUsage": 0}
    if path == "/v2/bot/info":
        return "line bot info", 200, {"userId": "U" + "b" * 32, "basicId": "@bench", "displayName": "Bench"}
    if path == "/v2/bot/channel/webhook/endpoint":
        return "line webhook endpoint", 200, {}
    if path == "/cgi-bin/stable_token":
        return "wechat stable_token", 200, {"access_token": "BENCH-ACCESS-TOKEN", "expires_in": 7200}
    if path == "/cgi-bin/user/info":
        return (
            "wechat user/info",
            200,
            {"subscribe": 1, "openid": "x", "nickname": "Bench user", "language": "en"},
        )
    if path.startswith("/cgi-bin/"):
        return f"wechat {path[9:]}", 200, {"errcode": 0, "errmsg": "ok"}
    m = _TELEGRAM.match(path)
    if m:
        name = m.group(1)
        return f"telegram {name}", 200, {"ok": True, "result": BOT if name == "getMe" else True}
    return f"unknown {method} {path[:60]}", 404, {"message": "not served by the bench stub"}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:  # drain the request body
        event = await receive()
        if not event.get("more_body"):
            break
    if scope["path"] == "/__calls":
        status, body = 200, dict(CALLS)
    else:
        route, status, body = answer(scope["method"], scope["path"])
        CALLS[route] += 1
    raw = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, lifespan="off", access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
