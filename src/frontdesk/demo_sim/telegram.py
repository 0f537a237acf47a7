"""DEMO EQUIPMENT: Telegram's Bot API, simulated for `make demo` (FRONTDESK_TELEGRAM_API_BASE
points at <public url>/demo/sim/telegram there).

It answers the calls the Telegram channel makes — setWebhook, deleteWebhook, getWebhookInfo, getMe,
sendMessage, sendPhoto, sendDocument, sendChatAction, answerCallbackQuery, getFile and the file
download of what the customer sent (a photo or a document) — in the Bot API's shapes
({"ok": true, "result"} or {"ok": false, "error_code", "description"}), for any well-formed bot
token. setWebhook is how it learns where an inbox takes updates and its secret token, as Telegram
does; a customer's text then goes there as an Update with that secret in
X-Telegram-Bot-Api-Secret-Token. What the bot sends is kept as the customer's chat shows it.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from frontdesk.demo_sim.base import (
    CustomerFile,
    DemoInbox,
    Simulator,
    State,
    WebhookCall,
    chat_of,
    record,
    typing,
)

__all__ = ["TelegramSimulator"]

TOKEN = re.compile(r"(\d{1,20}):[A-Za-z0-9_-]{20,}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# The demo inbox's bot: any well-formed token works; this one says what it is.
DEMO_TOKEN = "7000000001:DEMO-simulated-bot-not-a-real-token"
CUSTOMER_IDS = 7_000_000_000  # simulated users' ids start here
# Telegram re-encodes a photo as JPEG; the simulator does not, so only a JPEG goes as a photo and
# any other file (a PNG too) as a document, as the apps send "a file".
PHOTO_TYPES = frozenset({"image/jpeg"})


def _ok(result: Any) -> Response:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str) -> Response:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, status_code=code)


def _bot(token: str) -> dict[str, Any]:
    bot_id = int(token.split(":", 1)[0])
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": "Demo bot (simulated)",
        "username": f"demo_{bot_id}_bot",
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def _account(state: State, token: str) -> tuple[str, dict[str, Any]] | None:
    for uid, account in state["accounts"].items():
        if isinstance(account, dict) and account.get("token") == token:
            return uid, account
    return None


async def _params(request: Request) -> dict[str, Any]:
    """A Bot API call's parameters: JSON, a form, or the query string, as Telegram takes them."""
    params: dict[str, Any] = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ValueError("Bad Request: can't parse JSON object")
        params.update(body)
    elif kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
    return params


class TelegramSimulator(Simulator):
    channel_type = "telegram"
    label = "Telegram"
    takes_files = True

    def demo_inbox(self) -> DemoInbox:
        return DemoInbox("Telegram (simulated)", {}, {"bot_token": DEMO_TOKEN})

    def customer_key(self, name: str) -> str:
        digest = hashlib.sha256(name.strip().casefold().encode()).digest()
        return str(CUSTOMER_IDS + int.from_bytes(digest[:4], "big") % 1_000_000_000)

    def is_wired(self) -> bool:
        from frontdesk.channels.telegram.settings import TelegramInstallationSettings

        return TelegramInstallationSettings().api_base.rstrip("/") == self.base_url

    def inbound(self, state: State, uid: str, name: str, text: str) -> WebhookCall:
        return self._update(state, uid, name, {"text": text})

    def inbound_file(self, state: State, uid: str, name: str, text: str, file: CustomerFile) -> WebhookCall:
        sent: dict[str, Any] = {"caption": text} if text else {}
        described = {"file_id": file.file_id, "file_unique_id": file.file_id[:16], "file_size": file.size}
        if file.content_type in PHOTO_TYPES:
            # One size only: the simulator does not scale pictures.
            sent["photo"] = [{**described, "width": 1280, "height": 960}]
        else:
            sent["document"] = {**described, "file_name": file.name, "mime_type": file.content_type}
        files = state.setdefault("files", {})
        # Telegram's file paths: photos/file_12.jpg, documents/file_3.pdf (the type is guessed from them).
        folder = "photos" if "photo" in sent else "documents"
        suffix = PurePosixPath(file.name).suffix.lower()
        path = f"{folder}/{file.file_id}{suffix if suffix[1:].isalnum() else ''}"
        files[file.file_id] = {"name": file.name, "size": file.size, "path": path}
        return self._update(state, uid, name, sent)

    def _update(self, state: State, uid: str, name: str, content: dict[str, Any]) -> WebhookCall:
        account = state["accounts"][uid]
        user_id = int(self.customer_key(name))
        first, _, last = name.strip().partition(" ")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first or name}
        if last:
            user["last_name"] = last
        chat = {"type": "private", **{k: v for k, v in user.items() if k != "is_bot"}}
        update_id = int(account.get("next_update_id", 100_000))
        message_id = int(account.get("next_message_id", 1))
        account["next_update_id"], account["next_message_id"] = update_id + 1, message_id + 1
        update = {
            "update_id": update_id,
            "message": {
                "message_id": message_id,
                "from": user,
                "chat": chat,
                "date": int(time.time()),
                **content,
            },
        }
        headers = {"Content-Type": "application/json", SECRET_HEADER: str(account["secret"])}
        return WebhookCall(str(account["webhook_url"]), headers, json.dumps(update).encode())

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        store = self.store

        @router.api_route("/bot{token}/{method}", methods=["GET", "POST"])
        async def bot_api(token: str, method: str, request: Request) -> Response:
            if TOKEN.fullmatch(token) is None:
                return _error(401, "Unauthorized")
            try:
                params = await _params(request)
            except ValueError as exc:
                return _error(400, str(exc))
            async with store.edit(self.channel_type) as state:
                return self._call(state, token, method, params)

        @router.get("/file/bot{token}/{file_path:path}")
        async def download(token: str, file_path: str) -> Response:
            if TOKEN.fullmatch(token) is None:
                return _error(401, "Unauthorized")
            file_id = PurePosixPath(file_path).stem  # <folder>/<file id><the name's extension>
            found = store.file_path(self.channel_type, file_id)
            if found is None:
                return _error(404, "Not Found")
            return FileResponse(found, media_type="application/octet-stream")  # as Telegram's file server

        return router

    def _call(self, state: State, token: str, method: str, params: Mapping[str, Any]) -> Response:
        name = method.lower()
        if name == "getme":
            return _ok(_bot(token))
        if name == "setwebhook":
            return self._set_webhook(state, token, params)
        if name == "deletewebhook":
            found = _account(state, token)
            if found is not None:
                found[1]["webhook_url"] = ""
            return _ok(True)
        if name == "getwebhookinfo":
            found = _account(state, token)
            account = found[1] if found is not None else {}
            info: dict[str, Any] = {
                "url": account.get("webhook_url") or "",
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            if account.get("last_error_message"):
                info["last_error_date"] = account.get("last_error_date")
                info["last_error_message"] = account["last_error_message"]
            if account.get("allowed_updates"):
                info["allowed_updates"] = account["allowed_updates"]
            return _ok(info)
        if name == "answercallbackquery":
            return _ok(True)
        if name == "getfile":
            file_id = str(params.get("file_id") or "")
            known = state.get("files", {}).get(file_id)
            if not isinstance(known, dict):
                return _error(400, "Bad Request: invalid file_id")
            return _ok(
                {
                    "file_id": file_id,
                    "file_unique_id": file_id[:16],
                    "file_size": known.get("size"),
                    "file_path": str(known.get("path") or ""),
                }
            )
        if name in ("sendmessage", "sendphoto", "senddocument", "sendchataction"):
            return self._to_chat(state, token, name, params)
        return _error(404, "Not Found: method not found")

    def _set_webhook(self, state: State, token: str, params: Mapping[str, Any]) -> Response:
        url = str(params.get("url") or "")
        secret = str(params.get("secret_token") or "")
        if not url.startswith(("http://", "https://")):
            return _error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if secret and re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret) is None:
            return _error(400, "Bad Request: secret token contains unallowed characters")
        uid = url.rstrip("/").rsplit("/", 1)[-1]
        for other, account in list(state["accounts"].items()):
            if other != uid and isinstance(account, dict) and account.get("token") == token:
                del state["accounts"][other]  # a bot has one webhook: the new one replaces it
        account = state["accounts"].setdefault(uid, {})
        allowed = params.get("allowed_updates")
        if isinstance(allowed, str):
            try:
                allowed = json.loads(allowed)
            except ValueError:
                allowed = None
        account.update(
            token=token,
            webhook_url=url,
            secret=secret,
            allowed_updates=allowed if isinstance(allowed, list) else [],
            last_error_message="",
        )
        return _ok(True)

    def _to_chat(self, state: State, token: str, name: str, params: Mapping[str, Any]) -> Response:
        found = _account(state, token)
        chat_id = str(params.get("chat_id") or "")
        if found is None or not chat_id or chat_of(state, found[0], chat_id) is None:
            return _error(400, "Bad Request: chat not found")
        uid, account = found
        if name == "sendchataction":
            if params.get("action") == "typing":
                typing(state, uid, chat_id)
            return _ok(True)
        if name == "sendmessage":
            text = str(params.get("text") or "")
            if not text.strip():
                return _error(400, "Bad Request: message text is empty")
            if len(text.encode("utf-16-le")) // 2 > 4096:
                return _error(400, "Bad Request: message is too long")
            record(state, uid, chat_id, "business", text)
            sent: dict[str, Any] = {"text": text}
        else:
            field = "photo" if name == "sendphoto" else "document"
            url = str(params.get(field) or "")
            if not url:
                return _error(400, f"Bad Request: there is no {field} in the request")
            caption = str(params.get("caption") or "")
            record(
                state,
                uid,
                chat_id,
                "business",
                caption,
                kind="image" if field == "photo" else "file",
                url=url,
            )
            sent = {field: {"file_id": f"sim-{field}", "file_unique_id": "sim"}, "caption": caption}
        message_id = int(account.get("next_message_id", 1))
        account["next_message_id"] = message_id + 1
        chat = {"id": int(chat_id), "type": "private"}
        return _ok(
            {"message_id": message_id, "from": _bot(token), "chat": chat, "date": int(time.time()), **sent}
        )
