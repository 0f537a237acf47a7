"""Reading one incoming email (raw RFC 5322 bytes) into what the inbox stores: addresses,
threading headers, the new text, the folded history, safe HTML and files. Never raises; a mail
that cannot be read fully is still returned, with `problem` set and the original attached."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import errors as email_errors
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Literal

from frontdesk.domain.email_threading import MailKind, classify
from frontdesk.mail.charsets import decode_bytes, decode_header_value, raw_header
from frontdesk.mail.html_text import html_to_text
from frontdesk.mail.quotes import fold
from frontdesk.mail.sanitize import sanitize_html


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-case; a non-ASCII domain in its IDNA (xn--) form


@dataclass(frozen=True)
class MailFile:
    file_name: str
    content_type: str
    content: bytes
    content_id: str | None
    inline: bool


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    sender: Address | None
    reply_to: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    delivered_to: tuple[Address, ...]
    subject: str
    date: datetime | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    quoted: str
    html: str | None
    files: tuple[MailFile, ...]
    kind: Literal["normal", "auto_reply", "bounce", "list"]
    problem: str | None


# Bounds that keep parsing time linear in practice whatever the input (see scripts/fuzz-mail).
MAX_PARTS = 500
MAX_DEPTH = 25
MAX_HEADER_CHARS = 16_384
MAX_TEXT_CHARS = 65_536
MAX_HTML_CHARS = 2_000_000
# The sanitiser's time grows with the square of the nesting depth (200,000 nested <div>: 90 s);
# real mail stays far below this many tags. Beyond it the agent gets the text only.
MAX_HTML_TAGS = 25_000
MAX_IDS = 100
MAX_ADDRESS = 254  # RFC 5321's limit, and within the 255 of a contact identity's source_id
MAX_ID_CHARS = 255  # a message's source_id column; longer ids are replaced by their hash
RAW_FILE_NAME = "message.eml"
_MSG_ID = re.compile(r"<([^<>\s]{1,2000})>")
_BAD_STRUCTURE = (
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.CloseBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
    email_errors.NoBoundaryInMultipartDefect,
)
_BAD_ENCODING = (
    email_errors.InvalidBase64PaddingDefect,
    email_errors.InvalidBase64CharactersDefect,
    email_errors.InvalidBase64LengthDefect,
)
_TNEF_NAMES = ("winmail.dat", "win.dat")
# Parts the standard parser reads as lists of messages that are one file to us.
_CONTAINERS = ("message/rfc822", "message/delivery-status")
_REPORT_PARTS = {
    "message/delivery-status": "delivery-status.txt",
    "text/rfc822-headers": "returned-headers.txt",
}
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
}


def _idna(domain: str) -> str:
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _address(name: str, address: str) -> Address | None:
    address = address.strip().strip("<>").strip()
    if "@" not in address or len(address) > MAX_ADDRESS or any(c.isspace() for c in address):
        return None
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return None
    domain = domain.lower().rstrip(".")
    if not domain.isascii():
        domain = _idna(domain)
    return Address(" ".join(name.split())[:200], f"{local.lower()}@{domain}")


_BARE_ADDRESS = re.compile(r"[^\s<>,;:\"()\[\]@]{1,64}@[^\s<>,;:\"()\[\]@]{1,255}")


def _split_addresses(value: str) -> list[tuple[str, str]]:
    try:
        return getaddresses([value])
    except RecursionError:
        # The standard parser recurses once per group ("name:"); a header of thousands of them
        # exhausts the stack. Fall back to the bare addresses, without names.
        return [("", found) for found in _BARE_ADDRESS.findall(value)]


def _addresses(values: Sequence[str], fallback: str | None = None) -> tuple[Address, ...]:
    found: list[Address] = []
    for value in values:
        # Names are decoded after splitting: an encoded-word may hide a comma or quote.
        for name, address in _split_addresses(value[:MAX_HEADER_CHARS]):
            parsed = _address(decode_header_value(name, fallback), decode_header_value(address, fallback))
            if parsed is not None and parsed not in found:
                found.append(parsed)
            if len(found) >= MAX_IDS:
                return tuple(found)
    return tuple(found)


def _message_ids(values: Sequence[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for raw in values:
        value = decode_header_value(raw[:MAX_HEADER_CHARS])
        found = [m.group(1) for m in _MSG_ID.finditer(value)]
        if not found and value.strip() and " " not in value.strip():
            found = [value.strip()]  # a bare id without <> (seen from broken clients)
        for message_id in map(_fit_id, found):
            if message_id not in ids:
                ids.append(message_id)
    return tuple(ids[:MAX_IDS])


def _fit_id(message_id: str) -> str:
    """Ids longer than the column are replaced by a stable hash: the same mail, or a reply
    referring to it, maps to the same value."""
    if len(message_id) <= MAX_ID_CHARS:
        return message_id
    return "long-" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


@dataclass
class _Body:
    """What walking the MIME tree collects."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    files: list[MailFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _walk(root: Message) -> Iterator[tuple[Message, int, bool]]:
    """Parts depth first without recursion, with their depth and whether they sit in a
    multipart/related (where images are the HTML's inline pictures)."""
    stack: list[tuple[Message, int, bool]] = [(root, 0, False)]
    seen = 0
    while stack:
        part, depth, related = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            raise _TooComplex(f"the message has more than {MAX_PARTS} MIME parts")
        yield part, depth, related
        # A forwarded-as-attachment mail stays one file rather than being read as our own parts.
        # (is_multipart first: get_payload() on a leaf decodes with its charset and may raise.)
        payload = part.get_payload() if part.is_multipart() else None
        if part.get_content_type() not in _CONTAINERS and isinstance(payload, list):
            if depth >= MAX_DEPTH:
                raise _TooComplex(f"MIME parts are nested more than {MAX_DEPTH} deep")
            inner = related or part.get_content_type() == "multipart/related"
            children = [child for child in reversed(payload) if isinstance(child, Message)]
            stack.extend((child, depth + 1, inner) for child in children)


class _TooComplex(Exception):
    pass


def _param(part: Message, name: str, header: str = "content-type") -> str:
    try:
        value = part.get_param(name, header=header)
    except (ValueError, LookupError, TypeError, AttributeError):
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, value)
        charset, _language, text = value
        raw = text.encode("latin-1", "replace") if isinstance(text, str) else bytes(text)
        return decode_bytes(raw, charset or "utf-8")
    return decode_header_value(str(value)) if value else ""


def _file_name(part: Message, content_type: str, index: int) -> str:
    name = _param(part, "filename", "content-disposition") or _param(part, "name")
    name = " ".join(name.replace("\\", "/").rsplit("/", 1)[-1].split())[:255]
    return name or f"attachment-{index}{_EXTENSIONS.get(content_type, '.bin')}"


def _content(part: Message, body: _Body) -> bytes:
    payload = part.get_payload(decode=True)
    if any(isinstance(d, _BAD_ENCODING) for d in part.defects):
        body.problems.append("a part's base64 encoding is damaged")
    if isinstance(payload, bytes):
        return payload
    return b""


def _leaf(part: Message, related: bool, body: _Body) -> None:
    content_type = part.get_content_type()
    if not content_type.isascii() or len(content_type) > 100:
        content_type = "application/octet-stream"
    disposition = (part.get_content_disposition() or "").lower()
    has_name = bool(_param(part, "filename", "content-disposition") or _param(part, "name"))
    if content_type in ("text/plain", "text/html") and disposition != "attachment" and not has_name:
        text = decode_bytes(_content(part, body), _param(part, "charset") or None)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        (body.plain if content_type == "text/plain" else body.html).append(text)
        return
    if content_type.startswith("multipart/"):
        return
    content = _content(part, body) if content_type not in _CONTAINERS else _attached_message(part)
    content_id = _message_ids([raw_header(part, "content-id")])
    name = _file_name(part, content_type, len(body.files) + 1)
    if content_type in _REPORT_PARTS:
        # A bounce's report and the headers of the returned mail: readable text for the agent
        # (which address failed and why), kept under a plain type any inbox accepts.
        name, content_type = _REPORT_PARTS[content_type], "text/plain"
    if name.lower() in _TNEF_NAMES or content_type in ("application/ms-tnef", "application/vnd.ms-tnef"):
        content_type = "application/ms-tnef"  # Outlook's winmail.dat: passed through as it is
    body.files.append(
        MailFile(
            file_name=name,
            content_type=content_type,
            content=content,
            content_id=content_id[0] if content_id else None,
            inline=disposition == "inline" or (related and bool(content_id) and disposition != "attachment"),
        )
    )


def _attached_message(part: Message) -> bytes:
    """A forwarded-as-attachment mail, kept as its own .eml (or a delivery report's blocks)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        blocks = [p.as_bytes(policy=email_policy.compat32) for p in payload if isinstance(p, Message)]
        return b"\n".join(blocks)
    raw = part.get_payload(decode=True)
    return raw if isinstance(raw, bytes) else b""


def _collect(msg: Message) -> _Body:
    body = _Body()
    try:
        for part, _depth, related in _walk(msg):
            if any(isinstance(d, _BAD_STRUCTURE) for d in part.defects):
                body.problems.append("the MIME structure is broken or cut off; parts may be missing")
            if not part.is_multipart() or part.get_content_type() in _CONTAINERS:
                try:
                    _leaf(part, related, body)
                except (ValueError, LookupError, TypeError, UnicodeError, AttributeError, IndexError):
                    # One unreadable part does not lose the others; the original is kept.
                    body.problems.append("a MIME part could not be read")
    except _TooComplex as e:
        body.problems.append(str(e))
    return body


def _choose_text(body: _Body) -> tuple[str, str | None]:
    """The plain text (from text/plain, else derived from the HTML) and the raw HTML."""
    html = "\n".join(body.html)[:MAX_HTML_CHARS] if body.html else None
    plain = "\n\n".join(p.strip("\n") for p in body.plain if p.strip())
    if not plain and html:
        plain = html_to_text(html)
    return plain, html


def _with_returned(references: tuple[str, ...], kind: MailKind, files: Sequence[MailFile]) -> tuple[str, ...]:
    """A bounce rarely says In-Reply-To, but it returns the failed mail's headers: their
    Message-ID (usually one of our replies) threads the bounce onto that conversation."""
    if kind != "bounce":
        return references
    found = list(references)
    for f in files:
        headers_file = f.file_name == "returned-headers.txt"
        if not headers_file and (f.content_type != "message/rfc822" or f.file_name == RAW_FILE_NAME):
            continue
        returned = BytesParser(policy=email_policy.compat32).parsebytes(
            f.content[:MAX_HEADER_CHARS], headersonly=True
        )
        for message_id in _message_ids([raw_header(returned, "message-id")]):
            if message_id not in found:
                found.append(message_id)
    return tuple(found[:MAX_IDS])


def _generated_id(raw: bytes) -> str:
    return "generated-" + hashlib.sha256(raw).hexdigest()


def _problem_result(raw: bytes, reason: str, envelope: Sequence[str]) -> ParsedEmail:
    return ParsedEmail(
        message_id=_generated_id(raw),
        sender=None,
        reply_to=(),
        to=(),
        cc=(),
        delivered_to=_addresses(list(envelope)),
        subject="",
        date=None,
        in_reply_to=(),
        references=(),
        text=_problem_note(reason),
        quoted="",
        html=None,
        files=(MailFile(RAW_FILE_NAME, "message/rfc822", raw, None, False),),
        kind="normal",
        problem=reason,
    )


def _problem_note(reason: str) -> str:
    return (
        f"[This email could not be read completely ({reason}). The original is attached as {RAW_FILE_NAME}.]"
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def _parse(raw: bytes, envelope: Sequence[str], failure: str | None = None) -> ParsedEmail:
    """The whole mail; with `failure` (why reading it whole failed) only its headers."""
    if failure is None:
        msg = message_from_bytes(raw, policy=email_policy.compat32)
    else:
        msg = BytesParser(policy=email_policy.compat32).parsebytes(raw, headersonly=True)
    header = {name: raw_header(msg, name) for name in _SINGLE_HEADERS}
    fallback = _param(msg, "charset") or None

    def decoded(name: str) -> str:
        return decode_header_value(header[name], fallback)[:MAX_HEADER_CHARS]

    def many(name: str) -> list[str]:
        return [raw_header(msg, name, index) for index in range(min(len(msg.get_all(name) or []), MAX_IDS))]

    senders = _addresses([header["from"]], fallback)
    sender = senders[0] if senders else None
    subject = " ".join(decoded("subject").split())
    body = _collect(msg) if failure is None else _Body(problems=[failure])
    plain, html = _choose_text(body)
    folded = fold(plain[: MAX_TEXT_CHARS * 2])
    problems = list(dict.fromkeys(body.problems))
    if not any(header[name].strip() for name in ("from", "date", "subject", "message-id")):
        problems.append("it has no From, Date, Subject or Message-ID header")
    problem = "; ".join(problems) or None
    text = _clip(folded.new)
    files = tuple(body.files)
    if problem:
        text = f"{text}\n\n{_problem_note(problem)}" if text.strip() else _problem_note(problem)
        files = (*files, MailFile(RAW_FILE_NAME, "message/rfc822", raw, None, False))
    ids = _message_ids([header["message-id"]])
    delivered = [*many("delivered-to"), *many("x-original-to"), *(f"<{a}>" for a in envelope)]
    kind: MailKind = classify(
        {name: decoded(name) for name in _KIND_HEADERS},
        msg.get_content_type(),
        (_param(msg, "report-type") or "").lower(),
        sender.address if sender else None,
        subject,
    )
    return ParsedEmail(
        message_id=ids[0] if ids else _generated_id(raw),
        sender=sender,
        reply_to=_addresses([header["reply-to"]], fallback),
        to=_addresses(many("to"), fallback),
        cc=_addresses(many("cc"), fallback),
        delivered_to=_addresses(delivered),
        subject=subject,
        date=_date(header["date"]),
        in_reply_to=_message_ids([header["in-reply-to"]]),
        references=_with_returned(_message_ids(many("references")), kind, files),
        text=text,
        quoted=_clip(folded.quoted),
        html=sanitize_html(html) if html is not None and html.count("<") <= MAX_HTML_TAGS else None,
        files=files,
        kind=kind,
        problem=problem,
    )


_KIND_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "list-id",
    "list-unsubscribe",
)
_SINGLE_HEADERS = ("from", "reply-to", "subject", "date", "message-id", "in-reply-to", *_KIND_HEADERS)


def parse_email(raw: bytes, envelope_recipients: Sequence[str] = ()) -> ParsedEmail:
    """Read one mail. `envelope_recipients` are the RCPT TO addresses the listener accepted
    (they join Delivered-To, which is where reply tokens of forwarded mail are found)."""
    try:
        return _parse(raw, envelope_recipients)
    except Exception as e:  # any failure becomes a stored, downloadable message
        failure = f"the parser failed: {type(e).__name__}"
    try:
        # The headers alone usually still read: sender, subject and threading are kept.
        return _parse(raw, envelope_recipients, failure)
    except Exception:
        return _problem_result(raw, failure, envelope_recipients)
