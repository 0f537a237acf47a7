"""Which files may be attached, and how big."""

from __future__ import annotations

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


def check_attachment(file_name: str, content_type: str, head: bytes, size: int, limit: int) -> str:
    """Validate an upload; returns the cleaned file name."""
    name = file_name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
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
