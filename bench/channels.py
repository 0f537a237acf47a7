"""Ingest per channel: the closed-loop rate of the LINE, WeChat and Telegram webhooks beside the
API channel's, on the same server process (ingest.py calls `measure` inside its server).

Each message is a text from one of `contacts` contacts, shaped, signed and authenticated as the
provider does it; every request is built before its row is measured. The providers' APIs that
Frontdesk calls meanwhile (Telegram's setWebhook on save, the profile look-ups of new LINE and
WeChat contacts, LINE's quota) answer from bench/provider_stub.py on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import orjson
from common import BENCH, VENV_BIN, Api, Server, free_port, log, request_bytes
from loadgen import closed_loop

TEXT = "Hello, my parcel has not arrived yet and the tracking page shows no update since Monday."
RATIO_GOAL = 0.8

LINE_CHANNEL_ID = "1650000001"
LINE_SECRET = "bench0123456789abcdef0123456789a"
LINE_TOKEN = "bench-line-access-token-" + "x" * 40
LINE_DESTINATION = "U" + "b" * 32
WECHAT_TOKEN = "benchToken42"
WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
WECHAT_ACCOUNT = "gh_bench0000001"
TELEGRAM_TOKEN = "900000001:AAbench_token_abcdefghijklmnopqrstuv"

# The installation settings of each channel's provider address (read from FRONTDESK_*).
PROVIDER_SETTINGS = (
    "FRONTDESK_LINE_API_URL",
    "FRONTDESK_LINE_DATA_URL",
    "FRONTDESK_LINE_STICKER_URL",
    "FRONTDESK_WECHAT_API_BASE",
    "FRONTDESK_TELEGRAM_API_BASE",
)


@dataclass
class Stub:
    server: Server | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}" if self.server else ""

    async def calls(self) -> dict[str, int]:
        if self.server is None:
            return {}
        api = Api(self.server.port)
        try:
            data = await api.ok("GET", "/__calls")
        finally:
            api.close()
        return dict(data)


@contextlib.contextmanager
def provider_stub(enabled: bool) -> Iterator[Stub]:
    """The providers' stub (a child process) and the env pointing every provider setting at it."""
    if not enabled:
        yield Stub()
        return
    port = free_port()
    # At normal priority: it takes CPU from the server under test (the server was only ~55% busy
    # in the SQLite LINE row), but at nice 19 it fell so far behind on PostgreSQL that profile
    # look-ups piled up and the LINE and WeChat rows fell to 0.36–0.57 (bench/NOTES.md).
    argv = [str(VENV_BIN / "python"), str(BENCH / "provider_stub.py"), "--port", str(port)]
    server = Server(argv, dict(os.environ), port, "provider-stub").start()
    stub = Stub(server, {name: f"http://127.0.0.1:{port}" for name in PROVIDER_SETTINGS})
    try:
        yield stub
    finally:
        server.stop()


# --------------------------------------------------------------------------- requests


def api_request(path: str, secret: str, i: int, k: int) -> bytes:
    body = orjson.dumps(
        {
            "type": "message",
            "source_id": f"pc-{i}",
            "contact": {"source_id": f"pc{k}", "name": "Ann"},
            "text": TEXT,
        }
    )
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return request_bytes(
        "POST", path, body, {"Content-Type": "application/json", "X-Frontdesk-Signature": signature}
    )


def line_request(path: str, i: int, k: int, now_ms: int) -> bytes:
    """One LINE webhook with one text message event, signed as LINE signs it."""
    body = orjson.dumps(
        {
            "destination": LINE_DESTINATION,
            "events": [
                {
                    "type": "message",
                    "mode": "active",
                    "timestamp": now_ms,
                    "source": {"type": "user", "userId": f"U{k:032x}"},
                    "webhookEventId": f"01BENCH{i:019d}",
                    "deliveryContext": {"isRedelivery": False},
                    "replyToken": f"{i:032x}",
                    "message": {
                        "id": str(480_000_000_000_000_000 + i),
                        "type": "text",
                        "quoteToken": f"q{i:031x}",
                        "text": TEXT,
                    },
                }
            ],
        }
    )
    signature = base64.b64encode(hmac.new(LINE_SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return request_bytes(
        "POST", path, body, {"Content-Type": "application/json", "x-line-signature": signature}
    )


def _sha1_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wechat_request(path: str, i: int, k: int, now_s: int, crypto: Any = None) -> bytes:
    """One WeChat text push: plaintext XML, or (crypto given) safe mode's Encrypt element with
    msg_signature; the query signed as WeChat signs it."""
    openid = f"oBench{k:022d}"
    ts, nonce = str(now_s), str(1_000_000_000 + i)
    xml = (
        f"<xml>\n<ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName>\n"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>\n<CreateTime>{ts}</CreateTime>\n"
        f"<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[{TEXT}]]></Content>\n"
        f"<MsgId>{23_000_000_000_000_000 + i}</MsgId>\n</xml>"
    )
    query = {
        "signature": _sha1_sorted(WECHAT_TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "openid": openid,
    }
    if crypto is None:
        body = xml.encode()
    else:
        sealed_xml = crypto.encrypt_message(xml, nonce, ts)
        sealed = sealed_xml.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
        query |= {"encrypt_type": "aes", "msg_signature": _sha1_sorted(WECHAT_TOKEN, ts, nonce, sealed)}
        body = (
            f"<xml>\n<ToUserName><![CDATA[{WECHAT_ACCOUNT}]]></ToUserName>\n"
            f"<Encrypt><![CDATA[{sealed}]]></Encrypt>\n</xml>"
        ).encode()
    return request_bytes("POST", f"{path}?{urlencode(query)}", body, {"Content-Type": "text/xml"})


def telegram_request(path: str, secret: str, i: int, k: int, now_s: int) -> bytes:
    """One Update with a private chat's text message; the webhook's secret token in its header."""
    user = 700_000_000 + k
    names = {"first_name": "Ann", "last_name": "Lee"}
    body = orjson.dumps(
        {
            "update_id": 100_000_000 + i,
            "message": {
                "message_id": i + 1,
                "from": {"id": user, "is_bot": False, **names, "language_code": "en"},
                "chat": {"id": user, "type": "private", **names},
                "date": now_s,
                "text": TEXT,
            },
        }
    )
    return request_bytes(
        "POST", path, body, {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    )


# --------------------------------------------------------------------------- measurement


async def _inbox(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    inbox: dict[str, Any] = await api.ok("POST", f"/api/v1/workspaces/{api.workspace_id}/inboxes", body)
    return inbox


async def _settle(stub: Stub, limit: float = 20.0) -> dict[str, int]:
    """Wait (bounded) until the worker's provider calls of the last row (profile look-ups of its
    new contacts) have stopped, so that they do not run into the next row."""
    deadline = time.monotonic() + limit
    last = await stub.calls()
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = await stub.calls()
        if now != last:
            last, quiet_since = now, time.monotonic()
        elif time.monotonic() - quiet_since >= 1.5:
            break
    return last


_METRIC = re.compile(r'^frontdesk_ingest_total\{channel="([^"]+)",outcome="([^"]+)"\} ([0-9.e+]+)$', re.M)


async def _ingested(api: Api) -> dict[tuple[str, str], float]:
    """frontdesk_ingest_total by (channel, outcome), from the server's /metrics."""
    _, raw = await api.call("GET", "/metrics")
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return {(c, o): float(v) for c, o, v in _METRIC.findall(text)}


async def measure(port: int, api: Api, stub: Stub, cfg: dict[str, Any]) -> dict[str, Any]:
    """API, LINE, WeChat (plaintext, then safe mode), Telegram, API again: one closed-loop row each."""
    api_inbox = await _inbox(api, {"name": "bench api 2", "channel_type": "api", "settings": {}})
    line_inbox = await _inbox(
        api,
        {
            "name": "bench line",
            "channel_type": "line",
            "settings": {"channel_id": LINE_CHANNEL_ID},
            "secrets": {"channel_secret": LINE_SECRET, "channel_access_token": LINE_TOKEN},
        },
    )
    wechat_secrets = {
        "app_secret": "bench-app-secret",
        "token": WECHAT_TOKEN,
        "encoding_aes_key": WECHAT_AES_KEY,
    }
    wechat_plain = await _inbox(
        api,
        {
            "name": "bench wechat",
            "channel_type": "wechat",
            "settings": {"app_id": "wxbench00000001", "message_mode": "plaintext"},
            "secrets": wechat_secrets,
        },
    )
    wechat_safe = await _inbox(
        api,
        {
            "name": "bench wechat safe",
            "channel_type": "wechat",
            "settings": {"app_id": "wxbench00000002", "message_mode": "safe"},
            "secrets": wechat_secrets,
        },
    )
    telegram = await _inbox(
        api,
        {
            "name": "bench telegram",
            "channel_type": "telegram",
            "settings": {},
            "secrets": {"bot_token": TELEGRAM_TOKEN},
        },
    )
    tg_secret = telegram["secrets"]["webhook_secret"]
    log(f"  channels: {', '.join(PROVIDER_SETTINGS)} pointed at the provider stub {stub.url} (127.0.0.1)")
    try:
        from wechatpy.crypto import WeChatCrypto  # dev dependency: the provider's side of safe mode

        crypto: Any = WeChatCrypto(WECHAT_TOKEN, WECHAT_AES_KEY, "wxbench00000002")
    except ImportError:
        crypto = None

    now_ms = int(time.time() * 1000)
    now_s = now_ms // 1000
    # (key, channel type, label, builder(i, k) -> request bytes); ids unique over the whole run.
    rows: list[tuple[str, str, str, Callable[[int, int], bytes]]] = [
        (
            "api",
            "api",
            "API",
            lambda i, k: api_request(api_inbox["webhook_path"], api_inbox["secrets"]["hmac_secret"], i, k),
        ),
        ("line", "line", "LINE", lambda i, k: line_request(line_inbox["webhook_path"], i, k, now_ms)),
        (
            "wechat",
            "wechat",
            "WeChat (plaintext mode)",
            lambda i, k: wechat_request(wechat_plain["webhook_path"], i, k, now_s),
        ),
    ]
    if crypto is not None:
        rows.append(
            (
                "wechat_safe",
                "wechat",
                "WeChat (safe mode, AES)",
                lambda i, k: wechat_request(wechat_safe["webhook_path"], i, k, now_s, crypto),
            )
        )
    rows += [
        (
            "telegram",
            "telegram",
            "Telegram",
            lambda i, k: telegram_request(telegram["webhook_path"], tg_secret, i, k, now_s),
        ),
        (
            "api_again",
            "api",
            "API (again, after the others)",
            lambda i, k: api_request(api_inbox["webhook_path"], api_inbox["secrets"]["hmac_secret"], i, k),
        ),
    ]
    out: dict[str, Any] = {
        "rows": {},
        "stub": stub.url,
        "pointed_at_stub": list(PROVIDER_SETTINGS),
        "wechat_safe_measured": crypto is not None,
    }
    cap = cfg["ingest_max_requests"]
    # Contacts are fresh for every row (as for the API row): a row's first `contacts` messages
    # each make a contact and open a conversation (and queue a profile look-up on LINE, WeChat).
    for n, (key, channel, label, build) in enumerate(rows):
        before = await _ingested(api)
        base = (n + 1) * 10_000_000
        contact_base = n * cfg["contacts"] * 10
        requests = [build(base + i, contact_base + i % cfg["contacts"]) for i in range(cap)]
        tput = await closed_loop(
            port,
            requests,
            connections=cfg["ingest_connections"],
            duration=cfg["ingest_seconds"],
            warmup=cfg["ingest_warmup"],
        )
        del requests
        tput["label"] = label
        out["rows"][key] = tput
        log(
            f"  channel {label}: {tput['rate']:.0f} msg/s (errors {tput['errors']} {tput['first_error']}) "
            f"ack p50 {tput['latency_p50'] * 1000:.2f} ms p99 {tput['latency_p99'] * 1000:.2f} ms"
        )
        out["provider_calls"] = await _settle(stub)
        after = await _ingested(api)
        # What became of every request of the row (warm-up and tail included): all "stored" when
        # the requests are what the channel's parser takes.
        tput["outcomes"] = {
            o: int(v - before.get((c, o), 0.0))
            for (c, o), v in after.items()
            if c == channel and v > before.get((c, o), 0.0)
        }
        log(f"  channel {label}: events by outcome {tput['outcomes']}")
    rows_ = out["rows"]
    api_rates = [rows_[k]["rate"] for k in ("api", "api_again") if k in rows_]
    reference = sum(api_rates) / len(api_rates)
    out["reference_rate"] = reference
    for key, row in rows_.items():
        if key.startswith("api"):
            continue
        row["ratio"] = row["rate"] / reference if reference else 0.0
        clean = not row["errors"] and set(row["outcomes"]) == {"stored"}
        row["verdict"] = "met" if row["ratio"] >= RATIO_GOAL and clean else "missed"
        log(
            f"  {row['label']}: {row['rate']:.0f} msg/s beside API {reference:.0f} msg/s = "
            f"{row['ratio']:.2f} of it: {row['verdict']} (goal ≥ {RATIO_GOAL})"
        )
    log(f"  provider calls answered by the stub at {stub.url}: {out.get('provider_calls', {})}")
    return out
