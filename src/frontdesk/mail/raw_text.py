"""The first plain-text part of a mail, found in its raw bytes without the MIME parser: the last
resort when parsing failed or gave up (nesting past the parser's or our depth bound) and no text
came out, so the sender's words are still shown."""

from __future__ import annotations

import binascii
import quopri
import re

from frontdesk.mail.charsets import decode_bytes

__all__ = ["first_plain_text"]

MAX_SCAN = 4 * 1024 * 1024  # of the mail; the text of a mail comes early
_PLAIN_HEADER = re.compile(rb"^content-type:[ \t]*text/plain\b", re.IGNORECASE | re.MULTILINE)
_BLANK = re.compile(rb"\r?\n\r?\n")
_BOUNDARY = re.compile(rb"^--\S", re.MULTILINE)
_CHARSET = re.compile(rb"charset[ \t]*=[ \t]*\"?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_ENCODING = re.compile(
    rb"^content-transfer-encoding:[ \t]*([A-Za-z0-9-]{1,20})", re.IGNORECASE | re.MULTILINE
)


def first_plain_text(raw: bytes) -> str:
    """The body of the first part labelled text/plain, decoded ("" when there is none)."""
    raw = raw[:MAX_SCAN]
    found = _PLAIN_HEADER.search(raw)
    if found is None:
        return ""
    gap = _BLANK.search(raw, found.end())
    if gap is None:
        return ""
    # The part's header block: from the boundary line or blank line before its Content-Type
    # (a Content-Transfer-Encoding may come first) to the blank line after it.
    start = max(raw.rfind(b"\n--", 0, found.start()), raw.rfind(b"\n\n", 0, found.start()), 0)
    start = max(start, raw.rfind(b"\n\r\n", 0, found.start()))
    headers = raw[start : gap.start()]
    end = _BOUNDARY.search(raw, gap.end())
    body = raw[gap.end() : end.start() if end else len(raw)]
    encoding = _ENCODING.search(headers)
    name = encoding.group(1).lower() if encoding else b""
    if name == b"base64":
        try:
            body = binascii.a2b_base64(body)
        except binascii.Error:
            return ""
    elif name == b"quoted-printable":
        body = quopri.decodestring(body)
    charset = _CHARSET.search(headers)
    text = decode_bytes(body, charset.group(1).decode("ascii") if charset else None)
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
