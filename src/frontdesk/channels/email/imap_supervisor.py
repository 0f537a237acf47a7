"""Keeps one IMAP import running per enabled own-server email inbox, in the worker process (E3).

Every SCAN_SECONDS (or at once after `wake()`) the inbox list is read again: new inboxes get a
task, removed, disabled or changed ones have theirs stopped (a changed one starts again with its
new settings). A task first takes the inbox's lease in imap_states, so with several worker
processes exactly one imports each inbox; it renews the lease while it runs and gives it back
when it stops. A failure is recorded (stage and text) for the admin, then retried with back-off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from frontdesk.actions.email.imap_states import LeaseLost, do_acquire_lease, do_record_error, do_release_lease
from frontdesk.channels.email.connection import StageFailed
from frontdesk.channels.email.imap import import_inbox
from frontdesk.jobs.worker import worker_id
from frontdesk.services import Services
from frontdesk.store import tables as t

__all__ = ["ImapSupervisor"]

log = logging.getLogger(__name__)
SCAN_SECONDS = 30.0
LEASE_SECONDS = 90.0
RENEW_SECONDS = 30.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 300.0

_OWN_SERVER = sa.select(t.inboxes).where(
    t.inboxes.c.channel_type == "email", t.inboxes.c.is_enabled.is_(True)
)


@dataclass
class _Running:
    fingerprint: str
    task: asyncio.Task[None]


def _fingerprint(inbox: Any) -> str:
    """Changes when anything the import depends on changes (settings or secrets)."""
    text = repr(sorted(inbox["settings"].items())) + inbox["secrets_encrypted"]
    return hashlib.sha256(text.encode()).hexdigest()


class ImapSupervisor:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.owner = f"{worker_id()}:{uuid.uuid4().hex[:8]}"
        self._running: dict[int, _Running] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look at the inbox list now (after an inbox was added, changed or removed)."""
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            # Cleared before the scan, so a wake() arriving during it causes another scan.
            self._wake.clear()
            try:
                await self._scan()
            except Exception:
                log.warning("could not read the own-server email inboxes", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=SCAN_SECONDS)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await asyncio.gather(*(self._halt(inbox_id) for inbox_id in list(self._running)))

    async def _scan(self) -> None:
        async with self.services.db.read() as conn:
            rows = (await conn.execute(_OWN_SERVER)).mappings().all()
        wanted = {int(r["id"]): r for r in rows if r["settings"].get("address_mode") == "own_server"}
        for inbox_id, running in list(self._running.items()):
            inbox = wanted.get(inbox_id)
            if inbox is None or running.task.done() or _fingerprint(inbox) != running.fingerprint:
                await self._halt(inbox_id)
        for inbox_id, inbox in wanted.items():
            if inbox_id not in self._running and not self._stopping:
                task = asyncio.create_task(self._keep_importing(dict(inbox)))
                self._running[inbox_id] = _Running(_fingerprint(inbox), task)

    async def _halt(self, inbox_id: int) -> None:
        running = self._running.pop(inbox_id, None)
        if running is None:
            return
        running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await running.task

    async def _keep_importing(self, inbox: dict[str, Any]) -> None:
        """Hold the lease and import; on failure record it and try again after a back-off.
        Returns when another worker holds the lease (the next scan tries again)."""
        db, inbox_id = self.services.db, int(inbox["id"])
        folder = str(inbox["settings"].get("imap_folder") or "INBOX")
        if not await do_acquire_lease(db, inbox_id, folder, self.owner, LEASE_SECONDS):
            log.info("IMAP import left to the worker holding the lease", extra={"inbox_id": inbox_id})
            return
        renewer = asyncio.create_task(self._renew(inbox_id, folder, asyncio.current_task()))
        loop = asyncio.get_running_loop()
        delay = BACKOFF_FIRST
        try:
            while True:
                started = loop.time()
                try:
                    await import_inbox(self.services, inbox, self.owner)
                except StageFailed as failed:
                    await self._record(inbox_id, failed.stage, failed.detail)
                except LeaseLost:
                    log.warning("IMAP lease lost to another worker", extra={"inbox_id": inbox_id})
                    return
                except Exception as exc:  # a bug or a database problem: recorded, retried
                    log.exception("IMAP import failed", extra={"inbox_id": inbox_id})
                    await self._record(inbox_id, "import", f"{type(exc).__name__}: {exc}")
                if loop.time() - started > BACKOFF_MAX:
                    delay = BACKOFF_FIRST  # it ran well for a while: this is a new problem
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            with contextlib.suppress(Exception):
                await asyncio.shield(do_release_lease(db, inbox_id, self.owner))

    async def _record(self, inbox_id: int, stage: str, detail: str) -> None:
        log.warning("IMAP import problem", extra={"inbox_id": inbox_id, "stage": stage, "detail": detail})
        with contextlib.suppress(Exception):
            await do_record_error(self.services.db, inbox_id, self.owner, stage, detail)

    async def _renew(self, inbox_id: int, folder: str, importer: asyncio.Task[Any] | None) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                held = await do_acquire_lease(self.services.db, inbox_id, folder, self.owner, LEASE_SECONDS)
            except Exception:
                log.warning("could not renew an IMAP lease", extra={"inbox_id": inbox_id}, exc_info=True)
                continue
            if not held and importer is not None:
                importer.cancel()  # another worker took over: this one must stop importing
                return
