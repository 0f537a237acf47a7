"""An agent's post repeated with the same key (client_id or Idempotency-Key) is stored, and
delivered, once: the repeat answers 200 with the message the first post stored."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from frontdesk.store import tables as t
from tests.channels.web.test_web_channel import make_web_inbox, say, session
from tests.conftest import BACKEND, Server
from tests.factories import Agent, make_admin, make_inbox, make_member, receive


async def _conversation(server: Server, http: httpx.AsyncClient) -> tuple[Agent, str]:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    return admin, f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"


async def _stored(server: Server, **where: Any) -> int:
    m = t.messages
    async with server.services.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(m).where(*(m.c[k] == v for k, v in where.items()))
        return int((await conn.execute(query)).scalar_one())


async def _reply_jobs(server: Server) -> int:
    async with server.services.db.read() as conn:
        query = sa.select(sa.func.count()).select_from(t.jobs).where(t.jobs.c.kind == "send_reply")
        return int((await conn.execute(query)).scalar_one())


async def test_repeat_with_the_same_client_id_returns_the_first_message(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, url = await _conversation(server, http)
    first = await http.post(url, headers=admin.headers, json={"text": "On its way", "client_id": "c-1"})
    assert first.status_code == 201, first.text
    again = await http.post(url, headers=admin.headers, json={"text": "On its way", "client_id": "c-1"})
    assert again.status_code == 200, again.text
    # The same message, as it is now (its delivery may have moved on since).
    moving = {
        "delivery_status": None,
        "failure_reason": None,
        "failure_detail": None,
        "delivery_attempts": None,
    }
    assert {**again.json(), **moving} == {**first.json(), **moving}
    assert await _stored(server, text="On its way") == 1
    assert await _reply_jobs(server) == 1
    # Without a key every post is a new message, as before.
    for _ in range(2):
        r = await http.post(url, headers=admin.headers, json={"text": "No key"})
        assert r.status_code == 201, r.text
    assert await _stored(server, text="No key") == 2


async def test_idempotency_key_header_and_notes(server: Server, http: httpx.AsyncClient) -> None:
    admin, url = await _conversation(server, http)
    headers = {**admin.headers, "Idempotency-Key": "k-9"}
    body = {"text": "Checking with the warehouse", "private": True}
    first = await http.post(url, headers=headers, json=body)
    again = await http.post(url, headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["kind"] == "note"
    # The same key in the body is the same key.
    same = await http.post(url, headers=admin.headers, json={**body, "client_id": "k-9"})
    assert same.status_code == 200 and same.json()["id"] == first.json()["id"]
    assert await _stored(server, text=body["text"]) == 1


async def test_key_reused_for_other_text_or_mismatched_keys_is_refused(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, url = await _conversation(server, http)
    r = await http.post(url, headers=admin.headers, json={"text": "First", "client_id": "c-2"})
    assert r.status_code == 201
    other = await http.post(url, headers=admin.headers, json={"text": "Second", "client_id": "c-2"})
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "client_id_reused"
    both = await http.post(
        url, headers={**admin.headers, "Idempotency-Key": "a"}, json={"text": "Third", "client_id": "b"}
    )
    assert both.status_code == 422 and both.json()["error"]["field"] == "client_id", both.text
    empty = await http.post(url, headers=admin.headers, json={"text": "Fourth", "client_id": ""})
    assert empty.status_code == 422, empty.text
    assert await _stored(server, text="Second") == await _stored(server, text="Third") == 0


async def test_keys_are_per_author(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    colleague = await make_member(server, http, ws)
    inbox = await make_inbox(http, admin, ws, members=[admin.user_id, colleague.user_id])
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    mine = await http.post(url, headers=admin.headers, json={"text": "Hi", "client_id": "c-1"})
    theirs = await http.post(url, headers=colleague.headers, json={"text": "Hi", "client_id": "c-1"})
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize("private", [False, True])
async def test_concurrent_repeats_store_one_message(
    server: Server, http: httpx.AsyncClient, private: bool
) -> None:
    admin, url = await _conversation(server, http)
    body = {"text": "Sent twice at once", "client_id": "c-race", "private": private}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as other:
        answers = await asyncio.gather(
            *(client.post(url, headers=admin.headers, json=body) for client in (http, other, http, other))
        )
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert await _stored(server, text=body["text"]) == 1
    assert await _reply_jobs(server) == (0 if private else 1)


async def test_the_database_refuses_a_second_message_with_the_same_key(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, url = await _conversation(server, http)
    r = await http.post(url, headers=admin.headers, json={"text": "Once", "client_id": "c-db"})
    m = t.messages
    async with server.services.db.read() as conn:
        row = dict((await conn.execute(sa.select(m).where(m.c.id == r.json()["id"]))).mappings().one())
    del row["id"]
    with pytest.raises(IntegrityError):
        async with server.services.db.write() as tx:
            await tx.conn.execute(m.insert().values(**row))


async def test_concurrent_visitor_sends_with_one_client_id_store_one_message(
    server: Server, http: httpx.AsyncClient
) -> None:
    """The widget's sends were already keyed by its client_id; at once, too, they store one."""
    admin, ws = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws)
    token = (await session(http, inbox, name="Ann"))["visitor_token"]
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as other:
        answers = await asyncio.gather(
            *(
                say(client, inbox, token, "Where is my order?", "c-same")
                for client in (http, other, http, other)
            )
        )
    assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
    assert len({r.json()["message_id"] for r in answers}) == 1
    assert await _stored(server, text="Where is my order?") == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="SQLite has one writer: no insert can interleave")
async def test_a_post_waits_for_an_uncommitted_insert_of_its_key_and_answers_it(
    server: Server, http: httpx.AsyncClient
) -> None:
    """A message with the key written by another transaction, even one that took no lock of its
    own, holds the post (its FOR UPDATE waits on the insert's foreign-key lock on the
    conversation); once that commits, the post finds it and answers it instead of a second."""
    admin, url = await _conversation(server, http)
    template = await http.post(url, headers=admin.headers, json={"text": "Same", "client_id": "c-0"})
    m = t.messages
    async with server.services.db.read() as conn:
        row = dict((await conn.execute(sa.select(m).where(m.c.id == template.json()["id"]))).mappings().one())
    del row["id"]
    async with server.services.db.write() as tx:
        first_id = (
            await tx.conn.execute(m.insert().values(**{**row, "client_id": "c-1"}).returning(m.c.id))
        ).scalar_one()
        post = asyncio.create_task(
            http.post(url, headers=admin.headers, json={"text": "Same", "client_id": "c-1"})
        )
        await asyncio.sleep(1.0)  # the post waits for this transaction
        assert not post.done()
    answer = await post
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == first_id
    assert await _stored(server, text="Same") == 2  # the template and the first: no third
