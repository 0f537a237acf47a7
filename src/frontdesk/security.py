"""Passwords, opaque tokens and the encryption of channel secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown email like a real one.
_DUMMY_HASH = _hasher.hash("frontdesk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """Tokens are stored as their SHA-256: a leaked table does not give working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same_secret(expected: str, given: str) -> bool:
    """Constant-time comparison of two secrets as UTF-8 bytes: compare_digest refuses str with
    characters outside ASCII (TypeError), and what a client sends may hold any."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def signature_matches(secret: str, body: bytes, header_value: str | None) -> bool:
    if not header_value:
        return False
    given = header_value.removeprefix("sha256=").strip()
    return same_secret(hmac_sha256_hex(secret, body), given)


class SecretBox:
    """Fernet encryption of a JSON object with a key derived from FRONTDESK_SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(("frontdesk-secrets:" + secret_key).encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            data = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ValueError("channel secrets cannot be decrypted: wrong FRONTDESK_SECRET_KEY?") from exc
        assert isinstance(data, dict)
        return data
