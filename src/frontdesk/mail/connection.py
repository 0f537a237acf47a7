"""What a *Test connection* of an own-server email inbox reports (E3): the stage that failed,
the server's own words, and advice for the providers whose refusals confuse people.

The IMAP check (mail/imap.py) and the SMTP check (mail/smtp_check.py) walk the same stages in
order: dns → connect → tls → login → (IMAP) folder; the first failure ends the check.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Advice", "ConnectionReport", "Stage", "StageFailed", "mail_tls_context", "provider_advice"]

Stage = Literal["dns", "connect", "tls", "login", "folder"]
STAGES: tuple[Stage, ...] = ("dns", "connect", "tls", "login", "folder")
# Codes, not sentences: the dashboard words them in the agent's language.
Advice = Literal["gmail_app_password", "outlook_app_password"]

_GMAIL = ("gmail.com", "googlemail.com")
_OUTLOOK = ("outlook.com", "office365.com", "hotmail.com", "live.com")


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    stage: Stage | None  # the failing stage; None when everything passed
    detail: str  # English, with the server's own text where it gave one
    passed: tuple[Stage, ...]  # the stages that passed, in order
    advice: Advice | None = None


class StageFailed(Exception):
    """One stage of a connection failed; `detail` says how, in the server's words if any."""

    def __init__(self, stage: Stage, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage: Stage = stage
        self.detail = detail


def provider_advice(host: str) -> Advice | None:
    """Gmail and Outlook refuse the account password over IMAP/SMTP: they need an app password
    (with two-step verification on), which the seed's setup screen tells people."""
    name = host.strip().lower().rstrip(".")
    if any(name == d or name.endswith("." + d) for d in _GMAIL):
        return "gmail_app_password"
    if any(name == d or name.endswith("." + d) for d in _OUTLOOK):
        return "outlook_app_password"
    return None


def mail_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates are always verified: the system's authorities, plus FRONTDESK_MAIL_CA_FILE."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context
