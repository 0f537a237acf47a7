"""Files a message arrived with that are still at the provider (domain/inbound.py MediaRef):
listed in the message's data as "pending_media" when it is stored, fetched one by one by the
durable fetch_media job (jobs/media.py), and then attached, or marked failed with the reason.

The message is stored and shown at once; a file that cannot be fetched never loses it.

message data "pending_media": [{"index", "reference", "file_name", "content_type", "size"}, …]
— "index" is the entry's position when the message was stored and never changes, so the job
payload {"message_id", "index"} names the same file after others were attached and removed.
A failed entry stays with "status": "failed", "reason" (a FailureReason) and "detail".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile, attachment_view, do_attach
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.inbound_data import PENDING_MEDIA
from frontdesk.events import MessageUpdated
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.views import message_view

PENDING = PENDING_MEDIA
FETCH_JOB = "fetch_media"
# Not the worker's day-long budget for replies: provider media URLs expire within minutes, so
# after about 8 to 17 minutes of outage (the default back-off) the file is marked failed rather
# than shown as "downloading" for a day.
MEDIA_MAX_ATTEMPTS = 10


async def do_queue_media(tx: Tx, message_id: int, count: int) -> None:
    """One fetch job per pending file, in the transaction that stores the message: the message
    and its jobs are committed together or not at all."""
    for index in range(count):
        await enqueue(
            tx, FETCH_JOB, {"message_id": message_id, "index": index}, max_attempts=MEDIA_MAX_ATTEMPTS
        )


def find_pending(data: Mapping[str, Any] | None, index: int) -> dict[str, Any] | None:
    """The pending entry a job names, if it is still waiting (not fetched, not failed)."""
    for position, entry in enumerate((data or {}).get(PENDING) or []):
        if entry.get("index", position) == index:
            return None if entry.get("status") == "failed" else dict(entry)
    return None


def _indexed(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    # Entries written without "index" are named by position: fixed before any is removed.
    return [{"index": p, **e} for p, e in enumerate(data.get(PENDING) or [])]


async def _message(tx: Tx, message_id: int) -> Mapping[Any, Any] | None:
    # Locked: two files of one message fetched at once must not each write back the data they
    # read (one file's attachment would be lost). SQLite has one writer and needs no lock.
    m = t.messages
    query = sa.select(m).where(m.c.id == message_id).with_for_update()
    return (await tx.conn.execute(query)).mappings().first()


async def _save(tx: Tx, message: Mapping[Any, Any], data: dict[str, Any]) -> None:
    await tx.conn.execute(t.messages.update().where(t.messages.c.id == message["id"]).values(data=data))
    await tx.emit(
        MessageUpdated(message["workspace_id"], message["inbox_id"], message_view({**message, "data": data}))
    )


async def do_media_fetched(tx: Tx, message_id: int, index: int, stored: StoredFile) -> bool:
    """Attach the fetched file and drop its pending entry. False when the entry is gone (a
    repeated job already attached it, or the message was deleted): the caller discards the file,
    so a file is never attached twice."""
    message = await _message(tx, message_id)
    if message is None or find_pending(message["data"], index) is None:
        return False
    await do_attach(tx, message_id, stored)
    data = dict(message["data"] or {})
    rest = [e for e in _indexed(data) if e["index"] != index]
    data["attachments"] = [*data.get("attachments", []), attachment_view(stored)]
    if rest:
        data[PENDING] = rest
    else:
        data.pop(PENDING, None)
    await _save(tx, message, data)
    return True


async def do_media_failed(tx: Tx, message_id: int, index: int, reason: FailureReason, detail: str) -> None:
    """The file could not be fetched for good (expired, refused, too large): its entry says so,
    the message stays as it is."""
    message = await _message(tx, message_id)
    if message is None or find_pending(message["data"], index) is None:
        return
    data = dict(message["data"] or {})
    data[PENDING] = [
        {**e, "status": "failed", "reason": reason.value, "detail": detail[:500]}
        if e["index"] == index
        else e
        for e in _indexed(data)
    ]
    await _save(tx, message, data)
