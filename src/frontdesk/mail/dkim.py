"""DKIM for replies sent from an inbox's own address (PRODUCT E2): the inbox's RSA key and the
signing of a built message (dkimpy, untyped, wrapped here).

The signature covers bytes; the message that travels must be those bytes. So the message is
flattened the way SMTP sends it, signed, and parsed back with the signature on top: a parsed
message is written out again as it was read (its header lines are kept as they were), and
relaxed canonicalisation forgives what re-folding could still change.
"""

from __future__ import annotations

import base64
import email
from email.message import EmailMessage
from email.policy import SMTP

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["SIGNED_HEADERS", "DkimError", "generate_private_key", "public_key", "sign_message"]

KEY_BITS = 2048
# Headers a reply carries that a forger would want to change; listed even when absent, so they
# cannot be added on the way either (RFC 6376 §5.4).
SIGNED_HEADERS = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
)


class DkimError(ValueError):
    """The stored key cannot sign (not a PEM RSA key)."""


def generate_private_key() -> str:
    """A new RSA key as PEM (PKCS#1, which every DKIM library reads)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key(private_pem: str) -> str:
    """The p= value of the DNS record: the public key as base64 DER (SubjectPublicKeyInfo)."""
    try:
        key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise DkimError(f"the DKIM private key is not a PEM key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimError("the DKIM private key is not an RSA key")
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def sign_message(message: EmailMessage, domain: str, selector: str, private_pem: str) -> EmailMessage:
    """The message with a DKIM-Signature header (d=domain, s=selector), relaxed/relaxed, sha256."""
    # 7bit: a server without 8BITMIME would otherwise get the text re-encoded after signing.
    raw = message.as_bytes(policy=SMTP.clone(cte_type="7bit"))
    try:
        signature = dkim.sign(
            raw,
            selector.encode("ascii"),
            domain.encode("idna"),
            private_pem.encode("ascii"),
            canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=b"rsa-sha256",
            include_headers=[h.encode("ascii") for h in SIGNED_HEADERS],
        )
    except (dkim.DKIMException, UnicodeError) as exc:
        raise DkimError(f"cannot DKIM-sign: {exc}") from None
    signed = email.message_from_bytes(signature + raw, policy=message.policy)
    assert isinstance(signed, EmailMessage)  # the policy's message factory is EmailMessage
    return signed
