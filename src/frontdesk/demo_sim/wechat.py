"""DEMO EQUIPMENT: WeChat's server API for an Official Account, simulated for `make demo`
(FRONTDESK_WECHAT_API_BASE points at <public url>/demo/sim/wechat there).

It answers the calls the WeChat channel makes — stable_token, getcallbackip, message/custom/send
and message/custom/typing, media/upload and media/get, user/info and qrcode/create — in WeChat's
shapes ({"errcode", "errmsg"} on a refusal), for an AppID and AppSecret it knows and the access
tokens it handed out. WeChat has no API for the server configuration: `console` keeps what the
administrator enters in the WeChat admin (the server URL, the Token, the EncodingAESKey and the
message encryption mode) with the AppID and AppSecret. A customer's text goes to the server URL
as WeChat pushes it: XML, signed (signature over Token, timestamp and nonce), and in the safe and
compatible modes encrypted (AES-CBC, msg_signature over the Encrypt element too).

Customer-service messages keep WeChat's rules: 5 in the 48 hours after the customer's latest
message (45047 after that, 45015 once the 48 hours are over).
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import struct
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from fastapi import APIRouter, Request, UploadFile
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
from frontdesk.demo_sim.customer import SendFailed

__all__ = ["WechatSimulator"]

WINDOW_SECONDS = 48 * 3600
MESSAGES_IN_WINDOW = 5
TOKEN_SECONDS = 7200
DEMO_APP_ID = "wxdemo0simulated01"
DEMO_APP_SECRET = "demo-simulated-wechat-app-secret"
DEMO_TOKEN = "demoSimulatedToken"
DEMO_AES_KEY = "DemoSimulatedEncodingAESKey0000000000000000"  # 43 characters
ACCOUNT = "gh_demo0simulated"  # the account's original id (ToUserName)
BLOCK = 32
# What a customer can send an Official Account, by content type → WeChat's message type.
CUSTOMER_MEDIA = {"image/jpeg": "image", "image/png": "image", "video/mp4": "video", "audio/amr": "voice"}


def _error(errcode: int, errmsg: str) -> Response:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg})


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _encrypt(encoding_aes_key: str, xml: bytes, app_id: str) -> str:
    """The Encrypt element of WeChat's safe mode: AES-256-CBC, IV = the key's first 16 bytes,
    16 random bytes + the XML's length + the XML + the AppID, padded to 32-byte blocks."""
    key = base64.b64decode(encoding_aes_key + "=")
    plain = os.urandom(16) + struct.pack(">I", len(xml)) + xml + app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def _account_by_app(state: State, app_id: str) -> tuple[str, dict[str, Any]] | None:
    for uid, account in state["accounts"].items():
        if isinstance(account, dict) and app_id and account.get("app_id") == app_id:
            return uid, account
    return None


def _by_token(state: State, request: Request) -> tuple[str, dict[str, Any]] | None:
    """The account whose valid access token the request carries."""
    token = request.query_params.get("access_token", "")
    for uid, account in state["accounts"].items():
        if (
            isinstance(account, dict)
            and token
            and account.get("access_token") == token
            and float(account.get("token_expires", 0)) > time.time()
        ):
            return uid, account
    return None


def _invalid_token() -> Response:
    return _error(40001, "invalid credential, access_token is invalid or not latest")


class WechatSimulator(Simulator):
    channel_type = "wechat"
    label = "WeChat"
    takes_files = True

    def demo_inbox(self) -> DemoInbox:
        return DemoInbox(
            "WeChat (simulated)",
            {"app_id": DEMO_APP_ID, "message_mode": "safe"},
            {"app_secret": DEMO_APP_SECRET, "token": DEMO_TOKEN, "encoding_aes_key": DEMO_AES_KEY},
        )

    def customer_key(self, name: str) -> str:
        # An OpenID: 28 characters, "o" and then URL-safe base64.
        digest = hashlib.sha256(b"wechat:" + name.strip().casefold().encode()).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

    def is_wired(self) -> bool:
        from frontdesk.channels.wechat.settings import WechatInstallationSettings

        return WechatInstallationSettings().wechat_api_base.rstrip("/") == self.base_url

    def console(
        self,
        state: State,
        uid: str,
        webhook_url: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> None:
        """The WeChat admin: the AppID and AppSecret it issued, and the server configuration
        entered there (URL, Token, EncodingAESKey, message encryption mode)."""
        for other, account in list(state["accounts"].items()):
            if other != uid and isinstance(account, dict) and account.get("app_id") == settings.get("app_id"):
                del state["accounts"][other]  # an account has one server URL
        account = state["accounts"].setdefault(uid, {})
        account.update(
            app_id=str(settings.get("app_id") or ""),
            message_mode=str(settings.get("message_mode") or "safe"),
            app_secret=str(secrets.get("app_secret") or ""),
            token=str(secrets.get("token") or ""),
            encoding_aes_key=str(secrets.get("encoding_aes_key") or ""),
            webhook_url=webhook_url,
        )

    # --- the customer's side ---

    def inbound(self, state: State, uid: str, name: str, text: str) -> WebhookCall:
        return self._push(state, uid, name, "text", f"<Content>{_cdata(text)}</Content>")

    def inbound_file(self, state: State, uid: str, name: str, text: str, file: CustomerFile) -> WebhookCall:
        kind = CUSTOMER_MEDIA.get(file.content_type)
        if kind is None:
            raise SendFailed("a WeChat customer sends pictures (JPEG, PNG), MP4 video or AMR voice only")
        media_id = self._keep_media(state, file)
        fields = f"<MediaId>{_cdata(media_id)}</MediaId>"
        if kind == "image":
            fields = f"<PicUrl>{_cdata(self.base_url + '/pic/' + media_id)}</PicUrl>" + fields
        elif kind == "video":
            fields += f"<ThumbMediaId>{_cdata(media_id)}</ThumbMediaId>"
        else:
            fields += f"<Format>{_cdata('amr')}</Format>"
        return self._push(state, uid, name, kind, fields)

    def _keep_media(self, state: State, file: CustomerFile) -> str:
        media_id = file.file_id
        state.setdefault("media", {})[media_id] = {"type": file.content_type, "name": file.name}
        return media_id

    def _push(self, state: State, uid: str, name: str, msg_type: str, fields: str) -> WebhookCall:
        account = state["accounts"][uid]
        openid = self.customer_key(name)
        chat = state["chats"].setdefault(f"{uid}/{openid}", {"entries": [], "typing_at": 0.0})
        chat.update(window_at=time.time(), replies=0)  # the customer wrote: 48 h, 5 messages
        msg_id = int(account.get("next_msg_id", 24_000_000_000_000_000_000))
        account["next_msg_id"] = msg_id + 1
        now = str(int(time.time()))
        xml = (
            f"<xml><ToUserName>{_cdata(ACCOUNT)}</ToUserName><FromUserName>{_cdata(openid)}</FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>{fields}"
            f"<MsgId>{msg_id}</MsgId></xml>"
        ).encode()
        token = str(account.get("token") or "")
        nonce = str(secrets.randbelow(10**9))
        query = {"signature": _sha1(token, now, nonce), "timestamp": now, "nonce": nonce, "openid": openid}
        mode = account.get("message_mode", "safe")
        body = xml
        if mode in ("safe", "compatible"):
            sealed = _encrypt(
                str(account.get("encoding_aes_key") or ""), xml, str(account.get("app_id") or "")
            )
            query.update(encrypt_type="aes", msg_signature=_sha1(token, now, nonce, sealed))
            envelope = f"<ToUserName>{_cdata(ACCOUNT)}</ToUserName><Encrypt>{_cdata(sealed)}</Encrypt>"
            if mode == "compatible":  # both: the plaintext fields and the Encrypt element
                body = xml.replace(b"</xml>", f"<Encrypt>{_cdata(sealed)}</Encrypt></xml>".encode())
            else:
                body = f"<xml>{envelope}</xml>".encode()
        url = str(account["webhook_url"])
        joined = "&".join(f"{k}={v}" for k, v in query.items())  # all URL-safe characters
        return WebhookCall(f"{url}?{joined}", {"Content-Type": "text/xml"}, body)

    # --- the server API ---

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)
        router.add_api_route("/cgi-bin/stable_token", self._stable_token, methods=["POST"])
        router.add_api_route("/cgi-bin/getcallbackip", self._callback_ip, methods=["GET"])
        router.add_api_route("/cgi-bin/message/custom/send", self._custom_send, methods=["POST"])
        router.add_api_route("/cgi-bin/message/custom/typing", self._custom_typing, methods=["POST"])
        router.add_api_route("/cgi-bin/media/upload", self._media_upload, methods=["POST"])
        router.add_api_route("/cgi-bin/media/get", self._media_get, methods=["GET"])
        router.add_api_route("/pic/{media_id}", self._picture, methods=["GET"])
        router.add_api_route("/cgi-bin/user/info", self._user_info, methods=["GET"])
        router.add_api_route("/cgi-bin/qrcode/create", self._qrcode, methods=["POST"])
        return router

    async def _stable_token(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _account_by_app(state, str(body.get("appid") or ""))
            if found is None:
                return _error(40013, "invalid appid")
            account = found[1]
            if body.get("secret") != account.get("app_secret"):
                return _error(40125, "invalid appsecret")
            fresh = float(account.get("token_expires", 0)) > time.time() + 300
            if body.get("force_refresh") is True or not fresh:
                account["access_token"] = secrets.token_urlsafe(48)
                account["token_expires"] = time.time() + TOKEN_SECONDS
            left = int(float(account["token_expires"]) - time.time())
            return JSONResponse({"access_token": account["access_token"], "expires_in": left})

    async def _callback_ip(self, request: Request) -> Response:
        if _by_token(await self.store.read(self.channel_type), request) is None:
            return _invalid_token()
        return JSONResponse({"ip_list": ["127.0.0.1"]})

    async def _custom_send(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _by_token(state, request)
            if found is None:
                return _invalid_token()
            return self._send(state, found[0], body)

    async def _custom_typing(self, request: Request) -> Response:
        body = await json_body(request)
        async with self.store.edit(self.channel_type) as state:
            found = _by_token(state, request)
            if found is None:
                return _invalid_token()
            openid = str(body.get("touser") or "")
            if chat_of(state, found[0], openid) is None:
                return _error(40003, "invalid openid")
            if body.get("command") == "Typing":
                typing(state, found[0], openid)
            elif body.get("command") == "CancelTyping":
                state["chats"][f"{found[0]}/{openid}"]["typing_at"] = 0.0
            else:
                return _error(44002, "empty post data")
        return _error(0, "ok")

    async def _media_upload(self, request: Request) -> Response:
        media_type = request.query_params.get("type", "")
        if _by_token(await self.store.read(self.channel_type), request) is None:
            return _invalid_token()
        if media_type not in ("image", "voice", "video", "thumb"):
            return _error(40004, "invalid media type")
        form = await request.form()
        upload = form.get("media")
        if not isinstance(upload, UploadFile):
            return _error(41005, "media data missing")
        data = await upload.read()
        file = await self.store.keep_file(
            self.channel_type,
            upload.filename or "media",
            upload.content_type or "application/octet-stream",
            data,
        )
        async with self.store.edit(self.channel_type) as state:
            self._keep_media(state, file)
        return JSONResponse({"type": media_type, "media_id": file.file_id, "created_at": int(time.time())})

    async def _media_get(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        if _by_token(state, request) is None:
            return _invalid_token()
        media_id = request.query_params.get("media_id", "")
        known = state.get("media", {}).get(media_id)
        path = self.store.file_path(self.channel_type, media_id)
        if not isinstance(known, dict) or path is None:
            return _error(40007, "invalid media_id")
        return FileResponse(path, media_type=str(known.get("type") or "application/octet-stream"))

    async def _picture(self, media_id: str) -> Response:
        """A customer's picture at its PicUrl, as WeChat's image server gives it."""
        state = await self.store.read(self.channel_type)
        known = state.get("media", {}).get(media_id)
        path = self.store.file_path(self.channel_type, media_id)
        if not isinstance(known, dict) or path is None:
            return Response(status_code=404)
        return FileResponse(path, media_type=str(known.get("type") or "image/jpeg"))

    async def _user_info(self, request: Request) -> Response:
        state = await self.store.read(self.channel_type)
        found = _by_token(state, request)
        if found is None:
            return _invalid_token()
        openid = request.query_params.get("openid", "")
        chat = chat_of(state, found[0], openid)
        if chat is None:
            return _error(40003, "invalid openid")
        # WeChat has given no nickname since 2021; the simulator does, to show who wrote.
        return JSONResponse(
            {
                "subscribe": 1,
                "openid": openid,
                "nickname": str(chat.get("name") or ""),
                "language": request.query_params.get("lang", "zh_CN"),
                "headimgurl": "",
                "subscribe_time": int(time.time()),
                "subscribe_scene": "ADD_SCENE_SEARCH",
            }
        )

    async def _qrcode(self, request: Request) -> Response:
        body = await json_body(request)
        if _by_token(await self.store.read(self.channel_type), request) is None:
            return _invalid_token()
        action = body.get("action_name")
        if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            return _error(40035, "invalid args")
        ticket = secrets.token_urlsafe(24)
        answer: dict[str, Any] = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{ticket[:22]}"}
        if not str(action).startswith("QR_LIMIT"):
            answer["expire_seconds"] = int(body.get("expire_seconds") or 60)
        return JSONResponse(answer)

    def _send(self, state: State, uid: str, body: Mapping[str, Any]) -> Response:
        openid = str(body.get("touser") or "")
        chat = chat_of(state, uid, openid)
        if chat is None:
            return _error(40003, "invalid openid")
        if time.time() - float(chat.get("window_at") or 0) > WINDOW_SECONDS:
            return _error(45015, "response out of time limit or subscription is canceled")
        if int(chat.get("replies") or 0) >= MESSAGES_IN_WINDOW:
            return _error(45047, "out of response count limit")
        msg_type = body.get("msgtype")
        if msg_type == "text":
            content = body.get("text")
            text = str(content.get("content") or "") if isinstance(content, dict) else ""
            if not text:
                return _error(44003, "empty news data")
            if len(text.encode()) > 2048 * 3:
                return _error(45002, "content size out of limit")
            record(state, uid, openid, "business", text)
        elif msg_type in ("image", "voice", "video"):
            media = body.get(str(msg_type))
            media_id = str(media.get("media_id") or "") if isinstance(media, dict) else ""
            known = state.get("media", {}).get(media_id)
            if not isinstance(known, dict):
                return _error(40007, "invalid media_id")
            shown = "image" if msg_type == "image" else "file"
            url = f"{self.base_url}/pic/{media_id}"
            record(
                state,
                uid,
                openid,
                "business",
                "",
                kind=shown,
                url=url,
                file_name=str(known.get("name") or ""),
            )
        else:
            return _error(40008, "invalid message type")
        chat["replies"] = int(chat.get("replies") or 0) + 1
        return _error(0, "ok")
