"""An agent who answers an unassigned conversation takes it (the inbox's `assign_on_reply`, on by
default), so a second agent does not answer the same customer unknowingly."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member, receive


async def reply(http: httpx.AsyncClient, who: Agent, ws: int, conv: int, text: str) -> httpx.Response:
    url = f"/api/v1/workspaces/{ws}/conversations/{conv}/messages"
    return await http.post(url, headers=who.headers, json={"text": text})


async def conversation(http: httpx.AsyncClient, who: Agent, ws: int, conv: int) -> dict[str, Any]:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def taken_lines(http: httpx.AsyncClient, who: Agent, ws: int, conv: int) -> list[dict[str, Any]]:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=who.headers)
    assert r.status_code == 200, r.text
    return [m for m in r.json()["messages"] if m["kind"] == "activity" and m["data"].get("by_reply")]


async def unassigned_open(http: httpx.AsyncClient, who: Agent, ws: int) -> int:
    r = await http.get(f"/api/v1/workspaces/{ws}/conversations/counts", headers=who.headers)
    return int(r.json()["unassigned"]["open"])


async def test_the_first_reply_takes_an_unassigned_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    ann = await make_member(server, http, ws, name="Ann")
    bob = await make_member(server, http, ws, name="Bob")
    inbox = await make_inbox(http, admin, ws, members=[ann.user_id, bob.user_id])
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    assert await unassigned_open(http, admin, ws) == 1

    assert (await reply(http, ann, ws, conv, "I'm on it")).status_code == 201
    assert (await conversation(http, admin, ws, conv))["assignee_id"] == ann.user_id
    assert await unassigned_open(http, admin, ws) == 0
    [line] = await taken_lines(http, admin, ws, conv)
    assert line["sender_id"] == ann.user_id
    assert line["text"] == "Ann took the conversation by replying"
    assert line["data"]["activity"] == "assigned" and line["data"]["assignee_id"] == ann.user_id

    # Bob's reply to Ann's conversation is sent, and takes nothing.
    assert (await reply(http, bob, ws, conv, "Ann will help you")).status_code == 201
    assert (await conversation(http, admin, ws, conv))["assignee_id"] == ann.user_id
    assert len(await taken_lines(http, admin, ws, conv)) == 1


async def test_an_inbox_can_turn_it_off(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws, assign_on_reply=False)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    assert (await reply(http, admin, ws, conv, "Hello")).status_code == 201
    assert (await conversation(http, admin, ws, conv))["assignee_id"] is None
    assert await taken_lines(http, admin, ws, conv) == []
    bad = await http.patch(
        f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}",
        headers=admin.headers,
        json={"settings": {"assign_on_reply": "yes"}},
    )
    assert bad.status_code == 422, bad.text
    assert "assign_on_reply" in bad.text


async def test_two_agents_replying_at_once_only_the_first_takes_it(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    agents = [await make_member(server, http, ws, name=f"Agent {i}") for i in range(4)]
    inbox = await make_inbox(http, admin, ws, members=[a.user_id for a in agents])
    for round_ in range(3):
        conv = (await receive(http, inbox, f"m-{round_}", contact=f"c-{round_}"))["conversation_id"]
        answers = await asyncio.gather(*(reply(http, a, ws, conv, f"Hi from {a.email}") for a in agents))
        assert [r.status_code for r in answers] == [201] * len(agents)
        [line] = await taken_lines(http, admin, ws, conv)
        assignee = (await conversation(http, admin, ws, conv))["assignee_id"]
        assert assignee == line["sender_id"] == line["data"]["assignee_id"]
        # The taker's reply is the first of the replies in the thread.
        r = await http.get(f"/api/v1/workspaces/{ws}/conversations/{conv}/messages", headers=admin.headers)
        first_reply = next(m for m in r.json()["messages"] if m["kind"] == "outgoing")
        assert first_reply["sender_id"] == assignee
    assert await unassigned_open(http, admin, ws) == 0
