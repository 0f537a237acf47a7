"""An independent check of our WeChat crypto and parser against wechatpy (check_signature,
WeChatCrypto, parse_message), and the webhook fuzzed with random and mutated bodies: never a
5xx, never a crash."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from frontdesk.channels.wechat.crypto import aes_key, decrypt, encrypt, signature, signature_matches
from frontdesk.channels.wechat.parse import parse_push
from frontdesk.domain.inbound import InboundFollow, InboundMessage
from tests.channels.wechat.support import wechat_inbox
from tests.conftest import Server
from tests.fakes import FakeProvider
from tests.fakes.wechat import AES_KEY, APP_ID, TOKEN, encrypted, event, push, signed, text


@given(timestamp=st.integers(0, 2**33).map(str), nonce=st.text("0123456789abcdef", min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_our_signature_agrees_with_wechatpy(timestamp: str, nonce: str) -> None:
    sig = signature(TOKEN, timestamp, nonce)
    check_signature(TOKEN, sig, timestamp, nonce)  # raises if wechatpy disagrees
    assert signature_matches((TOKEN, timestamp, nonce), sig)
    assert not signature_matches((TOKEN, timestamp, nonce), sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    with pytest.raises(InvalidSignatureException):
        check_signature("other", sig, timestamp, nonce)


@given(body=st.text(min_size=0, max_size=300))
@settings(max_examples=60, deadline=None)
def test_our_encryption_and_wechatpys_decrypt_each_other(body: str) -> None:
    xml = f"<xml><Content><![CDATA[{body.replace(']]>', '')}]]></Content></xml>"
    key = aes_key(AES_KEY)
    # wechatpy's encryption, our decryption:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    sealed = encrypted(xml.encode())
    from xml.etree import ElementTree

    inner = ElementTree.fromstring(sealed.body).findtext("Encrypt") or ""
    assert decrypt(key, inner, APP_ID) == xml.encode()
    # our encryption, wechatpy's decryption (it checks msg_signature and the AppID):
    ours = encrypt(key, xml.encode(), APP_ID, os.urandom(16))
    ts, nonce = "1700000000", "42"
    msg_signature = signature(TOKEN, ts, nonce, ours)
    envelope = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{ours}]]></Encrypt></xml>"
    assert crypto.decrypt_message(envelope, msg_signature, ts, nonce) == xml


@pytest.mark.parametrize(
    "body",
    [
        text("hello", msg_id="1234567890123456"),
        push("image", PicUrl="http://x/y", MediaId="M1", MsgId="2"),
        push("voice", MediaId="V1", Format="amr", Recognition="你好", MsgId="3"),
        push("location", Location_X="23.1", Location_Y="113.2", Scale="20", Label="here", MsgId="4"),
        push("link", Title="t", Description="d", Url="https://e.example", MsgId="5"),
        event("subscribe", EventKey="qrscene_abc", Ticket="T"),
        event("SCAN", EventKey="abc", Ticket="T"),
        event("CLICK", EventKey="KEY_1"),
        event("unsubscribe"),
    ],
)
def test_our_parser_reads_what_wechatpy_reads(body: bytes) -> None:
    theirs = parse_message(body.decode())
    events = parse_push(body)
    first = events[0]
    if isinstance(first, InboundFollow):
        assert first.contact.source_id == theirs.source
        assert first.following == theirs.event.startswith("subscribe")
        if theirs.event == "subscribe_scan":  # wechatpy's name of a follow from a scene QR code
            assert first.referral is not None and first.referral.ref == theirs.scene_id
            assert isinstance(events[1], InboundMessage) and events[1].referral == first.referral
        return
    assert isinstance(first, InboundMessage)
    assert first.contact.source_id == theirs.source
    assert (
        first.provider_time is not None
        and int(first.provider_time.timestamp()) == theirs.create_time.timestamp()
    )
    if theirs.type == "text":
        assert first.text == theirs.content and first.source_id == str(theirs.id)
    if theirs.type == "image":
        assert first.media[0].reference == theirs.media_id
    if theirs.type == "voice":
        assert first.text == theirs.recognition
    if theirs.type == "location":
        assert first.location is not None
        assert (first.location.latitude, first.location.longitude) == tuple(map(float, theirs.location))
    if theirs.type == "event" and theirs.event == "scan":
        assert first.referral is not None and first.referral.ref == theirs.scene_id
    if theirs.type == "event" and theirs.event == "click":
        assert first.choice is not None and first.choice.choice_id == theirs.key


_SEEDS = [
    text("hello"),
    event("subscribe", EventKey="qrscene_1"),
    push("location", Location_X="1", Location_Y="2", MsgId="9"),
]


_BODIES = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda seed, at, junk: seed[:at] + junk + seed[at:],
        st.sampled_from(_SEEDS),
        st.integers(0, 200),
        st.binary(max_size=20),
    ),
    st.builds(lambda seed, n: seed[: max(len(seed) - n, 0)], st.sampled_from(_SEEDS), st.integers(0, 300)),
    st.text(max_size=200).map(lambda s: f"<xml><MsgType>{s}</MsgType><Content>{s}</Content></xml>".encode()),
)


def _fuzz(base: str, plain_path: str, safe_path: str) -> list[str]:
    """Runs outside the server's event loop (the test hands it to a thread)."""
    bad: list[str] = []

    @given(data=_BODIES, safe=st.booleans())
    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def run(data: bytes, safe: bool) -> None:
        request = encrypted(data) if safe and _utf8(data) else signed(data)
        r = client.post(safe_path if safe else plain_path, params=request.query, content=request.body)
        if r.status_code >= 500:
            bad.append(f"{r.status_code} for {data!r}")

    with httpx.Client(base_url=base, timeout=10) as client:
        run()
    return bad


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


async def test_fuzzed_pushes_never_make_a_5xx(
    server: Server, http: httpx.AsyncClient, fake_provider: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="plaintext")
    safe = await wechat_inbox(server, http, fake_provider, monkeypatch, mode="safe")
    assert await asyncio.to_thread(_fuzz, server.url, plain.path, safe.path) == []
