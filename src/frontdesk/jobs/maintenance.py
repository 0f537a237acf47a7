"""Housekeeping the worker does on its own schedule: trimming the change log."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from frontdesk.store import tables as t
from frontdesk.store.db import Database
from frontdesk.store.types import utcnow

BATCH = 5_000


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
