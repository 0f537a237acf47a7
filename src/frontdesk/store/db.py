"""Engines, read connections and write transactions.

Writes go through `Database.write()`, which collects the events and jobs of the change in the
same transaction and hands the events to the bus only after the commit succeeded.

SQLite allows one writer: in-process writes queue on a lock and open with BEGIN IMMEDIATE, so
they never fail half-way on a lock upgrade; reads use their own pool and never wait for writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction, create_async_engine

from frontdesk.domain.channels import ChannelLookup
from frontdesk.events import Event
from frontdesk.store import direct, sqlite_inline
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow

log = logging.getLogger(__name__)
# JSON columns through orjson: the stdlib encoder showed in the ingest profile.
JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}
AfterCommit = Callable[[list[dict[str, Any]]], Awaitable[None]]


@dataclass
class Tx:
    """One write transaction: the connection plus what must happen after it commits."""

    conn: AsyncConnection
    dialect: str
    events: list[dict[str, Any]] = field(default_factory=list)
    jobs_enqueued: bool = False
    # The channels' specs, for what an event tells of a conversation's reply window (decision
    # 0039); None where the process wired none (a CLI command): events then carry no window.
    channels: ChannelLookup | None = None

    _pending: list[dict[str, Any]] = field(default_factory=list)
    # Ephemeral events (events.ephemeral) of this change: not logged, published after the commit
    # behind the logged ones, and never for a write that failed.
    announced: list[dict[str, Any]] = field(default_factory=list)
    # Row changes gathered during the transaction and written just before its events (see
    # actions/counters.py): a hot row touched last is locked for the least time.
    deferred: dict[Any, int] = field(default_factory=dict)
    _before_commit: list[Callable[[Tx], Awaitable[None]]] = field(default_factory=list)

    def before_commit(self, callback: Callable[[Tx], Awaitable[None]]) -> None:
        """Run `callback` once, after the change's own statements and before its events."""
        if callback not in self._before_commit:
            self._before_commit.append(callback)

    async def finish(self) -> None:
        for callback in self._before_commit:
            await callback(self)
        self._before_commit.clear()
        await self.flush_events()

    def announce(self, event: dict[str, Any]) -> None:
        self.announced.append(event)

    async def emit(self, event: Event) -> None:
        """Record an event in the change log; it is written with the transaction's other events
        just before the commit, and reaches the bus after it."""
        self._pending.append(
            {
                "workspace_id": event.workspace_id,
                "inbox_id": event.inbox_id,
                "type": event.type,
                "payload": event.payload(),
                "created_at": utcnow(),
            }
        )

    async def flush_events(self) -> None:
        """Write the transaction's events in one statement; sequence numbers follow emit order."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        # One multi-row VALUES statement; both databases number its rows in the order given.
        params = {f"{key}_{i}": value for i, row in enumerate(rows) for key, value in row.items()}
        inserted = await direct.run(self.conn, _insert_events(len(rows)), params)
        for row, seq in zip(rows, sorted(r["seq"] for r in inserted), strict=True):
            self.events.append(
                {
                    "seq": seq,
                    "type": row["type"],
                    "workspace_id": row["workspace_id"],
                    "inbox_id": row["inbox_id"],
                    "created_at": row["created_at"].isoformat(),
                    "data": row["payload"],
                }
            )


_EVENT_COLUMNS = ("workspace_id", "inbox_id", "type", "payload", "created_at")


@functools.cache
def _insert_events(count: int) -> direct.Direct:
    """INSERT of `count` events, built once per count and run on the driver (store/direct.py):
    every write transaction makes one."""
    placeholders = ", ".join(
        "(" + ", ".join(f":{column}_{i}" for column in _EVENT_COLUMNS) + ")" for i in range(count)
    )
    types = [
        sa.bindparam(f"{column}_{i}", type_=t.events.c[column].type)
        for i in range(count)
        for column in _EVENT_COLUMNS
    ]
    sql = f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) VALUES {placeholders} RETURNING seq"
    return direct.Direct(sa.text(sql).bindparams(*types).columns(seq=sa.BigInteger))


def _configure_sqlite(engine: AsyncEngine, *, immediate: bool) -> None:
    @sa_event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below be the only transaction control.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        cur.close()

    @sa_event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass
class _Group:
    """SQLite writes committed together (Database._grouped_write)."""

    conn: AsyncConnection
    transaction: AsyncTransaction
    done: asyncio.Future[None]
    # Held here because the event loop keeps only a weak reference to a task.
    committer: asyncio.Task[None] | None = None


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, channels: ChannelLookup | None = None) -> None:
        self.url = url
        self.channels = channels
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        self._write_lock = asyncio.Lock()
        self.locks: dict[Any, asyncio.Lock] = {}
        self._after_commit: list[AfterCommit] = []
        self._on_jobs: list[Callable[[], None]] = []
        # SQLite's one writer connection, kept open between writes (see _writer).
        self._writer_conn: AsyncConnection | None = None
        self._group: _Group | None = None
        if self.dialect == "sqlite":
            connect = sqlite_inline.creator(make_url(url).database or ":memory:")
            self.engine = create_async_engine(
                url, async_creator=connect, pool_size=1, max_overflow=0, pool_timeout=120, **JSON
            )
            self.read_engine = create_async_engine(
                url, async_creator=connect, pool_size=pool_size, max_overflow=0, **JSON
            )
            _configure_sqlite(self.engine, immediate=True)
            _configure_sqlite(self.read_engine, immediate=False)
        else:
            self.engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=False, **JSON
            )
            self.read_engine = self.engine

    def on_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    def on_jobs_enqueued(self, callback: Callable[[], None]) -> None:
        self._on_jobs.append(callback)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.read_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        if self.dialect == "sqlite":
            async with self._grouped_write() as tx:
                yield tx
        else:
            async with self.engine.connect() as conn, self._in_transaction(conn) as tx:
                yield tx

    @asynccontextmanager
    async def _grouped_write(self) -> AsyncIterator[Tx]:
        """SQLite: one write in a group commit (decision 0047). Writes still run one at a time
        (the write lock); each is a savepoint of the group's transaction, so its failure undoes
        only itself, and the group is committed by a task that queued on the write lock when the
        group began: the writes already waiting then join it and share its BEGIN and COMMIT, the
        most expensive part of a small write. A write returns only after its group committed
        (and raises if that commit failed), so a caller never sees a change that is not durable."""
        group: _Group | None = None
        try:
            async with self._write_lock:
                group = self._group
                if group is None:
                    group = self._group = await self._open_group()
                tx = Tx(conn=group.conn, dialect=self.dialect, channels=self.channels)
                await self._savepoint(group, "SAVEPOINT frontdesk_write")
                try:
                    yield tx
                    await tx.finish()
                except BaseException:
                    await self._savepoint(group, "ROLLBACK TO frontdesk_write")
                    await self._savepoint(group, "RELEASE frontdesk_write")
                    raise
                await self._savepoint(group, "RELEASE frontdesk_write")
        except BaseException:
            # A failed write, too, returns only once its group has ended, so that no group is
            # left open behind a caller that goes on (or a process that exits).
            if group is not None and not group.done.done():
                with contextlib.suppress(BaseException):
                    await asyncio.shield(group.done)
            raise
        # The commit runs in its own task, so a caller cancelled here does not stall the group.
        await asyncio.shield(group.done)
        await self._committed(tx)

    async def _savepoint(self, group: _Group, sql: str) -> None:
        try:
            sqlite_inline.sqlite3_connection(group.conn).execute(sql)
        except sqlite3.Error as exc:  # the transaction itself is gone, and the group with it
            await self._end_group(group, exc)
            raise

    async def _open_group(self) -> _Group:
        conn = await self._writer()
        transaction = await conn.begin()  # BEGIN IMMEDIATE (_configure_sqlite)
        group = _Group(conn, transaction, asyncio.get_running_loop().create_future())
        # Queued behind the writes waiting now; the ones that come later queue behind it.
        group.committer = asyncio.create_task(self._commit_group(group))
        return group

    async def _commit_group(self, group: _Group) -> None:
        async with self._write_lock:
            if group.done.done():
                return
            try:
                await group.transaction.commit()
            except BaseException as exc:
                await self._end_group(group, exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                self._group = None
                group.done.set_result(None)

    async def _end_group(self, group: _Group, exc: BaseException) -> None:
        """Roll the group back; every write in it raises `exc` (none of them is acknowledged)."""
        if self._group is group:
            self._group = None
        with contextlib.suppress(Exception):
            await group.transaction.rollback()
        # A COMMIT that SQLite refused (a deferred constraint, a busy database) leaves its
        # transaction open, while SQLAlchemy already counts it as ended.
        with contextlib.suppress(Exception):
            raw = sqlite_inline.sqlite3_connection(group.conn)
            if raw.in_transaction:
                raw.rollback()
        if not group.done.done():
            group.done.set_exception(exc)
            group.done.exception()  # retrieved: a group nobody awaits any more logs nothing

    async def _writer(self) -> AsyncConnection:
        """SQLite writes one at a time (the write lock), so its one writer connection stays
        checked out: the pool's check-out, reset and check-in around every write cost about a
        twelfth of an ingested message's time. Opened again if an error invalidated it."""
        conn = self._writer_conn
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            conn = self._writer_conn = await self.engine.connect()
        return conn

    @asynccontextmanager
    async def _in_transaction(self, conn: AsyncConnection) -> AsyncIterator[Tx]:
        tx = Tx(conn=conn, dialect=self.dialect, channels=self.channels)
        async with conn.begin():
            yield tx
            await tx.finish()
        # Only reached when the commit succeeded: nothing is published for a failed write.
        await self._committed(tx)

    async def _committed(self, tx: Tx) -> None:
        published = tx.events + tx.announced
        if published:
            for callback in self._after_commit:
                try:
                    await callback(published)
                except Exception:
                    log.warning(
                        "events committed but not published",
                        exc_info=True,
                        extra={"first_seq": published[0]["seq"], "count": len(published)},
                    )
        if tx.jobs_enqueued:
            for wake in self._on_jobs:
                wake()

    async def dispose(self) -> None:
        if self._writer_conn is not None:
            async with self._write_lock:
                with contextlib.suppress(Exception):
                    await self._writer_conn.close()
                self._writer_conn = None
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


async def ping(db: Database) -> None:
    async with db.read() as conn:
        await conn.execute(sa.text("SELECT 1"))
