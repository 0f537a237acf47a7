"""DEMO EQUIPMENT: LINE's Messaging API, simulated for `make demo` (FRONTDESK_LINE_API_URL and
FRONTDESK_LINE_DATA_URL point at <public url>/demo/sim/line there).

It answers the calls the LINE channel makes — reply and push (with X-Line-Retry-Key: a key seen
before answers 409 with x-line-accepted-request-id), the content of what the customer sent and its
transcoding check, the profile, the bot info, the quota and its consumption, the loading
indicator, mark-as-read, and the webhook endpoint (set, get, test) — in LINE's shapes and error
bodies ({"message", "details"}), for a channel access token it knows. LINE learns the channel
secret and the access token from its console, and the webhook address too unless it is HTTPS
(the channel registers only HTTPS addresses): `console` keeps them, as the administrator would
paste them. A customer's text then goes to the webhook with a valid x-line-signature and a reply
token (usable once, for about a minute). Pushes count against a monthly quota (200, LINE's free
plan); `state["accounts"][uid]["quota"]` and `["used"]` can be edited to show a used-up quota.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import struct
import time
import zlib
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from frontdesk.demo_sim.base import (
    CustomerFile,
    DemoInbox,
    Simulator,
    State,
    WebhookCall,
    chat_of,
    json_body,
    record,
    typing,
)

__all__ = ["LineSimulator"]

SIGNATURE_HEADER = "x-line-signature"
RETRY_KEY_HEADER = "x-line-retry-key"
FREE_QUOTA = 200  # messages a month on LINE's free (communication) plan
REPLY_TOKEN_SECONDS = 60.0
DEMO_CHANNEL_SECRET = "demo0simulated0line0secret000000"
DEMO_ACCESS_TOKEN = "DEMO-simulated-line-channel-access-token"
NOT_FOUND = "Not found"


def _error(status: int, message: str, details: list[dict[str, str]] | None = None) -> Response:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status)


def _account_by_token(state: State, token: str) -> tuple[str, dict[str, Any]] | None:
    for uid, account in state["accounts"].items():
        if isinstance(account, dict) and token and account.get("token") == token:
            return uid, account
    return None


def _known(state: State, request: Request) -> tuple[str, dict[str, Any]] | None:
    """The account whose channel access token the request carries."""
    return _account_by_token(state, _bearer(request))


def _unauthorized() -> Response:
    return _error(
        401, "Authentication failed. Confirm that the access token in the authorization HTTP header is valid."
    )


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _new_id() -> str:
    return str(secrets.randbelow(9 * 10**17) + 10**17)  # LINE's message ids: 18 digits


def _text_of(messages: list[Any]) -> list[tuple[str, str, str]]:
    """(kind, text, url) of each message object the business sends."""
    shown: list[tuple[str, str, str]] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("type") == "text":
            shown.append(("text", str(message.get("text") or ""), ""))
        elif message.get("type") == "image":
            shown.append(("image", "", str(message.get("originalContentUrl") or "")))
        else:
            shown.append(("text", f"[{message.get('type')}]", ""))
    return shown


class LineSimulator(Simulator):
    channel_type = "line"
    label = "LINE"
    takes_files = True

    def demo_inbox(self) -> DemoInbox:
        return DemoInbox(
            "LINE (simulated)",
            {"channel_id": "2000000001", "basic_id": "@demo-sim"},
            {"channel_secret": DEMO_CHANNEL_SECRET, "channel_access_token": DEMO_ACCESS_TOKEN},
        )

    def customer_key(self, name: str) -> str:
        return "U" + hashlib.sha256(b"line:" + name.strip().casefold().encode()).hexdigest()[:32]

    def is_wired(self) -> bool:
        from frontdesk.channels.line.settings import LineInstallationSettings

        wanted = LineInstallationSettings()
        return {wanted.line_api_url.rstrip("/"), wanted.line_data_url.rstrip("/")} == {self.base_url}

    def console(
        self,
        state: State,
        uid: str,
        webhook_url: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> None:
        """The LINE Developers console: the channel secret and access token it issued, and the
        webhook URL pasted there (the channel registers only an HTTPS one itself)."""
        account = state["accounts"].setdefault(uid, {})
        account.update(
            token=str(secrets.get("channel_access_token") or ""),
            secret=str(secrets.get("channel_secret") or ""),
            webhook_url=webhook_url,
        )
        account.setdefault("quota", FREE_QUOTA)
        account.setdefault("used", 0)

    # --- the customer's side ---

    def inbound(self, state: State, uid: str, name: str, text: str) -> WebhookCall:
        message = {"type": "text", "id": _new_id(), "quoteToken": secrets.token_urlsafe(24), "text": text}
        return self._webhook(state, uid, name, message)

    def inbound_file(self, state: State, uid: str, name: str, text: str, file: CustomerFile) -> WebhookCall:
        # A LINE message is one thing: the file goes alone (a caption is not sent with it).
        message_id = _new_id()
        major = file.content_type.split("/", 1)[0]
        message: dict[str, Any] = {"id": message_id}
        if file.content_type in ("image/jpeg", "image/png"):
            message.update(
                type="image", contentProvider={"type": "line"}, quoteToken=secrets.token_urlsafe(24)
            )
        elif major in ("video", "audio"):
            message.update(type=major, duration=1000, contentProvider={"type": "line"})
        else:
            message.update(type="file", fileName=file.name, fileSize=file.size)
        state.setdefault("files", {})[message_id] = {"file_id": file.file_id, "type": file.content_type}
        return self._webhook(state, uid, name, message)

    def _webhook(self, state: State, uid: str, name: str, message: dict[str, Any]) -> WebhookCall:
        account = state["accounts"][uid]
        user_id = self.customer_key(name)
        reply_token = secrets.token_hex(16)
        state.setdefault("reply_tokens", {})[reply_token] = {"uid": uid, "to": user_id, "at": time.time()}
        message["markAsReadToken"] = secrets.token_urlsafe(24)
        event = {
            "type": "message",
            "message": message,
            "webhookEventId": "01" + secrets.token_hex(12).upper(),
            "deliveryContext": {"isRedelivery": False},
            "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": user_id},
            "replyToken": reply_token,
            "mode": "active",
        }
        return self._signed(account, {"destination": self._bot_user(uid), "events": [event]})

    def _signed(self, account: Mapping[str, Any], payload: dict[str, Any]) -> WebhookCall:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        mac = hmac.new(str(account.get("secret") or "").encode(), body, hashlib.sha256).digest()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: base64.b64encode(mac).decode()}
        return WebhookCall(str(account.get("webhook_url") or ""), headers, body)

    @staticmethod
    def _bot_user(uid: str) -> str:
        return "U" + hashlib.sha256(b"line-bot:" + uid.encode()).hexdigest()[:32]

    # --- the Messaging API ---

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/v2/bot/message/reply", self._reply, methods=["POST"])
        router.add_api_route("/v2/bot/message/push", self._push, methods=["POST"])
        router.add_api_route("/v2/bot/message/quota", self._quota, methods=["GET"])
        router.add_api_route("/v2/bot/message/quota/consumption", self._consumption, methods=["GET"])
        router.add_api_route(
            "/v2/bot/message/{message_id}/content/transcoding", self._transcoding, methods=["GET"]
        )
        router.add_api_route("/v2/bot/message/{message_id}/content", self._content, methods=["GET"])
        router.add_api_route("/v2/bot/profile/{user_id}", self._profile, methods=["GET"])
        router.add_api_route("/profile-picture/{user_id}.png", self._picture, methods=["GET"])
        router.add_api_route("/v2/bot/info", self._info, methods=["GET"])
        router.add_api_route("/v2/bot/chat/loading/start", self._loading, methods=["POST"])
        router.add_api_route("/v2/bot/chat/markAsRead", self._mark_read, methods=["POST"])
        router.add_api_route("/v2/bot/channel/webhook/endpoint", self._set_endpoint, methods=["PUT"])
        router.add_api_route("/v2/bot/channel/webhook/endpoint", self._get_endpoint, methods=["GET"])
        router.add_api_route("/v2/bot/channel/webhook/test", self._test_endpoint, methods=["POST"])
        return router

    async def _reply(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _known(state, request)
            if found is None:
                return _unauthorized()
            token = str(body.get("replyToken") or "")
            given = state.setdefault("reply_tokens", {}).get(token)
            if (
                not isinstance(given, dict)
                or given.get("uid") != found[0]
                or given.get("used")
                or time.time() - float(given.get("at") or 0) > REPLY_TOKEN_SECONDS
            ):
                return _error(400, "Invalid reply token")
            refused = _check_messages(body.get("messages"))
            if refused is not None:
                return refused
            given["used"] = True
            return self._deliver(state, found[0], str(given["to"]), body["messages"])

    async def _push(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _known(state, request)
            if found is None:
                return _unauthorized()
            uid, account = found
            to = str(body.get("to") or "")
            if chat_of(state, uid, to) is None:
                return _error(400, "Failed to send messages", [{"message": "Not found", "property": "to"}])
            refused = _check_messages(body.get("messages"))
            if refused is not None:
                return refused
            key = request.headers.get(RETRY_KEY_HEADER, "")
            seen: dict[str, str] = account.setdefault("retry_keys", {})
            if key and key in seen:
                return JSONResponse(
                    {"message": "The retry key is already accepted"},
                    status_code=409,
                    headers={"x-line-accepted-request-id": seen[key]},
                )
            count = len(body["messages"])
            if int(account.get("used", 0)) + count > int(account.get("quota", FREE_QUOTA)):
                return _error(429, "You have reached your monthly limit.")
            account["used"] = int(account.get("used", 0)) + count
            answer = self._deliver(state, uid, to, body["messages"])
            if key:
                seen[key] = secrets.token_hex(16)
                del_keys = list(seen)[:-500]
                for old in del_keys:
                    del seen[old]
            return answer

    async def _quota(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        return JSONResponse({"type": "limited", "value": int(found[1].get("quota", FREE_QUOTA))})

    async def _consumption(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        return JSONResponse({"totalUsage": int(found[1].get("used", 0))})

    async def _transcoding(self, message_id: str, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        if _known(state, request) is None:
            return _unauthorized()
        if message_id not in state.get("files", {}):
            return _error(404, NOT_FOUND)
        return JSONResponse({"status": "succeeded"})  # the simulator does not transcode

    async def _content(self, message_id: str, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        if _known(state, request) is None:
            return _unauthorized()
        file = state.get("files", {}).get(message_id)
        path = (
            self.store.file_path(self.channel_type, str(file.get("file_id")))
            if isinstance(file, dict)
            else None
        )
        if path is None or not isinstance(file, dict):
            return _error(404, NOT_FOUND)
        return FileResponse(path, media_type=str(file.get("type") or "application/octet-stream"))

    async def _profile(self, user_id: str, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        chat = chat_of(state, found[0], user_id)
        if chat is None:
            return _error(404, NOT_FOUND)
        return JSONResponse(
            {
                "userId": user_id,
                "displayName": str(chat.get("name") or ""),
                "pictureUrl": f"{self.base_url}/profile-picture/{user_id}.png",
                "language": "en",
            }
        )

    async def _picture(self, user_id: str) -> Response:
        """A customer's profile picture on LINE's CDN (public, as LINE's are): one colour per user."""
        return Response(_square_png(hashlib.sha256(user_id.encode()).digest()[:3]), media_type="image/png")

    async def _info(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        return JSONResponse(
            {
                "userId": self._bot_user(found[0]),
                "basicId": "@demo-sim",
                "displayName": "Demo shop (simulated)",
                "chatMode": "chat",
                "markAsReadMode": "manual",
            }
        )

    async def _loading(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _known(state, request)
            if found is None:
                return _unauthorized()
            chat_id = str(body.get("chatId") or "")
            if chat_of(state, found[0], chat_id) is None:
                return _error(400, "The property, 'chatId', in the request body is invalid")
            typing(state, found[0], chat_id)
        return JSONResponse({}, status_code=202)

    async def _mark_read(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _known(state, request)
            if found is None:
                return _unauthorized()
            if not body.get("markAsReadToken"):
                return _error(
                    400,
                    "The request body has 1 error(s)",
                    [{"message": "must be specified", "property": "markAsReadToken"}],
                )
            found[1]["read_at"] = int(time.time())
        return JSONResponse({})

    async def _set_endpoint(self, request: Request) -> Response:
        body = await json_body(request)
        endpoint = str(body.get("endpoint") or "")
        if not endpoint.startswith("https://"):
            return _error(400, "Invalid webhook endpoint URL")
        async with self.store.edit(self.channel_type) as state:
            found = _known(state, request)
            if found is None:
                return _unauthorized()
            found[1]["webhook_url"] = endpoint
        return JSONResponse({})

    async def _get_endpoint(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        return JSONResponse({"endpoint": found[1].get("webhook_url") or "", "active": True})

    async def _test_endpoint(self, request: Request) -> Response:
        """LINE posts an empty, signed event list to the endpoint and says how it answered."""
        body = await json_body(request)
        state = await self.store.read(self.channel_type)
        found = _known(state, request)
        if found is None:
            return _unauthorized()
        uid, account = found
        call = self._signed(
            {**account, "webhook_url": body.get("endpoint") or account.get("webhook_url")},
            {"destination": self._bot_user(uid), "events": []},
        )
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.post(call.url, content=call.body, headers=dict(call.headers))
        except httpx.HTTPError as exc:
            return JSONResponse(
                {
                    "success": False,
                    "timestamp": at,
                    "statusCode": 0,
                    "reason": "COULD_NOT_CONNECT",
                    "detail": str(exc)[:200],
                }
            )
        ok = answer.status_code == 200
        return JSONResponse(
            {
                "success": ok,
                "timestamp": at,
                "statusCode": answer.status_code,
                "reason": "OK" if ok else "ERROR_STATUS_CODE",
                "detail": f"{answer.status_code}",
            }
        )

    def _deliver(self, state: State, uid: str, to: str, messages: list[Any]) -> Response:
        sent = []
        for kind, text, url in _text_of(messages):
            record(state, uid, to, "business", text, kind=kind, url=url)
            sent.append({"id": _new_id(), "quoteToken": secrets.token_urlsafe(24)})
        return JSONResponse({"sentMessages": sent})


def _check_messages(messages: Any) -> Response | None:
    if not isinstance(messages, list) or not messages:
        return _error(
            400,
            "The request body has 1 error(s)",
            [{"message": "Size must be between 1 and 5", "property": "messages"}],
        )
    if len(messages) > 5:
        return _error(
            400,
            "The request body has 1 error(s)",
            [{"message": "Size must be between 1 and 5", "property": "messages"}],
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("type") not in ("text", "image"):
            return _error(
                400,
                "The request body has 1 error(s)",
                [{"message": "invalid type", "property": f"messages[{index}].type"}],
            )
        if message["type"] == "text":
            text = str(message.get("text") or "")
            if not text or len(text.encode("utf-16-le")) // 2 > 5000:
                return _error(
                    400,
                    "The request body has 1 error(s)",
                    [{"message": "Length must be between 1 and 5000", "property": f"messages[{index}].text"}],
                )
    return None


def _square_png(rgb: bytes, size: int = 64) -> bytes:
    """A plain-coloured PNG, written out by hand (a demo picture needs no imaging library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rgb * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
