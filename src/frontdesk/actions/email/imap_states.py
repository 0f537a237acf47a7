"""Writes to imap_states (E3): the lease that lets one worker process import an inbox, the
cursor (UIDVALIDITY + last UID) and the last error the admin sees.

The cursor only moves under the lease: `advance_cursor` checks the owner in the same statement,
so a worker that lost its lease rolls its message back instead of importing it a second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.types import utcnow

__all__ = [
    "Cursor",
    "LeaseLost",
    "advance_cursor",
    "do_acquire_lease",
    "do_record_checked",
    "do_record_error",
    "do_release_lease",
    "do_start_folder",
]

_s = t.imap_states


class LeaseLost(Exception):
    """Another worker process took this inbox over (this one stopped renewing in time)."""


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int


def _mine(inbox_id: int, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(_s.c.inbox_id == inbox_id, _s.c.lease_owner == owner)


async def do_acquire_lease(db: Database, inbox_id: int, folder: str, owner: str, seconds: float) -> bool:
    """Take or renew the inbox's lease; False while another live worker holds it."""
    now = utcnow()
    until = now + dt.timedelta(seconds=seconds)
    async with db.write() as tx:
        free = sa.or_(_s.c.lease_owner.is_(None), _s.c.lease_owner == owner, _s.c.lease_until < now)
        result = await tx.conn.execute(
            sa.update(_s).where(_s.c.inbox_id == inbox_id, free).values(lease_owner=owner, lease_until=until)
        )
        if result.rowcount:
            return True
        exists = await tx.conn.execute(sa.select(_s.c.inbox_id).where(_s.c.inbox_id == inbox_id))
        if exists.first() is not None:
            return False
    try:
        async with db.write() as tx:
            await tx.conn.execute(
                sa.insert(_s).values(inbox_id=inbox_id, folder=folder, lease_owner=owner, lease_until=until)
            )
    except IntegrityError:
        return False  # another worker created it first, or the inbox was removed meanwhile
    return True


async def do_release_lease(db: Database, inbox_id: int, owner: str) -> None:
    async with db.write() as tx:
        await tx.conn.execute(
            sa.update(_s).where(_mine(inbox_id, owner)).values(lease_owner=None, lease_until=None)
        )


async def do_start_folder(db: Database, inbox_id: int, owner: str, folder: str, uidvalidity: int) -> Cursor:
    """The cursor for this folder and UIDVALIDITY. Another folder or a new UIDVALIDITY starts
    again from UID 1: the Message-ID check keeps what was imported before from coming twice."""
    async with db.write() as tx:
        row = (
            await tx.conn.execute(
                sa.select(_s.c.folder, _s.c.uidvalidity, _s.c.last_uid).where(_mine(inbox_id, owner))
            )
        ).first()
        if row is None:
            raise LeaseLost(inbox_id)
        if row.folder == folder and row.uidvalidity == uidvalidity:
            return Cursor(uidvalidity, int(row.last_uid))
        await tx.conn.execute(
            sa.update(_s)
            .where(_mine(inbox_id, owner))
            .values(folder=folder, uidvalidity=uidvalidity, last_uid=0)
        )
        return Cursor(uidvalidity, 0)


async def advance_cursor(tx: Tx, inbox_id: int, owner: str, cursor: Cursor, uid: int, imported: int) -> None:
    """Inside the transaction that stored the message: a lost lease rolls the message back."""
    values = {"last_uid": uid, "imported_count": _s.c.imported_count + imported}
    result = await tx.conn.execute(
        sa.update(_s)
        .where(_mine(inbox_id, owner), _s.c.uidvalidity == cursor.uidvalidity, _s.c.last_uid < uid)
        .values(**values)
    )
    if not result.rowcount:
        raise LeaseLost(inbox_id)


async def do_record_checked(db: Database, inbox_id: int, owner: str, idle_supported: bool) -> None:
    """A pass over the folder went through: connection problems recorded before are over
    (a note about a skipped message stays until another problem replaces it)."""
    async with db.write() as tx:
        await tx.conn.execute(
            sa.update(_s)
            .where(_mine(inbox_id, owner))
            .values(last_checked_at=utcnow(), idle_supported=idle_supported)
        )
        await tx.conn.execute(
            sa.update(_s)
            .where(_mine(inbox_id, owner), _s.c.last_error_stage != "import")
            .values(last_error=None, last_error_stage=None, last_error_at=None)
        )


async def do_record_error(db: Database, inbox_id: int, owner: str, stage: str, detail: str) -> None:
    async with db.write() as tx:
        await tx.conn.execute(
            sa.update(_s)
            .where(_mine(inbox_id, owner))
            .values(last_error_stage=stage, last_error=detail[:2000], last_error_at=utcnow())
        )
