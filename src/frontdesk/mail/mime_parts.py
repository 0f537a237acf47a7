"""Walking a mail's MIME tree: its plain and HTML bodies, its files (attachments, inline images,
winmail.dat, attached mails, bounce reports) and what was wrong with it. Bounded in parts and depth."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email import errors as email_errors
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from pathlib import Path

from frontdesk.mail.charsets import decode_bytes, decode_header_value, raw_header
from frontdesk.mail.message_ids import message_ids

MAX_PARTS = 500
# Marks a part whose large body was decoded to a file before parsing (see spool_parts).
SPOOLED_HEADER = "X-Frontdesk-Spooled-Body"
MAX_DEPTH = 25


@dataclass(frozen=True)
class MailFile:
    """A file of a mail: its bytes in `content`, or, when it was large, in the file at `path`
    (decoded there from the spooled mail, which never held it whole; `content` is then empty)."""

    file_name: str
    content_type: str
    content: bytes
    content_id: str | None
    inline: bool
    path: Path | None = None

    @property
    def size(self) -> int:
        return len(self.content) if self.path is None else self.path.stat().st_size

    def head(self, count: int) -> bytes:
        """The first `count` bytes."""
        if self.path is None:
            return self.content[:count]
        with self.path.open("rb") as f:
            return f.read(count)


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
_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "application/x-pdf": "application/pdf",
    "application/x-zip-compressed": "application/zip",
    "application/x-zip": "application/zip",
    "text/x-csv": "text/csv",
}
_TNEF_NAMES = ("winmail.dat", "win.dat")
# Parts the standard parser reads as lists of messages that are one file to us.
_CONTAINERS = ("message/rfc822", "message/delivery-status")
DELIVERY_REPORT_FILE = "delivery-status.txt"  # a bounce's machine-readable report, as a file
_REPORT_PARTS = {
    "message/delivery-status": DELIVERY_REPORT_FILE,
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


@dataclass
class Parts:
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


def header_param(part: Message, name: str, header: str = "content-type") -> str:
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
    name = header_param(part, "filename", "content-disposition") or header_param(part, "name")
    name = " ".join(name.replace("\\", "/").rsplit("/", 1)[-1].split())[:255]
    return name or f"attachment-{index}{_EXTENSIONS.get(content_type, '.bin')}"


def _content(part: Message, body: Parts) -> bytes:
    payload = part.get_payload(decode=True)
    if any(isinstance(d, _BAD_ENCODING) for d in part.defects):
        body.problems.append("a part's base64 encoding is damaged")
    if isinstance(payload, bytes):
        return payload
    return b""


def _has_name(part: Message) -> bool:
    return bool(header_param(part, "filename", "content-disposition") or header_param(part, "name"))


def _is_body_text(part: Message, content_type: str) -> bool:
    """A text or HTML body of the mail rather than a file."""
    disposition = (part.get_content_disposition() or "").lower()
    return content_type in ("text/plain", "text/html") and disposition != "attachment" and not _has_name(part)


def _leaf_type(part: Message) -> str:
    content_type = part.get_content_type()
    if not content_type.isascii() or len(content_type) > 100:
        return "application/octet-stream"
    return content_type


def is_file_part(part: Message) -> bool:
    """Whether this leaf (judged by its headers alone) becomes one of the mail's files from its
    own decoded body (not the mail's text, not an attached mail)."""
    content_type = _leaf_type(part)
    return not (
        _is_body_text(part, content_type)
        or content_type.startswith(("multipart/", "message/"))
        or content_type in _CONTAINERS
    )


def _spooled(part: Message, spooled: Mapping[str, Path]) -> Path | None:
    for mark in part.get_all(SPOOLED_HEADER) or ():
        found = spooled.get(str(mark).strip())
        if found is not None:
            return found
    return None


def _leaf(part: Message, related: bool, body: Parts, spooled: Mapping[str, Path]) -> None:
    content_type = _leaf_type(part)
    disposition = (part.get_content_disposition() or "").lower()
    if _is_body_text(part, content_type):
        text = decode_bytes(_content(part, body), header_param(part, "charset") or None)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        (body.plain if content_type == "text/plain" else body.html).append(text)
        return
    if content_type.startswith("multipart/"):
        _recover(part, body, spooled)
        return
    path = _spooled(part, spooled) if spooled else None
    if path is not None:
        content = b""
    else:
        content = _content(part, body) if content_type not in _CONTAINERS else _attached_message(part)
    content_id = message_ids([raw_header(part, "content-id")])
    if path is None and not content and not content_id and not _has_name(part):
        return  # an empty part nothing names or points to: no file anyone could miss
    name = _file_name(part, content_type, len(body.files) + 1)
    if content_type in _REPORT_PARTS:
        # A bounce's report and the headers of the returned mail: readable text for the agent
        # (which address failed and why), kept under a plain type any inbox accepts.
        name, content_type = _REPORT_PARTS[content_type], "text/plain"
    if name.lower() in _TNEF_NAMES or content_type in ("application/ms-tnef", "application/vnd.ms-tnef"):
        content_type = "application/ms-tnef"  # Outlook's winmail.dat: passed through as it is
    else:
        content_type = _usual_type(content_type, name)
    body.files.append(
        MailFile(
            file_name=name,
            content_type=content_type,
            content=content,
            content_id=content_id[0] if content_id else None,
            inline=disposition == "inline" or (related and bool(content_id) and disposition != "attachment"),
            path=path,
        )
    )


def _usual_type(content_type: str, name: str) -> str:
    """Mail clients label files loosely (image/jpg, application/x-pdf, or application/octet-stream
    for everything); the usual name lets the inbox's type rules apply. The file's leading bytes
    are still checked against the type when it is stored."""
    content_type = _ALIASES.get(content_type, content_type)
    if content_type == "application/octet-stream":
        guessed, _ = mimetypes.guess_type(name, strict=False)
        if guessed:
            return _ALIASES.get(guessed, guessed)
    return content_type


def _attached_message(part: Message) -> bytes:
    """A forwarded-as-attachment mail, kept as its own .eml (or a delivery report's blocks)."""
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        blocks = [p.as_bytes(policy=email_policy.compat32) for p in payload if isinstance(p, Message)]
        return b"\n".join(blocks)
    raw = part.get_payload(decode=True)
    return raw if isinstance(raw, bytes) else b""


# A boundary line: "--", up to 70 characters without spaces (RFC 2046), nothing after.
_BOUNDARY_LINE = re.compile(rb"^--([^\s\"]{1,70})[ \t]*\r?$", re.MULTILINE)


def _recover(part: Message, body: Parts, spooled: Mapping[str, Path], again: bool = True) -> None:
    """A multipart whose parts the parser found none of (no boundary declared, or another one
    used than declared; the structure problem is already noted): its parts are read under the
    boundary its body does use, else its whole body is taken as plain text, so the text the
    sender wrote is still shown."""
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes) or not raw.strip():
        return
    found = _BOUNDARY_LINE.search(raw)
    if found is not None and raw.count(b"\n--" + found.group(1)) > MAX_PARTS:
        return  # more parts than are ever read: not parsed again for them
    if found is not None and again:
        head = b'Content-Type: multipart/mixed; boundary="' + found.group(1) + b'"\r\n\r\n'
        inner = message_from_bytes(head + raw, policy=email_policy.compat32)
        if inner.is_multipart():
            for child in inner.get_payload():
                if isinstance(child, Message):
                    _leaf_or_recover(child, body, spooled)
            return
    if found is None:
        body.plain.append(decode_bytes(raw, header_param(part, "charset") or None).replace("\r\n", "\n"))


def _leaf_or_recover(part: Message, body: Parts, spooled: Mapping[str, Path]) -> None:
    """One part of a recovered multipart: its leaves read as usual, nothing recovered twice."""
    for inner, _depth, related in _walk(part):
        if inner.is_multipart() and inner.get_content_type() not in _CONTAINERS:
            continue
        if inner.get_content_type().startswith("multipart/"):
            _recover(inner, body, spooled, again=False)
        else:
            _leaf(inner, related, body, spooled)


def collect_parts(msg: Message, spooled: Mapping[str, Path] | None = None) -> Parts:
    """`spooled`: the files of bodies taken out of the mail before parsing, by their marker."""
    body = Parts()
    try:
        for part, _depth, related in _walk(msg):
            if any(isinstance(d, _BAD_STRUCTURE) for d in part.defects):
                body.problems.append("the MIME structure is broken or cut off; parts may be missing")
            if not part.is_multipart() or part.get_content_type() in _CONTAINERS:
                try:
                    _leaf(part, related, body, spooled or {})
                except (ValueError, LookupError, TypeError, UnicodeError, AttributeError, IndexError):
                    # One unreadable part does not lose the others; the original is kept.
                    body.problems.append("a MIME part could not be read")
    except _TooComplex as e:
        body.problems.append(str(e))
    return body
