"""Which files may be attached, and how big."""

from __future__ import annotations

import re

from frontdesk.domain.errors import InvalidInput, TooLarge

ALLOWED_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "audio/mpeg",
        "audio/ogg",
        "audio/mp4",
        "video/mp4",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        # Email: an unreadable mail is kept whole as message.eml, and Outlook's winmail.dat is
        # passed through. Both are served as downloads (attachment disposition, sandboxed).
        "message/rfc822",
        "application/ms-tnef",
    }
)
# Leading bytes of the types whose content is easy to recognise: a file claiming one of these
# types must really be one (no HTML or script smuggled in as an "image").
MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04",),
}
MAX_FILE_NAME = 255


def _clean_name(file_name: str) -> str:
    return file_name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"


def check_attachment(file_name: str, content_type: str, head: bytes, size: int, limit: int) -> str:
    """Validate an upload; returns the cleaned file name."""
    name = _clean_name(file_name)
    if len(name) > MAX_FILE_NAME:
        raise InvalidInput(
            f"the file name is longer than {MAX_FILE_NAME} characters",
            field="file",
            code="file_name_too_long",
        )
    base_type = content_type.split(";", 1)[0].strip().lower()
    if base_type not in ALLOWED_TYPES:
        raise InvalidInput(
            f"files of type {base_type or 'unknown'} cannot be attached",
            field="file",
            code="type_not_allowed",
        )
    if size == 0:
        raise InvalidInput("the file is empty", field="file", code="empty_file")
    if size > limit:
        raise TooLarge(f"the file is larger than {limit} bytes", field="file")
    signatures = MAGIC.get(base_type)
    if signatures and not head.startswith(signatures):
        raise InvalidInput(f"the file's content is not {base_type}", field="file", code="content_mismatch")
    return name


# A media type as RFC 2045 spells one (lower-cased), short enough for the attachments table.
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,47}/[a-z0-9][a-z0-9!#$&^_.+-]{0,47}")
DOWNLOAD_TYPE = "application/octet-stream"


def check_received_file(
    file_name: str, content_type: str, head: bytes, size: int, limit: int
) -> tuple[str, str]:
    """A file a customer sent: kept whatever its type, name or size within `limit` (refusing
    it would lose it; the download route serves anything not shown inline as a sandboxed
    download). Returns the cleaned name (cut to MAX_FILE_NAME, its extension kept) and the type
    to store: the declared one, or application/octet-stream where that is not a media type or
    the content is not what a recognisable type claims (no HTML shown as an "image")."""
    if size > limit:
        raise TooLarge(f"the file is larger than {limit} bytes", field="file")
    name = _clean_name(file_name)
    if len(name) > MAX_FILE_NAME:
        stem, dot, extension = name.rpartition(".")
        keep = dot + extension if stem and len(extension) <= 16 else ""
        name = name[: MAX_FILE_NAME - len(keep)] + keep
    base_type = content_type.split(";", 1)[0].strip().lower()
    signatures = MAGIC.get(base_type)
    # An empty file has no content to disguise: it keeps its type (an empty inline image).
    if not _MEDIA_TYPE.fullmatch(base_type) or (size and signatures and not head.startswith(signatures)):
        base_type = DOWNLOAD_TYPE
    return name, base_type
