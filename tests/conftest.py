"""Test fixtures: a real database (SQLite or PostgreSQL, chosen by FRONTDESK_TEST_BACKEND),
a real uvicorn server on 127.0.0.1, real HTTP and websocket clients. No mocks of our code."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import socket
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy import event as sa_event

from frontdesk.app import create_app
from frontdesk.services import Services
from frontdesk.settings import Settings
from frontdesk.store.migrate import upgrade

if TYPE_CHECKING:
    from tests.fakes import FakeProvider
    from tests.receiver import Receiver
    from tests.redis_server import RedisServer

BACKEND = os.environ.get("FRONTDESK_TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("FRONTDESK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "")
TEST_SECRET = "test-secret-key-0123456789abcdef"
# Runs sharing one Redis must not hear each other's events.
REDIS_CHANNEL = f"frontdesk:test:{uuid.uuid4().hex}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_exec(sql: str) -> None:
    engine = sa.create_engine(
        PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL database to truncate."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "frontdesk.db"
        upgrade(f"sqlite+aiosqlite:///{path}")
        yield str(path)
    else:
        name = f"frontdesk_test_{uuid.uuid4().hex[:10]}"
        pg_exec(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
        upgrade(url)
        yield url
        pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _empty_pg(url: str) -> None:
    """Every table emptied and every id sequence back at 1, as a fresh database. DELETE with the
    foreign-key triggers off (the test user is the superuser), not TRUNCATE: TRUNCATE makes new
    files for all ~40 tables and took about 0.25 s before every test; a DELETE of the few rows
    a test leaves takes a few milliseconds."""
    import asyncpg  # type: ignore[import-untyped]

    from frontdesk.store.tables import metadata

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # One round trip: a parameterless script runs as one simple-protocol query.
        deletes = "".join(f'DELETE FROM "{table.name}"; ' for table in metadata.sorted_tables)
        await conn.execute(
            "BEGIN; SET LOCAL session_replication_role = replica; "
            + deletes
            + "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'S' AND n.nspname = 'public'; COMMIT"
        )
    finally:
        await conn.close()


@pytest.fixture
async def database_url(template: str, tmp_path: Path) -> str:
    if BACKEND == "sqlite":
        target = tmp_path / "frontdesk.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
    await _empty_pg(template)
    return template


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        database_url=database_url,
        data_dir=data_dir,
        secret_key=TEST_SECRET,
        dev_mode=True,
        redis_url=REDIS_URL if BACKEND == "postgres" else "",
        redis_channel=REDIS_CHANNEL,
        job_poll_seconds=0.02,
        job_backoff_base_seconds=0.05,
        job_backoff_max_seconds=0.2,
        job_max_attempts=3,
        outbound_timeout_seconds=2.0,
        log_format="text",
    )
    values.update(overrides)
    return Settings(**values)


_IGNORED = ("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")


@dataclass
class QueryCounter:
    statements: list[str] = field(default_factory=list)
    enabled: bool = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The worker's polling runs beside every request; it is not the request's work.
        worker_poll = statement.startswith(("SELECT jobs.id", "UPDATE jobs SET status"))
        if self.enabled and not worker_poll and not statement.startswith(_IGNORED):
            self.statements.append(statement)


@dataclass
class Server:
    url: str
    services: Services
    counter: QueryCounter

    def ws_url(self, path: str) -> str:
        return "ws://" + self.url.removeprefix("http://") + path


class _QuickServer(uvicorn.Server):
    """uvicorn's server, looking for `should_exit` every 10 ms instead of every 100 ms: some
    1,500 test servers a run each waited about 50 ms for that tick to shut down."""

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 8_640_000
            await asyncio.sleep(0.01)
            # on_tick refreshes the Date header every 10th call: once a second at 100 ms
            # ticks; here it is refreshed 10 times a second, which costs nothing that matters.
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed 100 ms pause: stop accepting, ask every
        connection to close, wait (polling every 10 ms) until they and their tasks are done, then
        run the app's lifespan shutdown."""
        for listener in self.servers:
            listener.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_SECONDS / 3  # inside _shut_down's wait
        while (state.connections or state.tasks) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        for task in list(state.tasks):
            task.cancel()
        for listener in self.servers:
            await listener.wait_closed()
        await self.lifespan.shutdown()


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, *, with_worker: bool = True, port: int | None = None
) -> AsyncIterator[Server]:
    """A real uvicorn server of the app on a free port (several may share one database), or on
    `port` (a test whose settings name the server's own address).
    with_worker=False: a test drives a worker of its own."""
    app = create_app(settings, with_worker=with_worker)
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # as `frontdesk serve` runs
    )
    uv = _QuickServer(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):
        if uv.started:
            break
        await asyncio.sleep(0.01)
    services: Services = app.state.services
    counter = QueryCounter()
    for engine in {services.db.engine, services.db.read_engine}:
        sa_event.listen(engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield Server(url=f"http://127.0.0.1:{port}", services=services, counter=counter)
    finally:
        uv.should_exit = True
        await _shut_down(task)


SHUTDOWN_SECONDS = 30.0


async def _shut_down(task: asyncio.Task[None]) -> None:
    """Wait for the server's shutdown. In full PostgreSQL runs it now and then hung: the Redis
    bus's watcher lost its cancellation inside redis-py and went on pinging, and the shutdown
    waited for it (fixed in bus/redis.py, tests/test_bus_outage.py). Should a shutdown hang
    again, the stacks of every task are given as a warning, so the cause can be traced, and the
    server is cancelled, so the test's own assertions decide its result."""
    done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_SECONDS)
    if done:
        task.result()
        return
    stacks = io.StringIO()
    for other in asyncio.all_tasks():
        other.print_stack(file=stacks)
    # A warning, not a print: pytest shows warnings in its summary even for a passing test.
    warnings.warn(
        f"test server still shutting down after {SHUTDOWN_SECONDS:.0f} s; its tasks:\n{stacks.getvalue()}",
        stacklevel=1,
    )
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


@pytest.fixture
async def server(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    overrides = dict(getattr(request, "param", {}) or {})
    with_worker = overrides.pop("with_worker", True)
    settings = make_settings(database_url, tmp_path / "data", **overrides)
    async with serving(settings, with_worker=with_worker) as running:
        yield running


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """The app behind an API inbox: a real HTTP server on 127.0.0.1 (tests/receiver.py)."""
    from tests.receiver import Receiver

    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[FakeProvider]:
    """One fake provider server for the session (tests/fakes/provider.py), in its own thread."""
    from tests.fakes import FakeProvider

    provider = FakeProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture
def fake_provider(fake_provider_server: FakeProvider) -> FakeProvider:
    """The session's fake provider, emptied for this test: no calls, scripts or media."""
    fake_provider_server.reset()
    return fake_provider_server


@pytest.fixture
def loopback_channel() -> Iterator[None]:
    """The test-only "loopback" channel (tests/fakes/channel.py) installed for one test."""
    from frontdesk.channels.registry import adapters
    from tests.fakes.channel import LoopbackAdapter

    adapters()["loopback"] = LoopbackAdapter
    yield
    adapters().pop("loopback", None)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own (tests/redis_server.py), to kill or hang at will."""
    from tests.redis_server import RedisServer

    redis_server = RedisServer(tmp_path / "redis")
    redis_server.start()
    try:
        yield redis_server
    finally:
        redis_server.kill()
