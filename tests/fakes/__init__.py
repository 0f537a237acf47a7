"""TEST EQUIPMENT ONLY: fake provider servers and signers for the channel tests.

Nothing under src/ may import this package (tests/test_layers.py checks it). A fake provider is a
real HTTP server on 127.0.0.1 that records every call and answers as scripted, so a channel's
client code runs unchanged against it (docs/channels/README.md, "The fake provider").
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
