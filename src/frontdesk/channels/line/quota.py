"""The monthly message quota of each LINE inbox, read by the worker process every
FRONTDESK_LINE_QUOTA_POLL_SECONDS and kept in the inbox's settings ("quota": {limit, used,
checked_at}), where the channel's rules read it (adapter.rules_for): once the quota is used up
a reply that can only go by push is refused before it is queued (decision 0042).

Crossing 80 % and 100 % is logged as a warning and sent to the dashboard
(`inbox.quota_warning`), where administrators see it as a banner until the month's quota is read
lower again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa

from frontdesk.channels.base import ChannelError, Installation
from frontdesk.channels.line.adapter import LineAdapter, LineQuota, quota_of
from frontdesk.channels.line.settings import LineInstallationSettings
from frontdesk.events import InboxQuotaWarning
from frontdesk.services import Services
from frontdesk.store import tables as t
from frontdesk.store.db import Tx

__all__ = ["do_set_quota", "quota_poller", "read_all_quotas", "warning_level"]

log = logging.getLogger(__name__)
CALL_SECONDS = 30.0


def warning_level(quota: LineQuota | None) -> int:
    """0, 80 or 100: the highest warning threshold this quota has crossed."""
    if quota is None or not quota.limit:
        return 0
    share = quota.used / quota.limit
    return 100 if share >= 1 else 80 if share >= 0.8 else 0


async def do_set_quota(tx: Tx, inbox_id: int, quota: LineQuota) -> None:
    """Keep the quota as last read in the inbox's settings (nothing else of them changes)."""
    i = t.inboxes
    # Locked: an administrator's edit of the settings at the same moment is not lost.
    query = sa.select(i.c.settings, i.c.workspace_id, i.c.name).where(i.c.id == inbox_id).with_for_update()
    row = (await tx.conn.execute(query)).mappings().first()
    if row is None:
        return
    settings = row["settings"]
    before = quota_of(settings)
    kept = quota.model_dump(mode="json")
    await tx.conn.execute(i.update().where(i.c.id == inbox_id).values(settings={**settings, "quota": kept}))
    level = warning_level(quota)
    if level > warning_level(before):
        await tx.emit(InboxQuotaWarning(row["workspace_id"], inbox_id, inbox_id, row["name"], level, kept))
        log.warning(
            "LINE message quota at %d%%: used %d of %d this month",
            level,
            quota.used,
            quota.limit,
            extra={"inbox_id": inbox_id, "quota_used": quota.used, "quota_limit": quota.limit},
        )


async def read_all_quotas(services: Services) -> None:
    """Read the quota of every enabled LINE inbox once; a failing inbox is logged and skipped."""
    i = t.inboxes
    async with services.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(i.c.id, i.c.settings, i.c.secrets_encrypted).where(
                        i.c.channel_type == LineAdapter.channel_type, i.c.is_enabled.is_(True)
                    )
                )
            )
            .mappings()
            .all()
        )
    installation = Installation(settings=services.settings, public_url=services.settings.effective_public_url)
    for row in rows:
        adapter = LineAdapter(
            row["settings"], services.box.open(row["secrets_encrypted"]), services.http, installation
        )
        try:
            async with asyncio.timeout(CALL_SECONDS):
                quota = await adapter.read_quota()
        except (ChannelError, TimeoutError) as exc:
            log.info("could not read a LINE quota", extra={"inbox_id": row["id"], "error": str(exc)})
            continue
        async with services.db.write() as tx:
            await do_set_quota(tx, row["id"], quota)


@contextlib.asynccontextmanager
async def quota_poller(services: Services) -> AsyncIterator[Any]:
    every = LineInstallationSettings().line_quota_poll_seconds

    async def loop() -> None:
        while True:
            try:
                await read_all_quotas(services)
            except Exception:  # the poller outlives any one failure
                log.exception("LINE quota poll failed")
            await asyncio.sleep(every)

    task = asyncio.create_task(loop(), name="line-quota")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
