"""The fetch_profile job: a new contact's name and picture from its channel's profile API
(ChannelAdapter.fetch_profile), queued by the ingest (actions/profiles.py). A temporary
failure is retried with the worker's back-off; a lasting one leaves the contact as it is."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from frontdesk.actions.profiles import do_fill_profile
from frontdesk.channels.base import ChannelError
from frontdesk.jobs.adapters import job_adapter
from frontdesk.jobs.kinds import JobContext, JobKind, PermanentJobError
from frontdesk.store import tables as t


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
    async with ctx.db.write() as tx:
        await do_fill_profile(
            tx, inbox_id, contact_id, source_id, profile.name, profile.picture_url, profile.language
        )


FETCH_PROFILE_JOB = JobKind(fetch_profile)
