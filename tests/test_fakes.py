"""The fake provider harness (tests/fakes/) does what the channel tests rely on it for."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import httpx

from frontdesk.security import signature_matches
from tests.fakes import (
    Answer,
    FakeProvider,
    hmac_sha256_base64,
    hmac_sha256_hex,
    rate_limited,
    rejected,
    secret_token_header,
    unavailable,
    wechat_sha1,
)


def test_signers_follow_each_provider_scheme() -> None:
    body = b'{"events":[]}'
    # Our own verifier accepts the harness's HMAC-hex signature, and refuses a changed body.
    assert signature_matches("s3cret", body, hmac_sha256_hex("s3cret", body))
    assert not signature_matches("s3cret", body + b" ", hmac_sha256_hex("s3cret", body))
    assert hmac_sha256_hex("k", b"", prefix="") == hmac.new(b"k", b"", hashlib.sha256).hexdigest()
    assert base64.b64decode(hmac_sha256_base64("k", body)) == hmac.new(b"k", body, hashlib.sha256).digest()
    # WeChat sorts the three strings before hashing: the order they are given in does not matter.
    assert wechat_sha1("token", "1700000000", "nonce") == wechat_sha1("token", "1700000000", "nonce")
    assert wechat_sha1("b", "a", "c") == hashlib.sha1(b"abc").hexdigest()
    assert secret_token_header("t") == {"X-Telegram-Bot-Api-Secret-Token": "t"}


async def test_scripted_answers_then_default_and_every_call_recorded(fake_provider: FakeProvider) -> None:
    refusal = rejected(400, 131026, "Receiver incapable")
    fake_provider.script("/send", rate_limited(7), unavailable(502), refusal)
    async with httpx.AsyncClient(base_url=fake_provider.url, timeout=5) as client:
        answers = [await client.post("/send", json={"n": n}, headers={"X-Test": str(n)}) for n in range(4)]
        other = await client.get("/other?a=1")
    assert [a.status_code for a in answers] == [429, 502, 400, 200]
    assert answers[0].headers["retry-after"] == "7"
    assert answers[2].json()["error"]["code"] == 131026
    calls = fake_provider.calls_to("/send")
    assert [c.json()["n"] for c in calls] == [0, 1, 2, 3]
    assert [c.headers["x-test"] for c in calls] == ["0", "1", "2", "3"]
    assert calls[0].time <= calls[3].time
    assert other.status_code == 200 and fake_provider.calls_to("/other")[0].query == {"a": "1"}


async def test_media_expires_after_its_time_or_when_flagged(fake_provider: FakeProvider) -> None:
    short = fake_provider.serve_media("/m/1", b"\x89PNG\r\n\x1a\nxx", "image/png", expires_in=0.3)
    flagged = fake_provider.serve_media("/m/2", b"abc", "text/plain", expired_status=410)
    async with httpx.AsyncClient(timeout=5) as client:
        first = await client.get(short)
        assert (first.status_code, first.content, first.headers["content-type"]) == (
            200,
            b"\x89PNG\r\n\x1a\nxx",
            "image/png",
        )
        assert (await client.get(flagged)).status_code == 200
        fake_provider.expire("/m/2")
        assert (await client.get(flagged)).status_code == 410
        await asyncio.sleep(0.35)
        assert (await client.get(short)).status_code == 404


async def test_a_slow_answer_exceeds_a_client_timeout(fake_provider: FakeProvider) -> None:
    fake_provider.answer("/slow", Answer(delay=0.5))
    async with httpx.AsyncClient(timeout=0.1) as client:
        try:
            await client.get(fake_provider.url_for("/slow"))
        except httpx.TimeoutException:
            pass
        else:
            raise AssertionError("the slow answer came in time")
    await fake_provider.wait_for("/slow")
