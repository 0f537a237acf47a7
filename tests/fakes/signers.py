"""TEST EQUIPMENT: the signature schemes providers use, written out independently of
src/frontdesk/security.py so a test signs the way the provider does, not the way we verify."""

from __future__ import annotations

import base64
import hashlib
import hmac


def hmac_sha256_hex(secret: str | bytes, body: bytes, prefix: str = "sha256=") -> str:
    """Frontdesk's API channel (X-Frontdesk-Signature), Meta's X-Hub-Signature-256, GitHub."""
    key = secret.encode() if isinstance(secret, str) else secret
    return prefix + hmac.new(key, body, hashlib.sha256).hexdigest()


def hmac_sha256_base64(secret: str | bytes, body: bytes) -> str:
    """LINE's x-line-signature: the base64 HMAC-SHA256 of the body with the channel secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def wechat_sha1(token: str, timestamp: str, nonce: str) -> str:
    """WeChat's `signature` query parameter: SHA1 of token, timestamp and nonce, sorted and joined."""
    return hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()


def secret_token_header(secret: str, name: str = "X-Telegram-Bot-Api-Secret-Token") -> dict[str, str]:
    """Telegram's scheme: the secret given at setWebhook, sent back verbatim in a header."""
    return {name: secret}
