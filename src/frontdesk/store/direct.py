"""Hot-path statements run straight on the driver connection, inside the write transaction.

SQLAlchemy's execution layer costs about 50 µs of Python per statement (execution context,
cache key, result set-up, a greenlet switch) around a few µs of SQLite; the ingest path runs
five to eight statements per message, so that layer, not the databases, bounded ingest
(bench/NOTES.md). A `Direct` statement is still written in SQLAlchemy Core and compiled by the
engine's own dialect, once: its SQL, the order of its parameters and the type processors of its
parameters and columns (JSON through orjson, UTCDateTime) are the same as through
`conn.execute`. Only the per-call machinery is skipped: sqlite3's `execute`, asyncpg's
`fetch` (with asyncpg's own prepared-statement cache). Errors keep SQLAlchemy's classes
(IntegrityError above all, which callers retry on).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.store import sqlite_inline

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[tuple[str, Processor], ...]  # positional order, with each one's bind processor
    defaults: dict[str, Any]  # an INSERT's columns with a Python-side scalar default
    columns: tuple[str, ...]
    results: tuple[Processor, ...]


class Direct:
    """A Core statement compiled once per dialect (and, for an INSERT or UPDATE, per set of
    column keys) and run on the driver connection. Execute with `run`."""

    def __init__(self, statement: sa.ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        kw: dict[str, Any] = {} if self.column_keys is None else {"column_keys": self.column_keys}
        compiled: Any = self.statement.compile(dialect=dialect, **kw)
        names = compiled.positiontup
        if names is None:  # both drivers in use take positional parameters
            raise TypeError(f"{dialect.name}: expected a positional paramstyle")
        params = tuple((name, compiled.binds[name].type._cached_bind_processor(dialect)) for name in names)
        # Values written into the statement (the 1 of `number + 1`) travel as parameters too.
        defaults: dict[str, Any] = {
            name: compiled.binds[name].effective_value
            for name in names
            if not compiled.binds[name].required and compiled.binds[name].callable is None
        }
        table = getattr(self.statement, "table", None)
        if isinstance(self.statement, sa.Insert) and table is not None:
            for column in table.columns:
                default = column.default
                if column.key in names and default is not None and column.key not in (self.column_keys or ()):
                    if not default.is_scalar:  # a callable default is computed by SQLAlchemy's context
                        raise TypeError(f"{table.name}.{column.key}: give it, its default is not a value")
                    defaults[column.key] = default.arg
        columns = tuple(c.keyname for c in compiled._result_columns)
        results = tuple(c.type._cached_result_processor(dialect, None) for c in compiled._result_columns)
        return _Compiled(compiled.string, params, defaults, columns, results)


def _values(c: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    values = []
    for name, process in c.params:
        # A KeyError names a parameter the caller forgot.
        value = params[name] if name in params or name not in c.defaults else c.defaults[name]
        values.append(process(value) if process is not None and value is not None else value)
    return values


def _rows(c: _Compiled, raw: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    if not c.columns:
        return []
    columns, results = c.columns, c.results
    rows = []
    for row in raw:
        rows.append(
            {
                name: (process(value) if process is not None else value)
                for name, process, value in zip(columns, results, row, strict=True)
            }
        )
    return rows


async def run(conn: AsyncConnection, statement: Direct, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Run `statement` in `conn`'s transaction; its rows (RETURNING included) as dicts."""
    dialect = conn.dialect
    c = statement.compiled(dialect)
    values = _values(c, params)
    sync: Any = conn.sync_connection
    if sync._has_events or sync.engine._has_events:
        # Listeners still see every statement (tests count a request's statements this way).
        sync.dispatch.before_cursor_execute(sync, None, c.sql, values, None, False)
    if dialect.name == "sqlite":
        return _rows(c, _sqlite(sqlite_inline.sqlite3_connection(conn), c.sql, values))
    return _rows(c, await _asyncpg(sync.connection.dbapi_connection, c.sql, values))


def _sqlite(raw: sqlite3.Connection, sql: str, values: list[Any]) -> list[Any]:
    # BEGIN IMMEDIATE was already sent by the transaction.
    try:
        return raw.execute(sql, values).fetchall()
    except sqlite3.IntegrityError as exc:
        raise sa.exc.IntegrityError(sql, values, exc) from exc
    except sqlite3.Error as exc:
        raise sa.exc.DBAPIError(sql, values, exc) from exc


async def _asyncpg(adapted: Any, sql: str, values: list[Any]) -> list[Any]:
    import asyncpg  # type: ignore[import-untyped]

    # SQLAlchemy's asyncpg adapter opens the transaction with the first statement it runs;
    # a statement sent past it must open it the same way, or it would run in autocommit.
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            return list(await adapted.driver_connection.fetch(sql, *values))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise sa.exc.IntegrityError(sql, values, exc) from exc
        except asyncpg.PostgresError as exc:
            raise sa.exc.DBAPIError(sql, values, exc) from exc
