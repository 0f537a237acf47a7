"""The fetch_media job: download one file a message arrived with from its provider, through the
channel's fetch_media hook, and attach it (actions/media.py keeps the message's pending list).

Provider media URLs expire within minutes, so the job is enqueued with the message and runs at
once; a temporary failure (5xx, 429, timeout) is retried with the worker's back-off; a lasting
one (expired URL, refusal, too large) marks the file failed in the message's data, with the
reason, and the message itself is never touched otherwise.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.media import do_media_failed, do_media_fetched, find_pending
from frontdesk.channels.base import ChannelAdapter, ChannelError
from frontdesk.domain.attachments import DOWNLOAD_TYPE
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.errors import DomainError, TooLarge
from frontdesk.domain.inbound import MediaRef
from frontdesk.jobs.adapters import job_adapter
from frontdesk.jobs.kinds import JobContext, JobFailure, JobKind, PermanentJobError
from frontdesk.store import tables as t
from frontdesk.store.db import Tx


async def fetch_media(ctx: JobContext, payload: dict[str, Any]) -> None:
    message_id, index = int(payload["message_id"]), int(payload["index"])
    m, i = t.messages, t.inboxes
    async with ctx.db.read() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(
                        m.c.data,
                        i.c.id.label("inbox_id"),
                        i.c.channel_type,
                        i.c.settings,
                        i.c.secrets_encrypted,
                    )
                    .join(i, i.c.id == m.c.inbox_id)
                    .where(m.c.id == message_id)
                )
            )
            .mappings()
            .first()
        )
    entry = find_pending(row["data"], index) if row is not None else None
    if row is None or entry is None:
        return  # deleted, already attached by an earlier run, or already failed
    if ctx.settings is None:
        raise PermanentJobError(
            FailureReason.MISCONFIGURED, "this worker has no settings to store files with"
        )
    root, limit = ctx.settings.attachments_dir, ctx.settings.max_attachment_bytes
    adapter = job_adapter(ctx, row, row["inbox_id"])
    ref = MediaRef(
        reference=entry["reference"],
        file_name=entry.get("file_name"),
        content_type=entry.get("content_type"),
        size=entry.get("size"),
    )
    if ref.size is not None and ref.size > limit:
        raise PermanentJobError(FailureReason.TOO_LARGE, f"the provider says the file has {ref.size} bytes")
    stored = await _download(adapter, ref, root, limit)
    try:
        async with ctx.db.write() as tx:
            attached = await do_media_fetched(tx, message_id, index, stored)
    except BaseException:
        discard_files(root, [stored])
        raise
    if not attached:
        discard_files(root, [stored])


async def _download(adapter: ChannelAdapter, ref: MediaRef, root: Path, limit: int) -> StoredFile:
    """Fetch into a temporary file beside the attachments (same disk: no copy across devices),
    then check it as any file a customer sent (size, type by magic bytes) and store it."""
    tmp = root / "tmp" / secrets.token_hex(16)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            fetched = await adapter.fetch_media(ref, tmp, limit)
        except ChannelError as exc:
            if exc.retryable:
                raise
            raise PermanentJobError(exc.code, exc.detail) from None
        name = ref.file_name or fetched.file_name or "file"
        content_type = fetched.content_type or ref.content_type or DOWNLOAD_TYPE
        try:
            return store_file(root, name, content_type, tmp, limit, received=True)
        except TooLarge as exc:
            raise PermanentJobError(FailureReason.TOO_LARGE, str(exc)) from None
        except DomainError as exc:
            raise PermanentJobError(FailureReason.INVALID_MESSAGE, str(exc)) from None
    finally:
        tmp.unlink(missing_ok=True)


async def fail_media(tx: Tx, payload: dict[str, Any], failure: JobFailure) -> None:
    await do_media_failed(tx, int(payload["message_id"]), int(payload["index"]), failure.code, failure.detail)


FETCH_MEDIA = JobKind(fetch_media, on_dead=fail_media)
