"""The worker loop: claim due jobs, run them, complete, retry with back-off, or fail visibly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping
from datetime import timedelta

from prometheus_client import Counter, Histogram

from frontdesk.domain.enums import FailureReason
from frontdesk.jobs.kinds import DeliveryError, JobContext, JobFailure, JobKind, PermanentJobError, failure_of
from frontdesk.jobs.maintenance import prune_channel_state, prune_events, prune_inbound_events
from frontdesk.jobs.queue import Job, JobQueue
from frontdesk.store.types import utcnow

log = logging.getLogger(__name__)
MAINTENANCE_SECONDS = 600.0
# A provider's Retry-After is honoured up to this; a longer one is the provider's mistake.
MAX_RETRY_AFTER_SECONDS = 3600.0
JOBS_DONE = Counter("frontdesk_jobs_total", "Jobs finished, by kind and outcome", ["kind", "outcome"])
JOB_PICKUP = Histogram(
    "frontdesk_job_pickup_seconds",
    "Time from a job being due to being claimed",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        ctx: JobContext,
        kinds: Mapping[str, JobKind],
        *,
        poll_seconds: float,
        max_attempts: int,
        events_retention_days: int = 30,
        concurrency: int = 16,
    ) -> None:
        self.queue = queue
        self.ctx = ctx
        self.kinds = kinds
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.events_retention_days = events_retention_days
        self.concurrency = concurrency
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._running_ids: set[int] = set()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        next_maintenance = 0.0
        while not self._stopping:
            if time.monotonic() >= next_maintenance:
                next_maintenance = time.monotonic() + MAINTENANCE_SECONDS
                await self._maintain()
            free = self.concurrency - len(self._running)
            jobs = await self.queue.claim(free, self._running_ids) if free > 0 else []
            for job in jobs:
                JOB_PICKUP.observe(max(0.0, (utcnow() - job.run_at).total_seconds()))
                self._running_ids.add(job.id)
                task = asyncio.create_task(self._run_leased(job))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if len(jobs) == free and free > 0:
                continue  # more may be due right now
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def _maintain(self) -> None:
        try:
            removed = await prune_events(self.queue.db, self.events_retention_days)
            forgotten = await prune_inbound_events(self.queue.db)
            expired = await prune_channel_state(self.queue.db)
        except Exception:
            log.warning("could not prune old events", exc_info=True)
            return
        if removed or forgotten or expired:
            log.info(
                "pruned old events",
                extra={"removed": removed, "inbound_event_ids": forgotten, "channel_state": expired},
            )

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _run_leased(self, job: Job) -> None:
        """Run a job while renewing its lease, so a slow delivery is never taken over (and sent
        twice) by another worker; only a worker that stopped renewing loses its jobs."""
        renewer = asyncio.create_task(self._renew(job))
        try:
            await self._run_one(job)
        finally:
            self._running_ids.discard(job.id)
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew(self, job: Job) -> None:
        interval = self.queue.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await self.queue.extend_lease(job)
            except Exception:
                log.warning("could not renew a job lease", extra={"job_id": job.id}, exc_info=True)

    async def _run_one(self, job: Job) -> None:
        kind = self.kinds.get(job.kind)
        started = time.perf_counter()
        try:
            if kind is None:
                raise PermanentJobError(FailureReason.INTERNAL_ERROR, f"no handler for job kind {job.kind!r}")
            await kind.handler(self.ctx, job.payload)
        except PermanentJobError as exc:
            await self._dead(job, exc.failure, str(exc.failure), kind)
        except Exception as exc:  # every failure is retried or recorded, never lost
            failure = failure_of(exc)
            if job.attempts >= (job.max_attempts or self.max_attempts):
                await self._dead(job, failure, f"gave up after {job.attempts} attempts: {failure}", kind)
            else:
                wait = exc.retry_after if isinstance(exc, DeliveryError) else None
                await self._retry(job, failure, kind, wait)
        else:
            await self.queue.complete(job)
            JOBS_DONE.labels(job.kind, "done").inc()
            log.debug(
                "job done",
                extra={
                    "job_id": job.id,
                    "kind": job.kind,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )

    async def _retry(
        self, job: Job, failure: JobFailure, kind: JobKind | None, wait: float | None = None
    ) -> None:
        run_at = self.queue.next_run_at(job)
        if wait is not None and wait > 0:
            # The provider said when to come back: never sooner, whatever our back-off says.
            run_at = max(run_at, utcnow() + timedelta(seconds=min(wait, MAX_RETRY_AFTER_SECONDS)))
        async with self.queue.db.write() as tx:
            if not await self.queue.retry_later(tx, job, str(failure), run_at):
                return
            if kind is not None and kind.on_retry is not None:
                await kind.on_retry(tx, job.payload, failure, run_at)
        JOBS_DONE.labels(job.kind, "retry").inc()
        log.warning(
            "job will be retried",
            extra={
                "job_id": job.id,
                "kind": job.kind,
                "attempt": job.attempts,
                "retry_at": run_at.isoformat(),
                "error": str(failure),
            },
        )

    async def _dead(self, job: Job, failure: JobFailure, error: str, kind: JobKind | None) -> None:
        async with self.queue.db.write() as tx:
            if not await self.queue.mark_failed(tx, job, error):
                return
            if kind is not None and kind.on_dead is not None:
                await kind.on_dead(tx, job.payload, failure)
        JOBS_DONE.labels(job.kind, "failed").inc()
        log.error("job failed", extra={"job_id": job.id, "kind": job.kind, "error": error})
