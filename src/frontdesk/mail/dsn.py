"""Reading a delivery status notification (RFC 3464, the message/delivery-status part of a
multipart/report bounce): for each recipient, what happened and the receiving server's reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy as email_policy
from email.parser import BytesHeaderParser

__all__ = ["RecipientStatus", "read_report", "summary"]

MAX_RECIPIENTS = 50
MAX_FIELD = 500
_BLOCK_GAP = re.compile(rb"\r?\n[ \t]*\r?\n")


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str  # the address (its "rfc822;" type taken off)
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # the enhanced status code, e.g. 5.2.2
    diagnostic: str  # the receiving server's own words, e.g. "552 5.2.2 mailbox full"


def _field(value: object) -> str:
    """A field's value unfolded, its address or diagnostic type ("rfc822;", "smtp;") off."""
    text = " ".join(str(value or "").split())
    kind, sep, rest = text.partition(";")
    if sep and re.fullmatch(r"[A-Za-z0-9-]{1,20}", kind.strip()):
        text = rest.strip()
    return text[:MAX_FIELD]


def read_report(report: bytes) -> tuple[RecipientStatus, ...]:
    """The per-recipient fields of a delivery-status part (the per-message block, which names
    the reporting server, has no Final-Recipient and is passed over)."""
    found: list[RecipientStatus] = []
    for block in _BLOCK_GAP.split(report.strip()):
        fields = BytesHeaderParser(policy=email_policy.compat32).parsebytes(block.strip() + b"\n")
        recipient = _field(fields.get("final-recipient") or fields.get("original-recipient"))
        if not recipient:
            continue
        found.append(
            RecipientStatus(
                recipient,
                _field(fields.get("action")).lower(),
                _field(fields.get("status")),
                _field(fields.get("diagnostic-code")),
            )
        )
        if len(found) >= MAX_RECIPIENTS:
            break
    return tuple(found)


def summary(statuses: tuple[RecipientStatus, ...]) -> str:
    """One line per recipient for the message text: the address, its status and action, and
    the server's reason; the fields as the report gives them (no words of ours to translate)."""
    lines = []
    for s in statuses:
        head = " ".join(part for part in (s.status, s.action) if part)
        line = f"{s.recipient}: {head}" if head else s.recipient
        lines.append(f"{line} — {s.diagnostic}" if s.diagnostic else line)
    return "\n".join(lines)
