"""Conversation actions through the API: status and snooze, assignment and transfer, labels,
priority, notes with @mentions, participants, tab counts, filters, paging, search."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from frontdesk.domain.enums import Role
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member, message, post_inbound, receive


def conv_url(ws_id: int, conv_id: int, tail: str = "") -> str:
    return f"/api/v1/workspaces/{ws_id}/conversations/{conv_id}{tail}"


async def thread(http: httpx.AsyncClient, who: Agent, ws_id: int, conv_id: int) -> list[dict[str, Any]]:
    r = await http.get(conv_url(ws_id, conv_id, "/messages"), headers=who.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["messages"])


async def counts(http: httpx.AsyncClient, who: Agent, ws_id: int) -> dict[str, Any]:
    r = await http.get(f"/api/v1/workspaces/{ws_id}/conversations/counts", headers=who.headers)
    return dict(r.json())


async def test_status_changes_write_activity_and_move_counts(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    a = await receive(http, inbox, "m-1", contact="a")
    await receive(http, inbox, "m-2", contact="b")
    assert (await counts(http, admin, ws_id))["all"]["open"] == 2
    r = await http.patch(
        conv_url(ws_id, a["conversation_id"]),
        headers=admin.headers,
        json={"status": "pending", "priority": "high"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["priority"]) == ("pending", "high")
    c = await counts(http, admin, ws_id)
    assert c["all"]["open"] == 1 and c["all"]["pending"] == 1 and c["unassigned"]["pending"] == 1
    activity = [m for m in await thread(http, admin, ws_id, a["conversation_id"]) if m["kind"] == "activity"]
    assert [m["data"]["activity"] for m in activity] == ["status_changed", "priority_changed"]


async def test_snooze_requires_a_future_time_and_wakes_up(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.patch(conv_url(ws_id, conv), headers=admin.headers, json={"status": "snoozed"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "snoozed_until"
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await http.patch(
        conv_url(ws_id, conv), headers=admin.headers, json={"status": "snoozed", "snoozed_until": past}
    )
    assert r.status_code == 422
    soon = (datetime.now(UTC) + timedelta(seconds=0.5)).isoformat()
    r = await http.patch(
        conv_url(ws_id, conv), headers=admin.headers, json={"status": "snoozed", "snoozed_until": soon}
    )
    assert r.json()["status"] == "snoozed"
    async with asyncio.timeout(10):
        while (await http.get(conv_url(ws_id, conv), headers=admin.headers)).json()["status"] != "open":
            await asyncio.sleep(0.1)
    assert (await counts(http, admin, ws_id))["all"] == {"open": 1, "pending": 0, "snoozed": 0, "resolved": 0}


async def test_assign_and_transfer_with_comment(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    ada = await make_member(server, http, ws_id, name="Ada")
    bob = await make_member(server, http, ws_id, name="Bob")
    outsider = await make_member(server, http, ws_id, name="Olga")
    inbox = await make_inbox(http, admin, ws_id, members=[ada.user_id, bob.user_id])
    team = (
        await http.post(f"/api/v1/workspaces/{ws_id}/teams", headers=admin.headers, json={"name": "Billing"})
    ).json()
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.post(
        conv_url(ws_id, conv, "/assignment"), headers=ada.headers, json={"assignee_id": ada.user_id}
    )
    assert r.json()["assignee_id"] == ada.user_id
    assert (await counts(http, ada, ws_id))["mine"]["open"] == 1
    r = await http.post(
        conv_url(ws_id, conv, "/assignment"),
        headers=ada.headers,
        json={"assignee_id": bob.user_id, "team_id": team["id"], "comment": "VIP, refund asked"},
    )
    assert (r.json()["assignee_id"], r.json()["team_id"]) == (bob.user_id, team["id"])
    assert (await counts(http, ada, ws_id))["mine"]["open"] == 0
    assert (await counts(http, bob, ws_id))["mine"]["open"] == 1
    last = (await thread(http, admin, ws_id, conv))[-1]
    assert last["kind"] == "activity" and last["data"]["comment"] == "VIP, refund asked"
    assert "Bob / Billing" in last["text"]
    r = await http.post(
        conv_url(ws_id, conv, "/assignment"), headers=admin.headers, json={"assignee_id": outsider.user_id}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "assignee_id"


async def test_labels_must_exist_and_filter_the_list(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    await http.post(f"/api/v1/workspaces/{ws_id}/labels", headers=admin.headers, json={"name": "vip"})
    a = (await receive(http, inbox, "m-1", contact="a"))["conversation_id"]
    await receive(http, inbox, "m-2", contact="b")
    r = await http.put(conv_url(ws_id, a, "/labels"), headers=admin.headers, json={"labels": ["vip", "nope"]})
    assert r.status_code == 422 and "nope" in r.json()["error"]["message"]
    r = await http.put(conv_url(ws_id, a, "/labels"), headers=admin.headers, json={"labels": ["vip"]})
    assert r.json()["labels"] == ["vip"]
    listed = (
        await http.get(f"/api/v1/workspaces/{ws_id}/conversations?label=vip", headers=admin.headers)
    ).json()
    assert [c["id"] for c in listed["conversations"]] == [a]


async def test_note_mentions_add_participants_and_are_not_delivered(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    ada = await make_member(server, http, ws_id, name="Ada Lovelace")
    inbox = await make_inbox(http, admin, ws_id, members=[ada.user_id])
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.post(
        conv_url(ws_id, conv, "/messages"),
        headers=admin.headers,
        json={"text": "@adalovelace please check", "private": True},
    )
    assert r.status_code == 201
    note = r.json()
    assert note["kind"] == "note" and note["delivery_status"] is None
    assert note["data"]["mentions"] == [ada.user_id]
    async with server.services.db.read() as conn:
        import sqlalchemy as sa

        from frontdesk.store import tables as t

        jobs = (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar_one()
        parts = (await conn.execute(sa.select(t.participants.c.user_id))).scalars().all()
    assert jobs == 0
    assert list(parts) == [ada.user_id]


async def test_invite_participant(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    sup = await make_member(server, http, ws_id, role=Role.SUPERVISOR, name="Sue")
    inbox = await make_inbox(http, admin, ws_id)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    r = await http.post(
        conv_url(ws_id, conv, "/participants"), headers=admin.headers, json={"user_id": sup.user_id}
    )
    assert r.status_code == 200, r.text
    assert (await thread(http, admin, ws_id, conv))[-1]["data"]["activity"] == "participant_added"


async def test_list_is_newest_first_with_keyset_pages(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    ids = [(await receive(http, inbox, f"m-{i}", contact=f"c{i}"))["conversation_id"] for i in range(7)]
    seen: list[int] = []
    cursor = None
    while True:
        q = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations{q}", headers=admin.headers)).json()
        seen += [c["id"] for c in page["conversations"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    bad = await http.get(f"/api/v1/workspaces/{ws_id}/conversations?cursor=zzz", headers=admin.headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


async def test_archive_and_unassigned_views(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    a = (await receive(http, inbox, "m-1", contact="a"))["conversation_id"]
    b = (await receive(http, inbox, "m-2", contact="b"))["conversation_id"]
    await http.patch(conv_url(ws_id, a), headers=admin.headers, json={"status": "resolved"})
    await http.post(
        conv_url(ws_id, b, "/assignment"), headers=admin.headers, json={"assignee_id": admin.user_id}
    )
    base = f"/api/v1/workspaces/{ws_id}/conversations"

    async def ids(q: str) -> list[int]:
        return [c["id"] for c in (await http.get(base + q, headers=admin.headers)).json()["conversations"]]

    assert await ids("") == [b]
    assert await ids("?all_statuses=true") == [b, a]
    assert await ids("?status=resolved") == [a]
    assert await ids("?mine=true") == [b]
    assert await ids("?unassigned=true") == []


async def test_search_messages_and_contacts(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    await receive(http, inbox, "m-1", contact="a", text="Siparişim nerede? Kargo gecikti")
    await receive(http, inbox, "m-2", contact="b", text="سفارش من هنوز ارسال نشده است")
    base = f"/api/v1/workspaces/{ws_id}/search"
    r = (await http.get(base, params={"q": "kargo"}, headers=admin.headers)).json()
    assert [m["text"] for m in r["messages"]] == ["Siparişim nerede? Kargo gecikti"]
    r = (await http.get(base, params={"q": "سفارش"}, headers=admin.headers)).json()
    assert len(r["messages"]) == 1
    r = (await http.get(base, params={"q": "sipar"}, headers=admin.headers)).json()
    assert len(r["messages"]) == 1  # prefix match
    r = (await http.get(base, params={"q": "ann"}, headers=admin.headers)).json()
    assert len(r["contacts"]) == 2
    await post_inbound(http, inbox, message("m-3", contact="c", email="Zoe.Q@Example.com"))
    r = (await http.get(base, params={"q": "zoe.q@example.COM"}, headers=admin.headers)).json()
    assert [c["email"] for c in r["contacts"]] == ["Zoe.Q@Example.com"]
    r = await http.get(base, params={"q": "***"}, headers=admin.headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "q"


async def test_canned_responses(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    agent = await make_member(server, http, ws_id)
    base = f"/api/v1/workspaces/{ws_id}/canned-responses"
    r = await http.post(base, headers=admin.headers, json={"short_code": "/bye", "text": "Goodbye!"})
    assert r.status_code == 201 and r.json()["short_code"] == "bye"
    dup = await http.post(base, headers=admin.headers, json={"short_code": "bye", "text": "again"})
    assert dup.status_code == 409
    assert (
        await http.post(base, headers=agent.headers, json={"short_code": "x", "text": "y"})
    ).status_code == 403
    found = (await http.get(base + "?q=/b", headers=agent.headers)).json()
    assert [c["text"] for c in found] == ["Goodbye!"]
    assert (
        await http.patch(f"{base}/{r.json()['id']}", headers=admin.headers, json={"text": "Bye now"})
    ).status_code == 204
    assert (await http.delete(f"{base}/{r.json()['id']}", headers=admin.headers)).status_code == 204
    assert (await http.get(base, headers=agent.headers)).json() == []


async def test_first_reply_time_and_waiting_since(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    before = (await http.get(conv_url(ws_id, conv), headers=admin.headers)).json()
    assert before["waiting_since"] is not None and before["first_reply_at"] is None
    await http.post(conv_url(ws_id, conv, "/messages"), headers=admin.headers, json={"text": "Hi!"})
    after = (await http.get(conv_url(ws_id, conv), headers=admin.headers)).json()
    assert after["waiting_since"] is None
    assert after["first_reply_at"] is not None and after["first_reply_seconds"] >= 0


async def test_label_filter_follows_activity_and_status(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    await http.post(f"/api/v1/workspaces/{ws_id}/labels", headers=admin.headers, json={"name": "vip"})
    convs = [(await receive(http, inbox, f"m-{i}", contact=f"c{i}"))["conversation_id"] for i in range(4)]
    for conv in convs:
        await http.put(conv_url(ws_id, conv, "/labels"), headers=admin.headers, json={"labels": ["vip"]})
    base = f"/api/v1/workspaces/{ws_id}/conversations"

    async def ids(q: str) -> list[int]:
        page = (await http.get(base + q, headers=admin.headers)).json()
        return [c["id"] for c in page["conversations"]]

    assert await ids("?label=vip") == list(reversed(convs))
    await receive(http, inbox, "m-again", contact="c0")  # the oldest becomes the newest
    assert await ids("?label=vip") == [convs[0], convs[3], convs[2], convs[1]]
    await http.patch(conv_url(ws_id, convs[3]), headers=admin.headers, json={"status": "resolved"})
    assert await ids("?label=vip") == [convs[0], convs[2], convs[1]]
    assert await ids("?label=vip&status=resolved") == [convs[3]]
    assert await ids("?label=vip&all_statuses=true") == [convs[0], convs[3], convs[2], convs[1]]
    first = (await http.get(base + "?label=vip&limit=2", headers=admin.headers)).json()
    rest = await ids(f"?label=vip&limit=2&cursor={first['next_cursor']}")
    assert [c["id"] for c in first["conversations"]] + rest == [convs[0], convs[2], convs[1]]


async def test_search_paths_give_the_same_newest_matches(server: Server, http: httpx.AsyncClient) -> None:
    """On PostgreSQL a search walks messages newest first for a short time, then asks the
    full-text index; both paths must return the same page."""
    from frontdesk.access import access_actor_by_workspace
    from frontdesk.store import queries

    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    for i in range(6):
        await receive(http, inbox, f"m-{i}", contact=f"c{i}", text=f"refund request number {i}")
    async with server.services.db.read() as conn:
        actor = await access_actor_by_workspace(conn, admin.user_id, ws_id)
        walked = await queries.search(conn, actor, "refund", 4)
        indexed = await queries.search(conn, actor, "refund", 4, walk=False)
    texts = [m["text"] for m in walked["messages"]]
    assert texts == [f"refund request number {i}" for i in (5, 4, 3, 2)]
    assert indexed == walked


async def test_a_slow_newest_first_walk_gives_way_and_leaves_the_transaction_usable(server: Server) -> None:
    if server.services.db.dialect != "postgresql":
        pytest.skip("the time-limited walk is PostgreSQL's; SQLite's FTS5 needs none")
    import sqlalchemy as sa

    from frontdesk.store import queries

    async with server.services.db.read() as conn:
        slow = sa.select(sa.func.pg_sleep(0.5).label("slept"))
        assert await queries._newest_first(conn, slow) is None
        assert (await conn.execute(sa.text("SHOW statement_timeout"))).scalar() == "0"
        assert (await conn.execute(sa.text("SELECT 1"))).scalar() == 1
