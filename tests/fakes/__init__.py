"""TEST EQUIPMENT ONLY: fake provider servers and signers for the channel tests.

Nothing under src/ may import this package (tests/test_layers.py checks it). A fake provider is a
real HTTP server on 127.0.0.1 that records every call and answers as scripted, so a channel's
client code runs unchanged against it (decision 0040). Use:

    async def test_x(server, http, fake_provider):       # fixtures in tests/conftest.py
        fake_provider.script("/send", rate_limited(2))    # then the path's default, 200 {}
        url = fake_provider.serve_media("/m/1", PNG, "image/png", expires_in=60)
        ...
        [call] = fake_provider.calls_to("/send")          # method, path, headers, body, time

`loopback_channel` installs tests/fakes/channel.py, a bot-API style channel that talks to it.
"""

from tests.fakes.provider import (
    Answer,
    Call,
    FakeProvider,
    expired,
    media,
    rate_limited,
    rejected,
    unavailable,
)
from tests.fakes.signers import hmac_sha256_base64, hmac_sha256_hex, secret_token_header, wechat_sha1

__all__ = [
    "Answer",
    "Call",
    "FakeProvider",
    "expired",
    "hmac_sha256_base64",
    "hmac_sha256_hex",
    "media",
    "rate_limited",
    "rejected",
    "secret_token_header",
    "unavailable",
    "wechat_sha1",
]
