"""Query counts pinned on the hot paths: an N+1 fails here, not in production."""

from __future__ import annotations

import httpx

from tests.conftest import BACKEND, Server
from tests.factories import make_admin, make_inbox, receive


async def statements_for(server: Server, call: object) -> list[str]:
    server.counter.statements.clear()
    server.counter.enabled = True
    try:
        await call  # type: ignore[misc]
    finally:
        server.counter.enabled = False
    return list(server.counter.statements)


async def test_list_and_counts_do_not_grow_with_rows(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    url = f"/api/v1/workspaces/{ws}/conversations?limit=50"
    await receive(http, inbox, "m-0", contact="c0")
    few = await statements_for(server, http.get(url, headers=admin.headers))
    for i in range(1, 12):
        await receive(http, inbox, f"m-{i}", contact=f"c{i}")
    many = await statements_for(server, http.get(url, headers=admin.headers))
    assert len(few) == len(many) == 3, many  # token, membership, list
    counts = await statements_for(
        server, http.get(f"/api/v1/workspaces/{ws}/conversations/counts", headers=admin.headers)
    )
    assert len(counts) == 3, counts


async def test_thread(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    conv = (await receive(http, inbox, "m-0"))["conversation_id"]
    for i in range(1, 10):
        await receive(http, inbox, f"m-{i}")
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    assert len(await statements_for(server, http.get(url, headers=admin.headers))) == 4


async def test_ingest(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    first = await statements_for(server, receive(http, inbox, "m-0", contact="new"))
    # inbox (then cached), sender and provider id look-up (one), contact, identity,
    # conversation number (SQLite; PostgreSQL takes it in the conversation's insert),
    # conversation, counter, message, events (one statement for all)
    assert len(first) == (9 if BACKEND == "sqlite" else 8), first
    follow_up = await statements_for(server, receive(http, inbox, "m-1", contact="new"))
    # sender + provider id + latest conversation in one, message, conversation update (in the
    # message's statement on PostgreSQL), events
    assert len(follow_up) == (4 if BACKEND == "sqlite" else 3), follow_up
    duplicate = await statements_for(server, receive(http, inbox, "m-1", contact="new"))
    assert len(duplicate) == 1, duplicate


async def test_administration_lists_and_conversation_detail(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    base = f"/api/v1/workspaces/{ws}"

    async def counts() -> list[int]:
        conv = (await receive(http, inbox, f"m-{len(calls)}", contact=f"c{len(calls)}"))["conversation_id"]
        await http.post(
            f"{base}/conversations/{conv}/participants",
            headers=admin.headers,
            json={"user_id": admin.user_id},
        )
        return [
            len(await statements_for(server, http.get(url, headers=admin.headers)))
            for url in (f"{base}/teams", f"{base}/labels", f"{base}/inboxes", f"{base}/conversations/{conv}")
        ]

    calls: list[list[int]] = []
    calls.append(await counts())
    for i in range(4):
        team = (await http.post(f"{base}/teams", headers=admin.headers, json={"name": f"T{i}"})).json()
        await http.post(
            f"{base}/teams/{team['id']}/members", headers=admin.headers, json={"user_id": admin.user_id}
        )
        await http.post(f"{base}/labels", headers=admin.headers, json={"name": f"l{i}"})
        await make_inbox(http, admin, ws)
    calls.append(await counts())
    # token and membership, then: teams and their members; labels; inboxes; conversation, participants
    assert calls[0] == calls[1] == [4, 3, 3, 4], calls
