"""Files attached to messages: written to the data folder, recorded beside their message."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from frontdesk.domain.attachments import check_attachment, check_received_file
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow


@dataclass(frozen=True)
class StoredFile:
    file_name: str
    content_type: str
    size: int
    relative_path: str


def storage_path(now: datetime) -> str:
    """Unguessable, date-sharded, never derived from the user's file name."""
    return f"{now:%Y/%m}/{secrets.token_hex(16)}"


def write_file(root: Path, relative: str, content: bytes) -> None:
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def store_file(
    root: Path,
    file_name: str,
    content_type: str,
    content: bytes | Path,
    limit: int,
    *,
    received: bool = False,
) -> StoredFile:
    """Check a file against the type and size rules and write it under an unguessable name.
    `content` is the bytes, or a file holding them (copied in chunks: a large mail's files are
    never read whole). `received`: a file a customer sent, kept whatever its type (see
    check_received_file). Written before its message's transaction: a caller whose transaction
    fails discards it."""
    if isinstance(content, Path):
        size = content.stat().st_size
        with content.open("rb") as f:
            head = f.read(16)
    else:
        size, head = len(content), content[:16]
    if received:
        name, content_type = check_received_file(file_name, content_type, head, size, limit)
    else:
        name = check_attachment(file_name, content_type, head, size, limit)
    relative = storage_path(utcnow())
    if isinstance(content, Path):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(content, target)
    else:
        write_file(root, relative, content)
    return StoredFile(name, content_type.split(";")[0].strip().lower(), size, relative)


def discard_files(root: Path, files: Iterable[StoredFile]) -> None:
    for stored in files:
        (root / stored.relative_path).unlink(missing_ok=True)


def attachment_view(stored: StoredFile) -> dict[str, Any]:
    """What a message's data carries about each file; the URL's random part is the capability."""
    return {
        "file_name": stored.file_name,
        "content_type": stored.content_type,
        "size": stored.size,
        "url": f"/files/{stored.relative_path}",
    }


async def do_attach(tx: Tx, message_id: int, stored: StoredFile) -> None:
    await tx.conn.execute(
        t.attachments.insert().values(
            message_id=message_id,
            file_name=stored.file_name,
            content_type=stored.content_type,
            size=stored.size,
            path=stored.relative_path,
            created_at=utcnow(),
        )
    )
