"""Conversation numbers (store/conversation_numbers.py, decision 0048): each workspace counts its
own conversations from #1, concurrent openings never share a number, and on PostgreSQL the
migration starts each workspace's sequence where its row's counter stood."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.store import tables as t
from frontdesk.store.migrate import upgrade
from tests.conftest import BACKEND, PG_ADMIN_URL, Server, pg_exec
from tests.factories import make_admin, make_inbox, receive


async def _numbers(server: Server, workspace_id: int) -> list[int]:
    async with server.services.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.conversations.c.number)
            .where(t.conversations.c.workspace_id == workspace_id)
            .order_by(t.conversations.c.number)
        )
        return list(rows.scalars())


async def test_concurrent_openings_take_distinct_numbers_per_workspace(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_a = await make_admin(server, http, "Acme")
    inbox_a = await make_inbox(http, admin, ws_a)
    other, ws_b = await make_admin(server, http, "Globex")
    inbox_b = await make_inbox(http, other, ws_b)
    await asyncio.gather(
        *(receive(http, inbox_a, f"a-{i}", contact=f"ann-{i}") for i in range(25)),
        *(receive(http, inbox_b, f"b-{i}", contact=f"bob-{i}") for i in range(5)),
    )
    # A message from a known sender opens nothing and takes no number.
    await receive(http, inbox_a, "a-again", contact="ann-0")
    assert await _numbers(server, ws_a) == list(range(1, 26))
    assert await _numbers(server, ws_b) == list(range(1, 6))


@pytest.mark.skipif(BACKEND != "postgres", reason="the sequences are PostgreSQL's")
def test_migration_starts_each_sequence_at_the_workspace_counter() -> None:
    name = f"frontdesk_numbers_{uuid.uuid4().hex[:10]}"
    pg_exec(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        upgrade(url.replace("postgresql://", "postgresql+asyncpg://"), "0016")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO workspaces (id, name, next_conversation_number, created_at) "
                    "VALUES (7, 'Acme', 42, now()), (8, 'Globex', 1, now())"
                )
            )
        upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
        with engine.begin() as conn:
            taken = [
                conn.execute(sa.text(f"SELECT nextval('conversation_numbers_{ws}')")).scalar_one()
                for ws in (7, 7, 8)
            ]
        engine.dispose()
        assert taken == [42, 43, 1]
    finally:
        pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
