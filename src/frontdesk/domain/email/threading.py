"""Pure rules for email threading: reply-address tokens, subject normalising and recognising
mail that must never be answered automatically (auto-replies, bounces, mailing lists)."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Literal

MailKind = Literal["normal", "auto_reply", "bounce", "list"]

REPLY_LOCAL_PREFIX = "reply+"
# 80 bits of HMAC: enough that guessing a token for another conversation is hopeless, short enough
# to keep the Reply-To address readable. Hex keeps it safe when mail systems lower-case addresses.
_MAC_HEX = 20
_TOKEN = re.compile(r"^(\d{1,18})-([0-9a-f]{20})$")


def _mac(conversation_id: int, secret: str) -> str:
    # The prefix separates this use of the inbox secret from any other.
    body = f"frontdesk-reply-token:{conversation_id}".encode()
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()[:_MAC_HEX]


def make_reply_token(conversation_id: int, secret: str) -> str:
    """The token S puts in Reply-To as reply+<token>@<hosted domain>."""
    return f"{conversation_id}-{_mac(conversation_id, secret)}"


def reply_address(conversation_id: int, secret: str, domain: str) -> str:
    return f"{REPLY_LOCAL_PREFIX}{make_reply_token(conversation_id, secret)}@{domain.lower()}"


def token_of_address(address: str) -> str | None:
    """The token in reply+<token>@domain, unverified; None for any other address."""
    local = address.strip().lower().rsplit("@", 1)[0]
    if not local.startswith(REPLY_LOCAL_PREFIX):
        return None
    token = local[len(REPLY_LOCAL_PREFIX) :]
    return token if _TOKEN.match(token) else None


def token_conversation_id(token: str) -> int | None:
    """The conversation a token claims to name, before checking it (to find the inbox whose
    secret verifies it)."""
    match = _TOKEN.match(token.strip().lower())
    return int(match.group(1)) if match else None


def check_reply_token(token: str, secret: str) -> int | None:
    """The conversation id if the token was made with this secret, else None."""
    match = _TOKEN.match(token.strip().lower())
    if match is None or not secret:
        return None
    conversation_id = int(match.group(1))
    # Bytes: the regex admits only hex today, and compare_digest refuses non-ASCII str.
    same = hmac.compare_digest(match.group(2).encode(), _mac(conversation_id, secret).encode())
    return conversation_id if same else None


def reply_tokens(addresses: Iterable[str]) -> list[str]:
    """Every well-formed reply token among these addresses, in order, without repeats."""
    found: list[str] = []
    for address in addresses:
        token = token_of_address(address)
        if token is not None and token not in found:
            found.append(token)
    return found


# Reply and forward prefixes in the languages our users write in (English, German, Nordic, Dutch,
# Turkish "YNT"/"İLT", Persian "پاسخ"/"هدایت"), repeated or bracket-counted ("Re[2]:").
_PREFIX = re.compile(
    r"^\s*(?:re|fw|fwd|aw|wg|sv|vs|antw|ynt|yan[ıi]t|[iİ]lt|cvp|پاسخ|هدایت|بازارسال)\s*(?:\[\d+\])?\s*[:：]\s*",
    re.IGNORECASE,
)


def normalize_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and extra spaces (for display and matching)."""
    text = " ".join(subject.split())
    while True:
        stripped = _PREFIX.sub("", text, count=1)
        if stripped == text:
            return text
        text = stripped


_AUTO_SUBJECT = re.compile(
    r"^\s*(?:automatic reply|auto(?:matic)?[- ]?reply|out of (?:the )?office|autoreply|"
    r"otomatik yan[ıi]t|ofis d[ıi][şs][ıi]nda|پاسخ خودکار)\b",
    re.IGNORECASE,
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


def classify(
    headers: Mapping[str, str], content_type: str, report_type: str, sender: str | None, subject: str
) -> MailKind:
    """What kind of mail this is. `headers` maps lower-case header names to their (first) value
    (Return-Path: the envelope sender when the mail came by SMTP); `content_type` and
    `report_type` are the top-level part's; `sender` the From address."""

    def value(name: str) -> str:
        return headers.get(name, "").strip().lower()

    local = (sender or "").rsplit("@", 1)[0]
    if (content_type == "multipart/report" and report_type == "delivery-status") or local in _DAEMONS:
        return "bounce"
    auto_submitted = value("auto-submitted")
    precedence = value("precedence")
    if (
        (auto_submitted and auto_submitted != "no")
        or value("x-autoreply")
        or value("x-autorespond")
        or precedence == "auto_reply"
        or _AUTO_SUBJECT.match(subject)
    ):
        return "auto_reply"
    if value("return-path") == "<>":
        # The null return path is kept for delivery notifications (RFC 5321 4.5.5): not marked
        # as an auto-reply, such a mail is a bounce whatever its From says.
        return "bounce"
    if value("list-id") or value("list-unsubscribe") or precedence in ("bulk", "list", "junk"):
        return "list"
    return "normal"


def is_automatic(kind: MailKind) -> bool:
    """Sent by a machine on its own, not by a person waiting for an answer: it must not reopen
    a conversation or count as unread. List mail is not: a customer may write from a group."""
    return kind in ("auto_reply", "bounce")


def from_mail_system(kind: MailKind) -> bool:
    """Sent by a delivery system (MAILER-DAEMON, postmaster, a null return path, a delivery
    report) about a mail, rather than by a person: never a contact of its own."""
    return kind == "bounce"
