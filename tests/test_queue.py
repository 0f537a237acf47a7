"""The durable queue on the configured backend: claims, leases, back-off, failure."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from frontdesk.domain.enums import JobStatus
from frontdesk.jobs.queue import JobQueue, enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Database
from frontdesk.store.types import utcnow


def queue(db: Database, name: str, lease: float = 30) -> JobQueue:
    return JobQueue(db, worker_id=name, lease_seconds=lease, backoff_base=1, backoff_max=10)


async def test_each_job_is_claimed_once_even_by_racing_workers(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as tx:
            for i in range(40):
                await enqueue(tx, "noop", {"i": i})
        workers = [queue(db, f"w{n}") for n in range(4)]
        claimed = await asyncio.gather(*(w.claim(15) for w in workers))
        ids = [job.id for batch in claimed for job in batch]
        assert len(ids) == len(set(ids)) == 40
    finally:
        await db.dispose()


async def test_a_dead_workers_job_is_taken_again_after_its_lease(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as tx:
            await enqueue(tx, "noop", {})
        # A lease long enough that a loaded machine cannot lapse it between the two claims.
        [job] = await queue(db, "dies", lease=2.0).claim(5)
        assert await queue(db, "other").claim(5) == []  # leased
        await asyncio.sleep(2.1)
        [again] = await queue(db, "other").claim(5)
        assert again.id == job.id and again.attempts == 2
    finally:
        await db.dispose()


async def test_a_worker_never_reclaims_a_job_it_is_still_running(database_url: str) -> None:
    # A renewal that comes late lets the lease lapse; the worker's own next claim must not start
    # a second copy of the job it is running (another worker still may: that one is alive).
    db = Database(database_url)
    try:
        async with db.write() as tx:
            await enqueue(tx, "noop", {})
        mine = queue(db, "slow", lease=0.2)
        [job] = await mine.claim(5)
        await asyncio.sleep(0.3)
        assert await mine.claim(5, exclude={job.id}) == []
        [again] = await mine.claim(5)  # without the exclusion it would be taken again
        assert again.id == job.id
    finally:
        await db.dispose()


async def test_retry_later_backs_off_and_failed_jobs_stay_visible(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as tx:
            await enqueue(tx, "noop", {})
        q = JobQueue(db, worker_id="w", lease_seconds=30, backoff_base=0.2, backoff_max=10)
        [job] = await q.claim(1)
        run_at = q.next_run_at(job)
        async with db.write() as tx:
            assert not await queue(db, "someone-else").retry_later(tx, job, "not mine", run_at)
            assert await q.retry_later(tx, job, "HTTP 503", run_at)
        assert timedelta(seconds=0.05) < run_at - utcnow() < timedelta(seconds=0.25)
        assert await q.claim(1) == []  # not due yet
        await asyncio.sleep(0.25)
        [again] = await q.claim(1)
        assert again.attempts == 2
        async with db.write() as tx:
            assert not await queue(db, "someone-else").mark_failed(tx, again, "not mine")
            assert await q.mark_failed(tx, again, "gave up")
        async with db.read() as conn:
            row = (await conn.execute(sa.select(t.jobs))).mappings().one()
        assert (row["status"], row["last_error"]) == (JobStatus.FAILED, "gave up")
    finally:
        await db.dispose()


async def test_future_jobs_wait_for_their_time(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as tx:
            await enqueue(tx, "later", {}, run_at=utcnow() + timedelta(seconds=0.3))
        q = queue(db, "w")
        assert await q.claim(1) == []
        await asyncio.sleep(0.35)
        assert [j.kind for j in await q.claim(1)] == ["later"]
    finally:
        await db.dispose()


async def test_old_events_are_pruned_and_recent_ones_kept(database_url: str) -> None:
    from frontdesk.jobs.maintenance import prune_events

    db = Database(database_url)
    try:
        now = utcnow()
        async with db.write() as tx:
            await tx.conn.execute(
                t.events.insert(),
                [
                    {
                        "workspace_id": 1,
                        "inbox_id": None,
                        "type": "t",
                        "payload": {},
                        "created_at": now - timedelta(days=d),
                    }
                    for d in (40, 31, 29, 0)
                ],
            )
        assert await prune_events(db, retention_days=30) == 2
        async with db.read() as conn:
            left = (await conn.execute(sa.select(t.events.c.created_at))).scalars().all()
        assert len(left) == 2 and all(now - c < timedelta(days=30) for c in left)
    finally:
        await db.dispose()


async def test_queue_stats_report_depth_and_age_of_due_jobs(database_url: str) -> None:
    from frontdesk.jobs.queue import queue_stats

    db = Database(database_url)
    try:
        assert await queue_stats(db) == (0, 0.0)
        async with db.write() as tx:
            await enqueue(tx, "noop", {}, run_at=utcnow() - timedelta(seconds=30))
            await enqueue(tx, "noop", {}, run_at=utcnow() + timedelta(hours=1))  # not due: not counted
        depth, age = await queue_stats(db)
        assert depth == 1 and 29 < age < 60
    finally:
        await db.dispose()
