"""SQLite for SQLAlchemy's async engine without a thread hop per statement.

aiosqlite runs every call on a helper thread; on a small machine each hop costs ~0.1 ms, and an
ingest makes a dozen statements, so the hops — not SQLite — bounded throughput near 100
messages/s. SQLite in WAL mode answers in microseconds from the page cache, so this connection
runs each call inline on the event loop and hands SQLAlchemy an already-finished awaitable.

The price: a write that has to wait for another *process* holding the write lock blocks the loop
(up to busy_timeout). Frontdesk has one writer per process (the write lock in db.py) and runs
the worker in-process on SQLite, so that wait only happens with extra processes on one file.
See docs/decisions/0007-sqlite-inline-connection.md.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection


class InlineCursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, seq)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _ImmediateQueue:
    """Stands in for aiosqlite's job queue, which SQLAlchemy uses to set isolation_level."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def sqlite3_connection(conn: AsyncConnection) -> sqlite3.Connection:
    """The sqlite3 connection under an AsyncConnection of an engine made with `creator`: for the
    statements frontdesk sends past SQLAlchemy (store/direct.py, the savepoints of db.py)."""
    adapted: Any = conn.sync_connection.connection.dbapi_connection  # type: ignore[union-attr]
    inline: InlineConnection = adapted.driver_connection
    return inline._conn


def creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine."""

    async def connect() -> InlineConnection:
        return InlineConnection(sqlite3.connect(path, check_same_thread=False, isolation_level=None))

    return connect
