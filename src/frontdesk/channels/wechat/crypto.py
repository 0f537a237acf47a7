"""WeChat's signatures and its safe-mode encryption (WeChat's "message encryption" scheme).

Signature: SHA-1 of the token, timestamp and nonce (and, in safe mode, the Encrypt element)
sorted and joined, compared in constant time. Safe mode: AES-256-CBC with the 32-byte key
base64-decoded from the 43-character EncodingAESKey plus "=", the IV its first 16 bytes, PKCS#7
padding to 32-byte blocks; the plaintext is 16 random bytes, the XML's length (4 bytes, big
endian), the XML, and the account's AppID, which is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


class CryptoError(Exception):
    """The body cannot be decrypted with this inbox's key, or is for another account."""


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(expected_parts: tuple[str, ...], given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(signature(*expected_parts).encode(), given.strip().lower().encode())


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte key of a 43-character EncodingAESKey."""
    if len(encoding_aes_key.strip()) != 43:
        raise CryptoError("the EncodingAESKey must be 43 characters (letters and digits)")
    try:
        key = base64.b64decode(encoding_aes_key.strip() + "=", validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("the EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise CryptoError("the EncodingAESKey must be 43 characters (a 32-byte key)")
    return key


def decrypt(key: bytes, encrypted: str, app_id: str) -> bytes:
    """The XML inside an Encrypt element; CryptoError unless it decrypts and names `app_id`."""
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CryptoError("Encrypt is not base64") from None
    if not data or len(data) % 16:
        raise CryptoError("Encrypt is not whole AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding: wrong EncodingAESKey")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise CryptoError("too short")
    (length,) = struct.unpack(">I", plain[16:20])
    xml, tail = plain[20 : 20 + length], plain[20 + length :]
    if len(xml) != length:
        raise CryptoError("the stated length is wrong")
    if not hmac.compare_digest(tail, app_id.encode()):
        raise CryptoError("the message is for another AppID")
    return xml


def encrypt(key: bytes, xml: bytes, app_id: str, random_prefix: bytes | None = None) -> str:
    """The Encrypt element's text for `xml` (what WeChat sends; our tests and replies use it)."""
    plain = (random_prefix or os.urandom(16)) + struct.pack(">I", len(xml)) + xml + app_id.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
