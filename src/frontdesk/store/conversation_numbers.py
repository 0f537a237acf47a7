"""A workspace's conversation numbers (#1, #2, …), taken when a conversation opens.

SQLite: the workspace row's `next_conversation_number`, bumped inside the write; SQLite's
writes take turns anyway.

PostgreSQL: one sequence per workspace, `conversation_numbers_<id>`. The row's counter stayed
locked from the bump to the commit, so each new conversation of a workspace waited for the one
before it to commit; a sequence hands out numbers without a lock that lasts to the commit. A
sequence is not transactional: an opening that rolls back leaves a gap in the numbers
(docs/decisions/0048-conversation-numbers-from-a-sequence.md).
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.store import tables as t
from frontdesk.store.direct import Direct, run

_conv = t.conversations
_BUMP = Direct(
    t.workspaces.update()
    .where(t.workspaces.c.id == sa.bindparam("workspace_id"))
    .values(next_conversation_number=t.workspaces.c.next_conversation_number + 1)
    .returning((t.workspaces.c.next_conversation_number - 1).label("number"))
)
# The sequence's name from the workspace id, inside the INSERT: no round trip of its own.
_SEQUENCE_NUMBER = sa.func.nextval(
    sa.cast(
        sa.literal_column("'conversation_numbers_'", sa.Text)
        + sa.cast(sa.bindparam("sequence_of", type_=sa.BigInteger), sa.Text),
        REGCLASS,
    ),
    type_=sa.Integer,
)


def sequence_name(workspace_id: int) -> str:
    return f"conversation_numbers_{int(workspace_id)}"


@functools.cache
def _insert(dialect: str, keys: tuple[str, ...]) -> Direct:
    statement = _conv.insert().returning(_conv.c.id, _conv.c.number)
    if dialect == "postgresql":
        return Direct(statement.values(number=_SEQUENCE_NUMBER), keys)
    return Direct(statement, (*keys, "number"))


async def insert_numbered(conn: AsyncConnection, values: dict[str, Any]) -> tuple[int, int]:
    """Insert a conversation (`values` without its number) with the workspace's next number; its
    id and number."""
    dialect = conn.dialect.name
    params = dict(values)
    if dialect == "postgresql":
        params["sequence_of"] = values["workspace_id"]
    else:
        params["number"] = (await run(conn, _BUMP, {"workspace_id": values["workspace_id"]}))[0]["number"]
    (row,) = await run(conn, _insert(dialect, tuple(sorted(values))), params)
    return int(row["id"]), int(row["number"])


async def start_numbers(conn: AsyncConnection, workspace_id: int, first: int = 1) -> None:
    """Make `first` the workspace's next number (a new workspace, a bulk import). On PostgreSQL
    the sequence is created if missing, and reset if a workspace of this id existed before (a
    test database emptied between tests)."""
    if conn.dialect.name == "postgresql":
        name = sequence_name(workspace_id)
        await conn.exec_driver_sql(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        await conn.execute(sa.select(sa.func.setval(name, first, False)))
    else:
        await conn.execute(
            t.workspaces.update()
            .where(t.workspaces.c.id == workspace_id)
            .values(next_conversation_number=first)
        )
