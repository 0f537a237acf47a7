"""The tab counters (Inbox / Mine / Unassigned): moved in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.direct import Direct, run

CountKey = tuple[int, int, int | None, str]  # workspace, inbox, assignee, status


def key_of(conversation: Mapping[Any, Any]) -> CountKey:
    return (
        conversation["workspace_id"],
        conversation["inbox_id"],
        conversation["assignee_id"],
        conversation["status"],
    )


async def move(tx: Tx, before: CountKey | None, after: CountKey | None) -> None:
    """Move one conversation between counters. Written when the transaction ends: every new
    conversation of an inbox adds to the same row, and on PostgreSQL its lock is then held for
    the commit only, not for the rest of the change (the ingest benchmark's first messages
    queued on it). Moves that cancel out within the change write nothing."""
    if before == after:
        return
    for key, delta in ((before, -1), (after, +1)):
        if key is not None:
            tx.deferred[("count", key)] = tx.deferred.get(("count", key), 0) + delta
    tx.before_commit(_write)


async def _write(tx: Tx) -> None:
    moves = [(key[1], delta) for key, delta in tx.deferred.items() if key[0] == "count" and delta]
    # In one order for every transaction, so two of them never wait on each other's rows.
    for key, delta in sorted(moves, key=lambda m: (m[0][0], m[0][1], m[0][2] or 0, m[0][3])):
        await _add(tx, key, delta)


def _upsert(dialect: str) -> Any:
    cc = t.conversation_counts
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(cc).on_conflict_do_update(
        index_elements=["inbox_id", "assignee_id", "status"],
        set_={"count": cc.c.count + sa.bindparam("delta", type_=sa.Integer)},
    )


# Run on the driver (store/direct.py): every ingested message moves a counter.
_UPSERT = {
    dialect: Direct(_upsert(dialect), ["workspace_id", "inbox_id", "assignee_id", "status", "count"])
    for dialect in ("sqlite", "postgresql")
}


async def _add(tx: Tx, key: CountKey, delta: int) -> None:
    workspace_id, inbox_id, assignee_id, status = key
    await run(
        tx.conn,
        _UPSERT[tx.dialect],
        {
            "workspace_id": workspace_id,
            "inbox_id": inbox_id,
            "assignee_id": assignee_id or 0,
            "status": status,
            "count": delta,
            "delta": delta,
        },
    )


def counts_query(workspace_id: int) -> sa.Select[Any]:
    cc = t.conversation_counts
    return sa.select(cc.c.inbox_id, cc.c.assignee_id, cc.c.status, cc.c.count).where(
        cc.c.workspace_id == workspace_id, cc.c.count != 0
    )
