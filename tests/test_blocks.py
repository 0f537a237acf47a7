"""Blocking contacts (W4): who may, what is recorded and announced, and what stays private."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
import websockets

from frontdesk.store import tables as t
from tests.channels.web.test_visits import PageView, arrive, new_visitor, set_members, setup, web_inbox
from tests.conftest import Server
from tests.factories import make_admin, make_member
from tests.test_admin_objects import audit_actions
from tests.test_loop import next_event


async def contact_events(server: Server, workspace_id: int) -> list[dict[str, object]]:
    async with server.services.db.read() as conn:
        rows = await conn.execute(
            sa.select(t.events.c.inbox_id, t.events.c.payload)
            .where(t.events.c.workspace_id == workspace_id, t.events.c.type == "contact.updated")
            .order_by(t.events.c.seq)
        )
        return [{"inbox_id": r.inbox_id, **r.payload["contact"]} for r in rows]


async def test_an_agent_blocks_and_unblocks_a_contact_they_see(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws, inbox = await setup(server, http)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox, [agent.user_id])
    v = await new_visitor(server, inbox)
    visit = await arrive(server, v, PageView("https://shop.example.com/"))
    base = f"/api/v1/workspaces/{ws}"
    url = f"{base}/contacts/{v.contact_id}/block"
    # An agent sees the contact once it has a conversation in one of their inboxes.
    assert (await http.post(url, headers=agent.headers)).status_code == 404
    chat = await http.post(f"{base}/visitors/{visit['id']}/chat", headers=agent.headers, json={"text": "Hi"})
    assert chat.status_code == 201, chat.text
    before = len(await contact_events(server, ws))

    async with websockets.connect(server.ws_url(f"{base}/stream"), additional_headers=agent.headers) as sock:
        assert json.loads(await sock.recv())["type"] == "ready"
        r = await http.post(url, headers=agent.headers)
        assert r.status_code == 200, r.text
        blocked = r.json()
        assert blocked["id"] == v.contact_id and blocked["blocked_at"] is not None
        updated = await next_event(sock, "contact.updated")
        assert updated["inbox_id"] == inbox["id"]
        assert updated["data"]["contact"]["blocked_at"] == blocked["blocked_at"]
        announced = await next_event(sock, "contact.blocked")
        assert (announced["seq"], announced["inbox_id"], announced["data"]) == (
            None,
            None,
            {"contact_id": v.contact_id},
        )
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.contacts).where(t.contacts.c.id == v.contact_id)))
            .mappings()
            .one()
        )
    assert row["blocked_by_id"] == agent.user_id and row["blocked_at"] is not None

    # Everyone who sees the contact sees that it is blocked.
    detail = (await http.get(f"{base}/contacts/{v.contact_id}", headers=admin.headers)).json()
    assert detail["blocked_at"] == blocked["blocked_at"]
    listed = (await http.get(f"{base}/contacts", headers=agent.headers)).json()["contacts"]
    assert [c["blocked_at"] for c in listed if c["id"] == v.contact_id] == [blocked["blocked_at"]]
    live = (await http.get(f"{base}/visitors/live", headers=agent.headers)).json()["visitors"]
    assert [x["contact"]["blocked"] for x in live if x["id"] == visit["id"]] == [True]
    # Nobody can write first to a blocked visitor.
    refused = await http.post(
        f"{base}/visitors/{visit['id']}/chat", headers=agent.headers, json={"text": "Hi"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "contact_blocked"

    # Blocking again changes nothing and announces nothing.
    again = await http.post(url, headers=admin.headers)
    assert again.status_code == 200 and again.json()["blocked_at"] == blocked["blocked_at"]
    assert len(await contact_events(server, ws)) == before + 1

    r = await http.delete(url, headers=agent.headers)
    assert r.status_code == 200, r.text
    assert r.json()["blocked_at"] is None
    events = await contact_events(server, ws)
    assert len(events) == before + 2 and events[-1]["blocked_at"] is None
    assert (await http.delete(url, headers=agent.headers)).json()["blocked_at"] is None
    assert len(await contact_events(server, ws)) == before + 2
    actions = await audit_actions(server, ws)
    assert actions.count("contact.block") == 1 and actions.count("contact.unblock") == 1
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.contacts).where(t.contacts.c.id == v.contact_id)))
            .mappings()
            .one()
        )
    assert row["blocked_at"] is None and row["blocked_by_id"] is None
    chat = await http.post(
        f"{base}/visitors/{visit['id']}/chat", headers=agent.headers, json={"text": "Back"}
    )
    assert chat.status_code == 201, chat.text


async def test_blocking_is_refused_outside_what_one_may_see(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws, inbox = await setup(server, http)
    other_inbox = await web_inbox(server, http, admin, ws)
    agent = await make_member(server, http, ws)
    await set_members(http, admin, inbox, [agent.user_id])
    hidden = await new_visitor(server, other_inbox)
    visit = await arrive(server, hidden, None)
    chat = await http.post(
        f"/api/v1/workspaces/{ws}/visitors/{visit['id']}/chat", headers=admin.headers, json={"text": "Hi"}
    )
    assert chat.status_code == 201, chat.text
    stranger, other_ws = await make_admin(server, http)
    attempts = [
        (agent.headers, f"/api/v1/workspaces/{ws}/contacts/{hidden.contact_id}/block"),
        (stranger.headers, f"/api/v1/workspaces/{other_ws}/contacts/{hidden.contact_id}/block"),
        (stranger.headers, f"/api/v1/workspaces/{ws}/contacts/{hidden.contact_id}/block"),
        (admin.headers, f"/api/v1/workspaces/{ws}/contacts/999999/block"),
    ]
    for headers, url in attempts:
        for method in ("POST", "DELETE"):
            r = await http.request(method, url, headers=headers)
            assert r.status_code == 404, (method, url, r.text)
    assert (await http.post(attempts[0][1])).status_code == 401
    async with server.services.db.read() as conn:
        blocked_at = (
            await conn.execute(sa.select(t.contacts.c.blocked_at).where(t.contacts.c.id == hidden.contact_id))
        ).scalar_one()
    assert blocked_at is None
    assert "contact.block" not in await audit_actions(server, ws)
