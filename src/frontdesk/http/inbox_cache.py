"""Inboxes by webhook address, kept a few seconds in memory: every inbound request needs its
inbox and its decrypted secrets, and they change rarely.

A change made through this process is seen at once (the cache entry is dropped); one made
through another process within INBOX_CACHE_SECONDS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from frontdesk.security import SecretBox
from frontdesk.store import tables as t
from frontdesk.store.db import Database

INBOX_CACHE_SECONDS = 5.0
_BY_UID = sa.select(t.inboxes).where(
    t.inboxes.c.uid == sa.bindparam("uid"), t.inboxes.c.channel_type == sa.bindparam("channel_type")
)


@dataclass(frozen=True)
class CachedInbox:
    row: dict[str, Any]
    secrets: dict[str, Any]
    fetched_at: float


@dataclass
class InboxCache:
    db: Database
    box: SecretBox
    ttl: float = INBOX_CACHE_SECONDS
    _entries: dict[tuple[str, str], CachedInbox] = field(default_factory=dict)
    # Bumped by every forget: other caches of inbox data in this process (the SMTP listener's
    # routes) compare it to know they must start again.
    generation: int = 0

    async def get(self, channel_type: str, uid: str) -> CachedInbox | None:
        key = (channel_type, uid)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and now - hit.fetched_at < self.ttl:
            return hit
        async with self.db.read() as conn:
            row = (await conn.execute(_BY_UID, {"uid": uid, "channel_type": channel_type})).mappings().first()
        if row is None:
            self._entries.pop(key, None)
            return None
        entry = CachedInbox(dict(row), self.box.open(row["secrets_encrypted"]), now)
        self._entries[key] = entry
        return entry

    def forget(self, inbox_id: int) -> None:
        self.generation += 1
        for key in [k for k, v in self._entries.items() if v.row["id"] == inbox_id]:
            del self._entries[key]
