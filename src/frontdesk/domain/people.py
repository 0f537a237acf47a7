"""Rules about agents as people: availability, presence, profile pictures."""

from __future__ import annotations

from enum import StrEnum

from frontdesk.domain.errors import InvalidInput, TooLarge

AVATAR_MAX_BYTES = 1_048_576
# Leading bytes of each accepted picture type: the content decides, not the name or the header.
_AVATAR_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # RIFF....WEBP
)
PASSWORD_RESET_HOURS = 1


class Availability(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


def effective_status(availability: str, connected: bool) -> Availability:
    """What others see: the agent's choice while they have the dashboard open, else offline."""
    return Availability(availability) if connected else Availability.OFFLINE


def sniff_image(head: bytes) -> str | None:
    for magic, offset, content_type in _AVATAR_MAGIC:
        if head[offset : offset + len(magic)] == magic and (offset == 0 or head.startswith(b"RIFF")):
            return content_type
    return None


def check_avatar(content: bytes) -> str:
    """The picture's content type, or a refusal naming the problem."""
    if not content:
        raise InvalidInput("the file is empty", field="file")
    if len(content) > AVATAR_MAX_BYTES:
        raise TooLarge(f"a profile picture may be at most {AVATAR_MAX_BYTES} bytes (1 MiB)", field="file")
    content_type = sniff_image(content[:16])
    if content_type is None:
        raise InvalidInput("a profile picture must be a PNG, JPEG, WebP or GIF image", field="file")
    return content_type
