"""`frontdesk send-test-mail`: one plain mail handed to an SMTP server, as a customer's mail
server would hand it over, with nothing to install (Python's smtplib)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.policy import SMTPUTF8
from email.utils import formatdate, make_msgid, parseaddr

__all__ = ["SendFailed", "send_test_mail"]


class SendFailed(Exception):
    """The mail was not accepted; the message says at which step and what the server answered."""


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


def send_test_mail(host: str, port: int, *, sender: str, to: str, subject: str, text: str) -> str:
    """Send the mail; returns the server's answer to its DATA ("250 …")."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="send-test-mail.localhost")
    msg.set_content(text)
    envelope_from, envelope_to = parseaddr(sender)[1], parseaddr(to)[1]
    try:
        with smtplib.SMTP(host, port, timeout=10) as smtp:
            _expect("EHLO", *smtp.ehlo("send-test-mail.localhost"))
            _expect("MAIL FROM", *smtp.mail(envelope_from))
            _expect("RCPT TO", *smtp.rcpt(envelope_to))
            code, answer = smtp.data(msg.as_bytes(policy=SMTPUTF8))
    except smtplib.SMTPDataError as exc:
        raise SendFailed(f"the server refused DATA: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SendFailed(f"no answer from an SMTP server at {host}:{port} ({exc}); is it running?") from exc
    return f"{code} {_text(answer)}"


def _expect(step: str, code: int, answer: bytes) -> None:
    if not 200 <= code < 300:
        raise SendFailed(f"the server refused {step}: {code} {_text(answer)}")
