"""The durable job queue: rows in `jobs`, written in the transaction that needs them.

A worker claims due jobs by setting a lease. A job whose lease ran out (its worker died) is due
again. On PostgreSQL claims use FOR UPDATE SKIP LOCKED so many workers never take the same row;
on SQLite there is one writer, so the claim is a plain UPDATE … RETURNING.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from frontdesk.domain.enums import JobStatus
from frontdesk.domain.rules import retry_delay
from frontdesk.store import direct
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.types import UTCDateTime, utcnow

# 0 means the worker's FRONTDESK_JOB_MAX_ATTEMPTS; a job kind may ask for its own budget.
DEFAULT_MAX_ATTEMPTS = 0


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime


async def enqueue(
    tx: Tx,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> int:
    now = utcnow()
    values = {
        "kind": kind,
        "payload": payload,
        "status": JobStatus.QUEUED.value,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
        "updated_at": now,
    }
    job_id = (await direct.run(tx.conn, _ENQUEUE, values))[0]["id"]
    tx.jobs_enqueued = True
    return int(job_id)


# Run on the driver (store/direct.py): the ingest enqueues a job for every new contact of a
# channel with profiles and for every linked file.
_ENQUEUE = direct.Direct(
    t.jobs.insert().returning(t.jobs.c.id),
    column_keys=[
        "kind",
        "payload",
        "status",
        "run_at",
        "attempts",
        "max_attempts",
        "created_at",
        "updated_at",
    ],
)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(t.jobs.c.status == JobStatus.QUEUED, t.jobs.c.run_at <= now),
        sa.and_(t.jobs.c.status == JobStatus.RUNNING, t.jobs.c.locked_until < now),
    )


class JobQueue:
    def __init__(
        self, db: Database, *, worker_id: str, lease_seconds: float, backoff_base: float, backoff_max: float
    ) -> None:
        self.db = db
        self.worker_id = worker_id
        self.lease = timedelta(seconds=lease_seconds)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._rng = random.Random()

    async def claim(self, limit: int, exclude: Collection[int] = ()) -> list[Job]:
        """Up to `limit` due jobs, leased to this worker. `exclude`: the jobs this worker is still
        running; when a renewal came late their lease may have lapsed, and the worker must not
        start a second copy of its own job."""
        now = utcnow()
        due = _due(now) if not exclude else sa.and_(_due(now), t.jobs.c.id.not_in(list(exclude)))
        candidates = sa.select(t.jobs.c.id).where(due).order_by(t.jobs.c.run_at).limit(limit)
        if self.db.dialect == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        stmt = (
            t.jobs.update()
            .where(t.jobs.c.id.in_(candidates.scalar_subquery()))
            .values(
                status=JobStatus.RUNNING,
                locked_until=now + self.lease,
                locked_by=self.worker_id,
                attempts=t.jobs.c.attempts + 1,
                updated_at=now,
            )
            .returning(
                t.jobs.c.id,
                t.jobs.c.kind,
                t.jobs.c.payload,
                t.jobs.c.attempts,
                t.jobs.c.max_attempts,
                t.jobs.c.run_at,
                t.jobs.c.created_at,
            )
        )
        # Look before taking the write lock: an idle queue costs one cheap read per poll.
        async with self.db.read() as conn:
            if (await conn.execute(sa.select(t.jobs.c.id).where(due).limit(1))).first() is None:
                return []
        async with self.db.write() as tx:
            rows = (await tx.conn.execute(stmt)).mappings().all()
        return [Job(**dict(r)) for r in rows]

    async def extend_lease(self, job: Job) -> None:
        now = utcnow()
        async with self.db.write() as tx:
            await tx.conn.execute(
                t.jobs.update()
                .where(
                    t.jobs.c.id == job.id,
                    t.jobs.c.locked_by == self.worker_id,
                    t.jobs.c.status == JobStatus.RUNNING,
                )
                .values(locked_until=now + self.lease, updated_at=now)
            )

    async def complete(self, job: Job) -> None:
        # Done jobs are deleted: the message row keeps the outcome, the queue stays small.
        async with self.db.write() as tx:
            await tx.conn.execute(
                t.jobs.delete().where(t.jobs.c.id == job.id, t.jobs.c.locked_by == self.worker_id)
            )

    def next_run_at(self, job: Job) -> datetime:
        return utcnow() + timedelta(
            seconds=retry_delay(job.attempts, self.backoff_base, self.backoff_max, self._rng)
        )

    async def retry_later(self, tx: Tx, job: Job, error: str, run_at: datetime) -> bool:
        """Back to the queue until `run_at`. False when this worker no longer holds the job (it
        lost its lease, or an agent cancelled the reply): then its next attempt is not ours to plan."""
        result = await tx.conn.execute(
            t.jobs.update()
            .where(t.jobs.c.id == job.id, t.jobs.c.locked_by == self.worker_id)
            .values(
                status=JobStatus.QUEUED,
                run_at=run_at,
                locked_until=None,
                locked_by=None,
                last_error=error[:2000],
                updated_at=utcnow(),
            )
        )
        return bool(result.rowcount)

    async def mark_failed(self, tx: Tx, job: Job, error: str) -> bool:
        """Failed jobs stay in the table, visible, with their last error. False when another
        worker holds the job now (this one lost its lease): then it is not ours to fail."""
        result = await tx.conn.execute(
            t.jobs.update()
            .where(t.jobs.c.id == job.id, t.jobs.c.locked_by == self.worker_id)
            .values(status=JobStatus.FAILED, locked_until=None, last_error=error[:2000], updated_at=utcnow())
        )
        return bool(result.rowcount)


async def queue_stats(db: Database) -> tuple[int, float]:
    """Depth of due work and the age in seconds of the oldest due job."""
    now = utcnow()
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(sa.func.count(), sa.type_coerce(sa.func.min(t.jobs.c.run_at), UTCDateTime())).where(
                    _due(now)
                )
            )
        ).one()
    depth, oldest = int(row[0]), row[1]
    return depth, 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
