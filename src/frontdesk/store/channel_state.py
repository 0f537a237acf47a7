"""What a channel keeps for one inbox between calls, shared by every process (decision 0043): a
provider's access token and when it expires, a QR code's ticket. Values are strings, encrypted
at rest with the installation's secret box; each (inbox, key) holds one.

`fresh` is the cache of a value that expires (an access token): it hands out the stored value
while it stays valid long enough, and otherwise makes a new one, with one maker at a time per
(inbox, key): this process's lock, and on PostgreSQL a transaction-scoped advisory lock that
other processes wait on (SQLite deployments run one process; its writes are serialised anyway).
A provider that invalidates the old value when a new one is made (WeChat) thus sees one fetch.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.security import SecretBox
from frontdesk.store import tables as t
from frontdesk.store.db import Database
from frontdesk.store.types import utcnow

__all__ = ["InboxState", "Stored"]

# Makes a new value: the value and when it expires (None: never).
Maker = Callable[[], Awaitable[tuple[str, datetime | None]]]
_cs = t.channel_state


@dataclass(frozen=True)
class Stored:
    value: str
    expires_at: datetime | None


class InboxState:
    """The channel state of one inbox (built by the app and the worker for each adapter)."""

    def __init__(self, db: Database, box: SecretBox, inbox_id: int) -> None:
        self._db = db
        self._box = box
        self.inbox_id = inbox_id

    async def get(self, key: str) -> Stored | None:
        async with self._db.read() as conn:
            return await self._read(conn, key)

    async def put(self, key: str, value: str, expires_at: datetime | None = None) -> None:
        async with self._db.write() as tx:
            await self._write(tx.conn, tx.dialect, key, value, expires_at)

    async def delete(self, key: str) -> None:
        async with self._db.write() as tx:
            await tx.conn.execute(_cs.delete().where(_cs.c.inbox_id == self.inbox_id, _cs.c.key == key))

    async def fresh(self, key: str, make: Maker, *, margin: timedelta, unless: str | None = None) -> str:
        """The value under `key` while it stays valid for `margin` more and is not `unless` (a
        value the provider has just refused); else a new one from `make`, stored. Concurrent
        callers in any process wait for one maker and share its value."""

        def usable(found: Stored | None) -> bool:
            if found is None or found.value == unless:
                return False
            return found.expires_at is None or found.expires_at - margin > utcnow()

        found = await self.get(key)
        if usable(found):
            assert found is not None
            return found.value
        lock = self._db.locks.setdefault(("channel_state", self.inbox_id, key), asyncio.Lock())
        async with lock:
            if self._db.dialect != "postgresql":
                found = await self.get(key)
                if usable(found):
                    assert found is not None
                    return found.value
                value, expires_at = await make()
                await self.put(key, value, expires_at)
                return value
            async with self._db.write() as tx:
                await tx.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_id(self.inbox_id, key))))
                found = await self._read(tx.conn, key)
                if usable(found):
                    assert found is not None
                    return found.value
                value, expires_at = await make()
                await self._write(tx.conn, tx.dialect, key, value, expires_at)
                return value

    async def _read(self, conn: AsyncConnection, key: str) -> Stored | None:
        row = (
            await conn.execute(
                sa.select(_cs.c.value_encrypted, _cs.c.expires_at).where(
                    _cs.c.inbox_id == self.inbox_id, _cs.c.key == key
                )
            )
        ).first()
        if row is None:
            return None
        return Stored(str(self._box.open(row.value_encrypted)["value"]), row.expires_at)

    async def _write(
        self, conn: AsyncConnection, dialect: str, key: str, value: str, expires_at: datetime | None
    ) -> None:
        values: dict[str, Any] = {
            "inbox_id": self.inbox_id,
            "key": key,
            "value_encrypted": self._box.seal({"value": value}),
            "expires_at": expires_at,
            "updated_at": utcnow(),
        }
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(_cs).values(**values)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=["inbox_id", "key"],
                set_={k: statement.excluded[k] for k in ("value_encrypted", "expires_at", "updated_at")},
            )
        )


def _lock_id(inbox_id: int, key: str) -> int:
    """A signed 64-bit number for pg_advisory_xact_lock, from the inbox and the key."""
    digest = hashlib.sha256(f"channel_state:{inbox_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
