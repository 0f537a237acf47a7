"""Message-IDs as the inbox stores them: without <>, at most 255 characters (the width of a
message's source_id), the same value for an id wherever it appears (Message-ID, In-Reply-To,
References, a bounce's returned headers)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from frontdesk.mail.charsets import decode_header_value

MAX_HEADER_CHARS = 16_384
MAX_IDS = 100
MAX_ID_CHARS = 255  # a message's source_id column; longer ids are replaced by their hash
_MSG_ID = re.compile(r"<([^<>\s]{1,2000})>")


def message_ids(values: Sequence[str]) -> tuple[str, ...]:
    ids: list[str] = []
    for raw in values:
        value = decode_header_value(raw[:MAX_HEADER_CHARS])
        found = [m.group(1) for m in _MSG_ID.finditer(value)]
        if not found and value.strip() and " " not in value.strip():
            found = [value.strip()]  # a bare id without <> (seen from broken clients)
        for message_id in map(fit_id, found):
            if message_id not in ids:
                ids.append(message_id)
    return tuple(ids[:MAX_IDS])


def fit_id(message_id: str) -> str:
    """Ids longer than the column are replaced by a stable hash: the same mail, or a reply
    referring to it, maps to the same value."""
    if len(message_id) <= MAX_ID_CHARS:
        return message_id
    return "long-" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()
