"""Sending email through an SMTP server (aiosmtplib), with a deadline.

Used by the job handlers (password resets, invitations) with the installation's relay; the email
channel reuses it for replies, through the relay or an own-server inbox's SMTP server.
Certificates are always verified (mail_tls_context).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Literal

import aiosmtplib

from frontdesk.domain.enums import FailureReason
from frontdesk.mail.tls import cause_of, mail_tls_context

__all__ = ["MailConfig", "MailError", "Security", "build_message", "send_mail", "smtp_failure", "smtp_reason"]

# ssl: TLS from the first byte (usually port 465); starttls: upgrade after EHLO, required (587);
# none: plain text, for a server on a trusted network.
Security = Literal["ssl", "starttls", "none"]


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str
    password: str
    security: Security
    mail_from: str
    timeout: float
    ca_file: Path | None = None  # trusted beside the system's authorities

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class MailError(Exception):
    """Sending failed: `code` says what kind of failure, `reason` in the server's own words.
    `retryable` says whether trying again later can help (a 4xx answer or a network problem) or
    not (a 5xx answer: a refused recipient, a wrong password)."""

    def __init__(self, code: FailureReason, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.retryable = retryable


def build_message(config: MailConfig, to: str, subject: str, text: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=config.mail_from.rsplit("@", 1)[-1].strip("> ") or None)
    msg.set_content(text)
    return msg


def smtp_reason(exc: aiosmtplib.SMTPException) -> str:
    """The server's own words, e.g. "SMTP 535 5.7.8 Authentication failed"."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "SMTP " + "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"SMTP {exc.code} {exc.message}"
    return f"SMTP: {exc}"


_AUTH_CODES = (530, 534, 535, 538)


def smtp_failure(exc: aiosmtplib.SMTPException) -> FailureReason:
    """The kind of failure an SMTP server's answer (or aiosmtplib's error) means."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return FailureReason.RECIPIENT_REFUSED
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return FailureReason.AUTH_FAILED
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # 552 and the enhanced status 5.3.4 are how servers say a message is over their size limit.
        if exc.code == 552 or "5.3.4" in exc.message:
            return FailureReason.TOO_LARGE
        if exc.code in _AUTH_CODES:
            return FailureReason.AUTH_FAILED
        return FailureReason.PROVIDER_REJECTED if exc.code >= 500 else FailureReason.PROVIDER_UNAVAILABLE
    # The bare class or SMTPNotSupported: the server lacks what the settings ask for.
    return FailureReason.MISCONFIGURED


def _permanent(exc: aiosmtplib.SMTPException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    # aiosmtplib raises the bare class when the server lacks what the settings ask for (STARTTLS,
    # a login method): trying again cannot help. Its subclasses (lost connection, timeout) can.
    return type(exc) is aiosmtplib.SMTPException or isinstance(exc, aiosmtplib.SMTPNotSupported)


async def send_mail(config: MailConfig, message: EmailMessage) -> None:
    """Deliver one message to the SMTP server, or raise MailError."""
    if not config.enabled:
        raise MailError(
            FailureReason.NO_RELAY_CONFIGURED,
            "no SMTP server is configured (FRONTDESK_SMTP_HOST)",
            retryable=False,
        )
    try:
        # aiosmtplib's timeout bounds each step; the outer one bounds the whole conversation.
        async with asyncio.timeout(config.timeout * 3):
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                use_tls=config.security == "ssl",
                start_tls=config.security == "starttls",
                tls_context=mail_tls_context(config.ca_file),
                timeout=config.timeout,
            )
    except TimeoutError:
        raise MailError(
            FailureReason.TIMEOUT, f"the SMTP server {config.host} did not answer in time", retryable=True
        ) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise _mail_error(config, exc) from exc


def _mail_error(config: MailConfig, exc: aiosmtplib.SMTPException | OSError) -> MailError:
    bad_certificate = cause_of(exc, ssl.SSLCertVerificationError)
    if bad_certificate is not None:
        # A wrong or expired certificate needs a person, not a retry.
        return MailError(
            FailureReason.CERTIFICATE_UNTRUSTED,
            f"the certificate of the SMTP server {config.host} is not trusted: "
            f"{bad_certificate.verify_message or bad_certificate}",
            retryable=False,
        )
    if isinstance(exc, aiosmtplib.SMTPConnectError | OSError) and not isinstance(
        exc, aiosmtplib.SMTPResponseException
    ):
        code = (
            FailureReason.TIMEOUT
            if isinstance(exc, TimeoutError)  # aiosmtplib's SMTPTimeoutError is one
            else FailureReason.CONNECTION_FAILED
        )
        return MailError(code, f"cannot reach the SMTP server {config.host}: {exc}", retryable=True)
    assert isinstance(exc, aiosmtplib.SMTPException)
    return MailError(smtp_failure(exc), smtp_reason(exc), retryable=not _permanent(exc))
