"""Reading one incoming email (raw RFC 5322 bytes) into what the inbox stores: addresses,
threading headers, the new text, the folded history, safe HTML and files. Never raises; a mail
that cannot be read fully is still returned, with `problem` set and the original attached."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Literal

from frontdesk.domain.email.threading import MailKind, classify
from frontdesk.mail.charsets import decode_header_value, raw_header
from frontdesk.mail.dsn import RecipientStatus, read_report, summary
from frontdesk.mail.html_text import html_to_text
from frontdesk.mail.message_ids import MAX_HEADER_CHARS, MAX_IDS, message_ids
from frontdesk.mail.mime_parts import DELIVERY_REPORT_FILE, MailFile, Parts, collect_parts, header_param
from frontdesk.mail.quotes import Folded, fold
from frontdesk.mail.raw_text import first_plain_text
from frontdesk.mail.sanitize import sanitize_html
from frontdesk.mail.spool_parts import extract_large_bodies

__all__ = ["Address", "MailFile", "ParsedEmail", "mail_address", "parse_email", "parse_email_file"]


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-case; a non-ASCII domain in its IDNA (xn--) form


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
    # A delivery report's recipients (a bounce's Final-Recipient, Status, Diagnostic-Code).
    delivery: tuple[RecipientStatus, ...] = ()


# Bounds that keep parsing time linear in practice whatever the input (see scripts/fuzz-mail).
MAX_TEXT_CHARS = 65_536
MAX_HTML_CHARS = 2_000_000
# The sanitiser's time grows with the square of the nesting depth (200,000 nested <div>: 90 s);
# real mail stays far below this many tags. Beyond it the agent gets the text only.
MAX_HTML_TAGS = 25_000
MAX_ADDRESS = 254  # RFC 5321's limit, and within the 255 of a contact identity's source_id
RAW_FILE_NAME = "message.eml"


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


def mail_address(address: str, name: str = "") -> Address | None:
    """An address typed by a person, in the form mail from that address is stored under (the
    contact identity's source_id), or None when it is not an address."""
    found = _address(name, address)
    if (
        found is None
        or "@" in found.address.rpartition("@")[0]
        or "." not in found.address.rpartition("@")[2]
    ):
        return None
    return found


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


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _choose_text(body: Parts) -> tuple[str, str | None]:
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
            f.head(MAX_HEADER_CHARS), headersonly=True
        )
        for message_id in message_ids([raw_header(returned, "message-id")]):
            if message_id not in found:
                found.append(message_id)
    return tuple(found[:MAX_IDS])


class _Original:
    """The mail as received: attached when it cannot be read fully, hashed for a missing
    Message-ID (only then: most mails have one). Held in memory, or the spooled file when it
    was large."""

    def __init__(self, raw: bytes, path: Path | None = None) -> None:
        self.file = MailFile(RAW_FILE_NAME, "message/rfc822", raw, None, False, path)

    @functools.cached_property
    def generated_id(self) -> str:
        if self.file.path is None:
            return "generated-" + hashlib.sha256(self.file.content).hexdigest()
        digest = hashlib.sha256()
        with self.file.path.open("rb") as f:
            while chunk := f.read(1 << 18):
                digest.update(chunk)
        return "generated-" + digest.hexdigest()


def _problem_result(original: _Original, reason: str, envelope: Sequence[str]) -> ParsedEmail:
    return ParsedEmail(
        message_id=original.generated_id,
        sender=None,
        reply_to=(),
        to=(),
        cc=(),
        delivered_to=_addresses(list(envelope)),
        subject="",
        date=None,
        in_reply_to=(),
        references=(),
        text="",
        quoted="",
        html=None,
        files=(original.file,),
        kind="normal",
        problem=reason,
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


@dataclass(frozen=True)
class _Body:
    text: str
    quoted: str
    html: str | None
    files: tuple[MailFile, ...]
    problem: str | None
    delivery: tuple[RecipientStatus, ...] = ()


def _is_delivery_report(msg: Message) -> bool:
    return (
        msg.get_content_type() == "multipart/report"
        and (header_param(msg, "report-type") or "").lower() == "delivery-status"
    )


def _report_text(plain: str, files: Sequence[MailFile]) -> tuple[Folded, tuple[RecipientStatus, ...]]:
    """A delivery report's text: its human-readable part whole (the returned mail's headers in
    it are not an earlier message to fold: the reason often follows them), then one line per
    recipient from its machine-readable part."""
    report = next((f for f in files if f.file_name == DELIVERY_REPORT_FILE), None)
    statuses = read_report(report.head(MAX_TEXT_CHARS)) if report is not None else ()
    lines = summary(statuses)
    return Folded("\n\n".join(p for p in (plain.strip("\n"), lines) if p), ""), statuses


def _read_body(
    msg: Message,
    raw: bytes,
    original: _Original,
    failure: str | None,
    headerless: bool,
    spooled: Mapping[str, Path],
) -> _Body:
    """Text (folded), safe HTML and files; with a problem, the original mail attached (the
    message's annotation, made at intake from `problem`, says so)."""
    parts = collect_parts(msg, spooled) if failure is None else Parts(problems=[failure])
    if (failure is not None or parts.problems) and not parts.plain and not parts.html:
        # Parsing failed or gave up before any text: the first text part read from the bytes.
        parts.plain.append(first_plain_text(raw))
    plain, html = _choose_text(parts)
    statuses: tuple[RecipientStatus, ...] = ()
    if failure is None and _is_delivery_report(msg):
        folded, statuses = _report_text(plain[: MAX_TEXT_CHARS * 2], parts.files)
    else:
        folded = fold(plain[: MAX_TEXT_CHARS * 2])
    problems = list(dict.fromkeys(parts.problems))
    if headerless:
        problems.append("it has no From, Date, Subject or Message-ID header")
    problem = "; ".join(problems) or None
    text = _clip(folded.new)
    files = tuple(parts.files)
    if problem:
        files = (*files, original.file)
    safe_html = sanitize_html(html) if html is not None and html.count("<") <= MAX_HTML_TAGS else None
    return _Body(text, _clip(folded.quoted), safe_html, files, problem, statuses)


def _parse(
    raw: bytes,
    envelope: _Envelope,
    original: _Original,
    failure: str | None = None,
    spooled: Mapping[str, Path] | None = None,
) -> ParsedEmail:
    """The whole mail; with `failure` (why reading it whole failed) only its headers. `raw` is
    the mail itself or, with `spooled`, the mail with its large bodies taken out to files."""
    if failure is None:
        msg = message_from_bytes(raw, policy=email_policy.compat32)
    else:
        msg = BytesParser(policy=email_policy.compat32).parsebytes(raw, headersonly=True)
    header = {name: raw_header(msg, name) for name in _SINGLE_HEADERS}
    if envelope.sender is not None:
        header["return-path"] = f"<{envelope.sender.strip('<>')}>"
    fallback = header_param(msg, "charset") or None

    def decoded(name: str) -> str:
        return decode_header_value(header[name], fallback)[:MAX_HEADER_CHARS]

    def many(name: str) -> list[str]:
        return [raw_header(msg, name, index) for index in range(min(len(msg.get_all(name) or []), MAX_IDS))]

    senders = _addresses([header["from"]], fallback)
    sender = senders[0] if senders else None
    subject = " ".join(decoded("subject").split())
    headerless = not any(header[name].strip() for name in ("from", "date", "subject", "message-id"))
    body = _read_body(msg, raw, original, failure, headerless, spooled or {})
    ids = message_ids([header["message-id"]])
    delivered = [*many("delivered-to"), *many("x-original-to"), *(f"<{a}>" for a in envelope.recipients)]
    kind: MailKind = classify(
        {name: decoded(name) for name in _KIND_HEADERS},
        msg.get_content_type(),
        (header_param(msg, "report-type") or "").lower(),
        sender.address if sender else None,
        subject,
    )
    return ParsedEmail(
        message_id=ids[0] if ids else original.generated_id,
        sender=sender,
        reply_to=_addresses([header["reply-to"]], fallback),
        to=_addresses(many("to"), fallback),
        cc=_addresses(many("cc"), fallback),
        delivered_to=_addresses(delivered),
        subject=subject,
        date=_date(header["date"]),
        in_reply_to=message_ids([header["in-reply-to"]]),
        references=_with_returned(message_ids(many("references")), kind, body.files),
        text=body.text,
        quoted=body.quoted,
        html=body.html,
        files=body.files,
        kind=kind,
        problem=body.problem,
        delivery=body.delivery,
    )


_KIND_HEADERS = (
    "return-path",
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "list-id",
    "list-unsubscribe",
)
_SINGLE_HEADERS = ("from", "reply-to", "subject", "date", "message-id", "in-reply-to", *_KIND_HEADERS)


@dataclass(frozen=True)
class _Envelope:
    recipients: Sequence[str]
    sender: str | None


def parse_email(
    raw: bytes, envelope_recipients: Sequence[str] = (), *, envelope_sender: str | None = None
) -> ParsedEmail:
    """Read one mail. `envelope_recipients` are the RCPT TO addresses the listener accepted
    (they join Delivered-To, which is where reply tokens of forwarded mail are found);
    `envelope_sender` its MAIL FROM ("" for the null path), which stands for Return-Path."""
    return _parse_safely(raw, _Envelope(envelope_recipients, envelope_sender), _Original(raw))


def parse_email_file(
    path: Path, envelope_recipients: Sequence[str] = (), *, envelope_sender: str | None = None
) -> ParsedEmail:
    """Read one spooled mail without holding it whole: its large files are decoded into the
    spool's folder (next to `path`) and the result's MailFiles refer to them (and to `path` for
    the original); the caller removes the folder once the mail is stored. The result is the
    one parse_email gives for the same bytes."""
    original = _Original(b"", path)
    envelope = _Envelope(envelope_recipients, envelope_sender)
    extraction = extract_large_bodies(path, path.parent)
    if extraction is not None:
        mail = _parse_safely(extraction.mail, envelope, original, extraction.bodies)
        found = {f.path for f in mail.files}
        if all(p in found for p in extraction.bodies.values()):
            return mail
    # Not plain enough to take apart (or a taken-out body did not come back as a file, which
    # taking apart must never change): the whole mail is read the usual way.
    return _parse_safely(path.read_bytes(), envelope, original)


def _parse_safely(
    raw: bytes, envelope: _Envelope, original: _Original, spooled: Mapping[str, Path] | None = None
) -> ParsedEmail:
    try:
        return _parse(raw, envelope, original, spooled=spooled)
    except Exception as e:  # any failure becomes a stored, downloadable message
        failure = f"the parser failed: {type(e).__name__}"
    try:
        # The headers alone usually still read: sender, subject and threading are kept.
        return _parse(raw, envelope, original, failure)
    except Exception:
        return _problem_result(original, failure, envelope.recipients)
