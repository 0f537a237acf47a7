"""Sending email through the configured SMTP server (aiosmtplib), with a deadline.

Used by the job handlers (password resets, invitations); the email channel reuses it for replies.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    mail_from: str
    timeout: float

    @property
    def enabled(self) -> bool:
        return bool(self.host)


class MailError(Exception):
    """Sending failed. `retryable` says whether trying again later can help (a 4xx answer or a
    network problem) or not (a 5xx answer: a refused recipient, a wrong password)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
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


def _permanent(exc: aiosmtplib.SMTPException) -> bool:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500
    return False


async def send_mail(config: MailConfig, message: EmailMessage) -> None:
    """Deliver one message to the SMTP server, or raise MailError."""
    if not config.enabled:
        raise MailError("no SMTP server is configured (FRONTDESK_SMTP_HOST)", retryable=False)
    try:
        # aiosmtplib's timeout bounds each step; the outer one bounds the whole conversation.
        async with asyncio.timeout(config.timeout * 3):
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username or None,
                password=config.password or None,
                start_tls=config.starttls,
                timeout=config.timeout,
            )
    except TimeoutError:
        raise MailError(f"the SMTP server {config.host} did not answer in time", retryable=True) from None
    except aiosmtplib.SMTPException as exc:
        raise MailError(f"SMTP: {exc}", retryable=not _permanent(exc)) from exc
    except OSError as exc:
        raise MailError(f"cannot reach the SMTP server {config.host}: {exc}", retryable=True) from exc
