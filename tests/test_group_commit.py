"""SQLite's group commit (store/db.py, decision 0047): writes that queue while one runs share its
transaction, each in its own savepoint; a write returns only once its group is committed, a
failing write undoes only itself, and a failed commit fails every write of the group. The same
tests run on PostgreSQL, where each write is still its own transaction: the guarantees a caller
sees are the same on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from frontdesk.store.db import Database
from tests.conftest import BACKEND

_ROWS = sa.table("group_commit_rows", sa.column("n", sa.Integer))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.write() as tx:
        await tx.conn.execute(sa.text("CREATE TABLE group_commit_rows (n INTEGER PRIMARY KEY)"))
    try:
        yield database
    finally:
        async with database.write() as tx:  # PostgreSQL's test database outlives the test
            await tx.conn.execute(sa.text("DROP TABLE group_commit_rows"))
        await database.dispose()


async def _stored(db: Database) -> list[int]:
    async with db.read() as conn:
        return list((await conn.execute(sa.select(_ROWS.c.n).order_by(_ROWS.c.n))).scalars())


async def test_concurrent_writes_share_commits_and_each_is_visible_when_it_returns(db: Database) -> None:
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    sa_event.listen(db.engine.sync_engine, "commit", count)

    async def write(n: int) -> list[int]:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=n))
            await asyncio.sleep(0)  # other writes queue meanwhile
        return await _stored(db)  # read on another connection right after returning

    seen = await asyncio.gather(*(write(n) for n in range(40)))
    for n, stored in enumerate(seen):
        assert n in stored, f"write {n} returned before it was committed"
    assert await _stored(db) == list(range(40))
    if BACKEND == "sqlite":
        assert commits < 20, f"{commits} commits for 40 queued writes: they were not grouped"
    else:
        assert commits == 40


async def test_a_failing_write_undoes_only_itself(db: Database) -> None:
    async def write(n: int, fail: bool) -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=n))
            await tx.conn.execute(sa.insert(_ROWS).values(n=n + 100))
            await asyncio.sleep(0)
            if fail:
                raise ValueError(f"write {n} refused")

    results = await asyncio.gather(*(write(n, fail=n % 3 == 0) for n in range(12)), return_exceptions=True)
    failed = [n for n, r in enumerate(results) if isinstance(r, ValueError)]
    assert failed == [0, 3, 6, 9]
    kept = [n for n in range(12) if n % 3]
    assert await _stored(db) == kept + [n + 100 for n in kept]


async def test_a_statement_error_inside_a_write_leaves_the_others_of_its_group(db: Database) -> None:
    async with db.write() as tx:
        await tx.conn.execute(sa.insert(_ROWS).values(n=1))

    async def write(n: int) -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=n + 10))
            await asyncio.sleep(0)
            await tx.conn.execute(sa.insert(_ROWS).values(n=n))  # n=1 is taken

    results = await asyncio.gather(*(write(n) for n in range(4)), return_exceptions=True)
    assert isinstance(results[1], sa.exc.IntegrityError)
    assert [r for i, r in enumerate(results) if i != 1] == [None, None, None]
    assert await _stored(db) == [0, 1, 2, 3, 10, 12, 13]


async def test_a_failed_commit_fails_every_write_of_its_group_and_the_next_group_works(
    db: Database,
) -> None:
    if BACKEND != "sqlite":
        pytest.skip("one transaction per write on PostgreSQL: there is no group to fail")
    async with db.write() as tx:  # committed before: stays
        await tx.conn.execute(sa.insert(_ROWS).values(n=1000))

    async def write(n: int, break_commit: bool) -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=n))
            if break_commit:
                # A deferred foreign-key violation is only found at COMMIT.
                await tx.conn.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
                await tx.conn.execute(
                    sa.text(
                        "INSERT INTO contact_identities (inbox_id, source_id, contact_id, created_at) "
                        "VALUES (999999, 'x', 999999, '2026-01-01 00:00:00')"
                    )
                )
            await asyncio.sleep(0)

    results = await asyncio.gather(*(write(n, break_commit=n == 2) for n in range(5)), return_exceptions=True)
    assert all(isinstance(r, sa.exc.IntegrityError) for r in results), results
    assert await _stored(db) == [1000]
    await write(7, break_commit=False)
    assert await _stored(db) == [7, 1000]


async def test_a_write_cancelled_while_its_group_commits_does_not_stall_the_others(db: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=0))
            started.set()
            await asyncio.sleep(0.05)

    async def quick(n: int) -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=n))

    first = asyncio.create_task(slow())
    await started.wait()
    others = [asyncio.create_task(quick(n)) for n in range(1, 6)]
    await asyncio.sleep(0.01)
    others[0].cancel()  # waiting for the write lock: it never joins
    await asyncio.wait_for(asyncio.gather(first, *others[1:]), timeout=5)
    assert await _stored(db) == [0, 2, 3, 4, 5]

    # Cancelled after its savepoint was released, while its group commits: the row is kept
    # (the commit is not the caller's to stop) and the writes behind it go on.
    gate = asyncio.Event()

    async def held() -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=50))
            await gate.wait()

    async def joined() -> None:
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=51))

    holder, member = asyncio.create_task(held()), asyncio.create_task(joined())
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.sleep(0)
    member.cancel()
    await asyncio.wait_for(asyncio.gather(holder, return_exceptions=True), timeout=5)
    await asyncio.sleep(0.05)
    async with db.write() as tx:
        await tx.conn.execute(sa.insert(_ROWS).values(n=52))
    assert {50, 52} <= set(await _stored(db))


async def test_a_failed_write_returns_after_its_group_ended(db: Database, database_url: str) -> None:
    if BACKEND != "sqlite":
        pytest.skip("the SQLite write lock is what is checked")
    import sqlite3

    with pytest.raises(ValueError):
        async with db.write() as tx:
            await tx.conn.execute(sa.insert(_ROWS).values(n=1))
            raise ValueError("refused")
    # Nothing of this process holds the database's write lock any more: another connection
    # (another process would be the same) may write at once.
    other = sqlite3.connect(database_url.split(":///", 1)[1], timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO group_commit_rows (n) VALUES (2)")
        other.execute("COMMIT")
    finally:
        other.close()
    assert await _stored(db) == [2]
