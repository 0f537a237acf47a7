"""Turning mail bytes and headers into text whatever charset they claim (or get wrong)."""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from email.message import Message

# Names mail software writes that Python does not know, or knows as something else.
_ALIASES = {
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "x-user-defined": "",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "x-mac-turkish": "mac-turkish",
    "x-windows-1254": "cp1254",
    "x-windows-1256": "cp1256",
    "windows-874": "cp874",
    "gb2312": "gb18030",  # a superset: mail labelled gb2312 often holds gbk characters
    "gbk": "gb18030",
    "cp-1254": "cp1254",
    "cp-1256": "cp1256",
}


def codec_name(charset: str | None) -> str | None:
    """Python's codec for a charset label, or None if unknown."""
    if not charset:
        return None
    label = charset.strip().strip('"').lower()
    label = _ALIASES.get(label, label)
    if not label:
        return None
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    # Not text encodings in the mail sense: base64/zlib/rot13 "codecs" would misread the bytes.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(raw: bytes, charset: str | None = None) -> str:
    """Text from bytes: the declared charset if it reads cleanly, else UTF-8, else Windows-1252
    (which maps every byte), with replacement characters only as a last resort. NUL characters
    are dropped: PostgreSQL refuses them in text and JSON."""
    return _decode(raw, charset).replace("\x00", "")


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp125", "iso8859", "latin", "cp874", "koi8", "mac-")) or codec == "ascii"


def _decode(raw: bytes, charset: str | None) -> str:
    declared = codec_name(charset)
    if declared and _single_byte(declared) and not raw.isascii():
        # Mail labelled with a legacy charset is often UTF-8 in fact (a client's default label);
        # real Windows-1254 or ISO-8859-9 text is almost never valid UTF-8 by chance.
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared:
        try:
            return raw.decode(declared)
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        return raw.decode(declared, "replace")
    return raw.decode("cp1252", "replace")


def _unescape(value: str, fallback: str | None) -> str:
    """Header text may carry raw 8-bit bytes (kept by the parser as surrogate escapes)."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")  # SMTPUTF8 mail: headers are UTF-8 whatever the body says
    except UnicodeDecodeError:
        return decode_bytes(raw, fallback)


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,40})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.group(1), match.group(2).lower(), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*tr?...
    if encoding == "b":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            raw = base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return match.group(0)
    else:
        raw = quopri.decodestring(payload.replace("_", " ").encode("ascii", "replace"), header=False)
    return decode_bytes(raw, charset)


def decode_header_value(value: str, fallback: str | None = None) -> str:
    """RFC 2047 encoded-words (B and Q, broken padding tolerated) and raw 8-bit bytes to text.
    Whitespace between two encoded-words is dropped, as the RFC says."""
    if not value:
        return ""
    value = _unescape(value, fallback).replace("\x00", "")
    if "=?" not in value:
        return value.replace("\r", "").replace("\n", "")
    value = value.replace("\r\n", "").replace("\n", "")
    value = _BETWEEN_WORDS.sub(r"\1\2", value)
    return _ENCODED_WORD.sub(_decode_word, value)


def raw_header(msg: Message, name: str, index: int = 0) -> str:
    """The index-th value of a header as the parser kept it (possibly with surrogate escapes),
    "" if absent. Read from raw_items so compat32 never wraps it in a Header object."""
    wanted = name.lower()
    count = 0
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            if count == index:
                return value if isinstance(value, str) else str(value)
            count += 1
    return ""
