"""The fetch_profile job: a new contact's name and picture from its channel's profile API
(ChannelAdapter.fetch_profile), queued by the ingest (actions/profiles.py). A temporary
failure is retried with the worker's back-off; a lasting one leaves the contact as it is. The
picture is copied into the attachments folder (a PNG, JPEG, WebP or GIF of at most 1 MiB, typed
by its leading bytes); one that cannot be had is left out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.profiles import do_fill_profile
from frontdesk.channels.base import ChannelError
from frontdesk.domain.errors import DomainError
from frontdesk.domain.people import AVATAR_MAX_BYTES, check_avatar
from frontdesk.jobs.adapters import job_adapter
from frontdesk.jobs.kinds import JobContext, JobKind, PermanentJobError
from frontdesk.store import tables as t

log = logging.getLogger(__name__)
PICTURE_SECONDS = 20.0


async def fetch_profile(ctx: JobContext, payload: dict[str, Any]) -> None:
    inbox_id, contact_id, source_id = (
        int(payload["inbox_id"]),
        int(payload["contact_id"]),
        str(payload["source_id"]),
    )
    i = t.inboxes
    async with ctx.db.read() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(i.c.channel_type, i.c.settings, i.c.secrets_encrypted, i.c.is_enabled).where(
                        i.c.id == inbox_id
                    )
                )
            )
            .mappings()
            .first()
        )
    if row is None or not row["is_enabled"]:
        return
    adapter = job_adapter(ctx, row, inbox_id)
    try:
        profile = await adapter.fetch_profile(source_id)
    except ChannelError as exc:
        if exc.retryable:
            raise
        raise PermanentJobError(exc.code, exc.detail) from None
    if profile is None:
        return
    root = ctx.settings.attachments_dir if ctx.settings is not None else None
    picture = await _copy_picture(ctx.http, profile.picture_url, root) if root is not None else None
    try:
        async with ctx.db.write() as tx:
            unused = await do_fill_profile(
                tx,
                inbox_id,
                contact_id,
                source_id,
                profile.name,
                profile.picture_url,
                profile.language,
                picture,
            )
    except BaseException:
        if root is not None and picture is not None:
            discard_files(root, [picture])
        raise
    if root is not None and unused:
        (root / unused).unlink(missing_ok=True)


async def _copy_picture(http: httpx.AsyncClient, url: str | None, root: Path) -> StoredFile | None:
    """The profile picture stored here (provider addresses change and may expire), or None: a
    picture that cannot be had leaves the contact without one, it does not fail the job."""
    if not url or not url.startswith(("https://", "http://")):
        return None
    try:
        async with asyncio.timeout(PICTURE_SECONDS), http.stream("GET", url) as response:
            response.raise_for_status()
            content = bytearray()
            async for chunk in response.aiter_bytes():
                content += chunk
                if len(content) > AVATAR_MAX_BYTES:
                    raise ValueError(f"larger than {AVATAR_MAX_BYTES} bytes")
        content_type = check_avatar(bytes(content))
        return await asyncio.to_thread(
            store_file, root, "avatar", content_type, bytes(content), AVATAR_MAX_BYTES
        )
    except (httpx.HTTPError, TimeoutError, ValueError, DomainError) as exc:
        # The error's words, not httpx's message: that one names the address, which a channel's
        # picture address may carry a credential in.
        status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
        words = str(exc) if isinstance(exc, (ValueError, DomainError)) else type(exc).__name__
        log.info("could not copy a profile picture", extra={"error": words, "http_status": status})
        return None


FETCH_PROFILE_JOB = JobKind(fetch_profile)
