"""Housekeeping the worker does on its own schedule: trimming the change log and the record of
inbound event ids."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from frontdesk.store import tables as t
from frontdesk.store.db import Database
from frontdesk.store.types import utcnow

BATCH = 5_000
# Providers retry a webhook for hours (Meta up to a day, LINE and Telegram less): a week is ample.
INBOUND_EVENTS_DAYS = 7


async def prune_events(db: Database, retention_days: int) -> int:
    """Delete change-log rows older than the retention, in small batches so no write holds the
    database for long. A client away longer than that reloads instead of resuming."""
    cutoff = utcnow() - timedelta(days=retention_days)
    e = t.events
    removed = 0
    while True:
        oldest = sa.select(e.c.seq).where(e.c.created_at < cutoff).order_by(e.c.seq).limit(BATCH)
        async with db.write() as tx:
            result = await tx.conn.execute(e.delete().where(e.c.seq.in_(oldest.scalar_subquery())))
        removed += result.rowcount
        if result.rowcount < BATCH:
            return removed


async def prune_inbound_events(db: Database, retention_days: int = INBOUND_EVENTS_DAYS) -> int:
    """Forget provider event ids older than the retention (actions/ingest.py), in small batches."""
    cutoff = utcnow() - timedelta(days=retention_days)
    ie = t.inbound_events
    removed = 0
    while True:
        oldest = (
            sa.select(ie.c.inbox_id, ie.c.event_id)
            .where(ie.c.created_at < cutoff)
            .order_by(ie.c.created_at)
            .limit(BATCH)
            .subquery()
        )
        gone = sa.tuple_(ie.c.inbox_id, ie.c.event_id).in_(sa.select(oldest.c.inbox_id, oldest.c.event_id))
        async with db.write() as tx:
            result = await tx.conn.execute(ie.delete().where(gone))
        removed += result.rowcount
        if result.rowcount < BATCH:
            return removed


async def prune_channel_state(db: Database) -> int:
    """Forget channel state that expired a day ago or more (store/channel_state.py): a reply's
    sending progress, an old QR code. A value still in use is rewritten before it expires."""
    cs = t.channel_state
    async with db.write() as tx:
        result = await tx.conn.execute(cs.delete().where(cs.c.expires_at < utcnow() - timedelta(days=1)))
    return int(result.rowcount or 0)
