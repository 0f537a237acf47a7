"""TEST EQUIPMENT ONLY: WeChat's side of the WeChat channel tests. Never imported by src/.

- XML pushes as WeChat sends them (text, media, events), with bare LF, CDATA, unknown elements;
- the query WeChat signs them with (signature over token, timestamp, nonce), and in safe mode the
  body encrypted with wechatpy's WeChatCrypto (the official-style library, not our code), with
  msg_signature over the Encrypt text;
- the fake provider scripted to speak WeChat's API: stable_token, custom/send, media/upload,
  media/get, user/info, qrcode/create, getcallbackip, custom/typing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import httpx
from wechatpy.crypto import WeChatCrypto

from tests.fakes.provider import Answer, FakeProvider
from tests.fakes.signers import wechat_sha1

APP_ID = "wx1234567890abcdef"
APP_SECRET = "app-secret-0123456789"
TOKEN = "frontdeskToken42"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
OPENID = "oUser-0123456789abcdefghijklmn"
ACCOUNT = "gh_0123456789ab"

TOKEN_PATH = "/cgi-bin/stable_token"
SEND_PATH = "/cgi-bin/message/custom/send"
UPLOAD_PATH = "/cgi-bin/media/upload"
MEDIA_PATH = "/cgi-bin/media/get"
USER_PATH = "/cgi-bin/user/info"
QR_PATH = "/cgi-bin/qrcode/create"
CALLBACK_IP_PATH = "/cgi-bin/getcallbackip"
TYPING_PATH = "/cgi-bin/message/custom/typing"

_nonce = itertools.count(1000)


def ok(**fields: Any) -> Answer:
    return Answer(200, json.dumps({"errcode": 0, "errmsg": "ok", **fields}).encode())


def error(errcode: int, errmsg: str) -> Answer:
    """WeChat answers its errors with HTTP 200 and an errcode."""
    return Answer(200, json.dumps({"errcode": errcode, "errmsg": errmsg}).encode())


def token_answer(token: str = "TOKEN-1", expires_in: int = 7200) -> Answer:
    return Answer(200, json.dumps({"access_token": token, "expires_in": expires_in}).encode())


def speak_wechat(provider: FakeProvider, token: str = "TOKEN-1") -> None:
    """Default answers of a healthy WeChat API."""
    provider.answer(TOKEN_PATH, token_answer(token))
    provider.answer(SEND_PATH, ok())
    provider.answer(TYPING_PATH, ok())
    provider.answer(UPLOAD_PATH, Answer(200, b'{"type":"image","media_id":"UPLOADED-1","created_at":1}'))
    provider.answer(CALLBACK_IP_PATH, Answer(200, b'{"ip_list":["101.226.62.77"]}'))
    provider.answer(
        USER_PATH,
        Answer(
            200,
            json.dumps(
                {
                    "subscribe": 1,
                    "openid": OPENID,
                    "nickname": "Li Lei",
                    "language": "zh_CN",
                    "headimgurl": "http://thirdwx.qlogo.cn/mmopen/abc/132",
                }
            ).encode(),
        ),
    )


def qr_answer(url: str, expire_seconds: int | None = None) -> Answer:
    body: dict[str, Any] = {"ticket": "gQH47joAAAAAAAAAASxodHRwOi8v", "url": url}
    if expire_seconds is not None:
        body["expire_seconds"] = expire_seconds
    return Answer(200, json.dumps(body).encode())


# --- pushes ---


def push(msg_type: str, *, sender: str = OPENID, created: int | None = None, **fields: str) -> bytes:
    """A push as WeChat writes it: CDATA strings, bare LF line ends."""
    parts = [
        "<xml>",
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{sender}]]></FromUserName>",
        f"<CreateTime>{created if created is not None else int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    for name, value in fields.items():
        parts.append(
            f"<{name}>{value}</{name}>" if value.isdigit() else f"<{name}><![CDATA[{value}]]></{name}>"
        )
    parts.append("</xml>")
    return "\n".join(parts).encode()


def text(content: str, msg_id: str = "23456789012345678901", **kw: Any) -> bytes:
    return push("text", Content=content, MsgId=msg_id, **kw)


def event(name: str, **fields: str) -> bytes:
    return push("event", Event=name, **fields)


@dataclass(frozen=True)
class Signed:
    query: dict[str, str]
    body: bytes


def signed(body: bytes, *, token: str = TOKEN, timestamp: str | None = None) -> Signed:
    ts = timestamp or str(int(time.time()))
    nonce = str(next(_nonce))
    query = {"signature": wechat_sha1(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID}
    return Signed(query, body)


def encrypted(
    body: bytes, *, token: str = TOKEN, aes_key: str = AES_KEY, app_id: str = APP_ID, compatible: bool = False
) -> Signed:
    """Safe mode as WeChat sends it, the encryption done by wechatpy."""
    ts = str(int(time.time()))
    nonce = str(next(_nonce))
    crypto = WeChatCrypto(token, aes_key, app_id)
    sealed_xml = crypto.encrypt_message(body.decode(), nonce, ts)
    sealed = ElementTree.fromstring(sealed_xml).findtext("Encrypt") or ""
    msg_signature = wechat_sha1_4(token, ts, nonce, sealed)
    if compatible:  # the plaintext fields beside the Encrypt element
        inner = body.decode().rstrip().removesuffix("</xml>")
        outer = f"{inner}\n<Encrypt><![CDATA[{sealed}]]></Encrypt>\n</xml>"
    else:
        to = f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        outer = f"<xml>\n{to}\n<Encrypt><![CDATA[{sealed}]]></Encrypt>\n</xml>"
    query = {
        "signature": wechat_sha1(token, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": OPENID,
        "encrypt_type": "aes",
        "msg_signature": msg_signature,
    }
    return Signed(query, outer.encode())


def wechat_sha1_4(*parts: str) -> str:
    """msg_signature: SHA1 of token, timestamp, nonce and the Encrypt text, sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


async def deliver(http: httpx.AsyncClient, path: str, request: Signed) -> httpx.Response:
    return await http.post(
        path, params=request.query, content=request.body, headers={"Content-Type": "text/xml"}
    )


def inbox_body(mode: str = "safe", **settings: Any) -> dict[str, Any]:
    return {
        "name": "WeChat",
        "channel_type": "wechat",
        "settings": {"app_id": APP_ID, "message_mode": mode, **settings},
        "secrets": {"app_secret": APP_SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY},
    }
