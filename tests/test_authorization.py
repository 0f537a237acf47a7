"""Who may see and change what: inbox membership, roles, workspaces, sessions, CSRF, tokens."""

from __future__ import annotations

import json

import httpx

from frontdesk.domain.enums import Role
from tests.conftest import Server
from tests.factories import PASSWORD, make_admin, make_inbox, make_member, receive


async def test_agent_of_inbox_a_cannot_reach_inbox_b(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    inbox_a = await make_inbox(http, admin, ws, members=[agent.user_id])
    inbox_b = await make_inbox(http, admin, ws)
    conv_a = (await receive(http, inbox_a, "a-1", contact="x"))["conversation_id"]
    conv_b = (await receive(http, inbox_b, "b-1", contact="y", text="secret stuff"))["conversation_id"]
    h = agent.headers
    base = f"/api/v1/workspaces/{ws}"
    listed = (await http.get(f"{base}/conversations?all_statuses=true", headers=h)).json()["conversations"]
    assert [c["id"] for c in listed] == [conv_a]
    assert [i["id"] for i in (await http.get(f"{base}/inboxes", headers=h)).json()] == [inbox_a.id]
    refused = [
        await http.get(f"{base}/conversations/{conv_b}", headers=h),
        await http.get(f"{base}/conversations/{conv_b}/messages", headers=h),
        await http.post(f"{base}/conversations/{conv_b}/messages", headers=h, json={"text": "x"}),
        await http.patch(f"{base}/conversations/{conv_b}", headers=h, json={"status": "resolved"}),
        await http.post(
            f"{base}/conversations/{conv_b}/assignment", headers=h, json={"assignee_id": agent.user_id}
        ),
        await http.put(f"{base}/conversations/{conv_b}/labels", headers=h, json={"labels": []}),
        await http.post(f"{base}/conversations/{conv_b}/read", headers=h),
        await http.get(f"{base}/inboxes/{inbox_b.id}", headers=h),
    ]
    assert [r.status_code for r in refused] == [404] * len(refused), [r.text for r in refused]
    found = (await http.get(f"{base}/search", params={"q": "secret"}, headers=h)).json()
    assert found == {"messages": [], "contacts": []}
    counts = (await http.get(f"{base}/conversations/counts", headers=h)).json()
    assert counts["all"]["open"] == 1
    events = (await http.get(f"{base}/events", headers=h)).json()["events"]
    # Workspace-wide events (inbox membership) carry no inbox; everything else is inbox A's.
    assert {e["inbox_id"] for e in events} - {None} == {inbox_a.id}
    assert "secret stuff" not in json.dumps(events)
    contacts = (await http.get(f"{base}/contacts", headers=h)).json()["contacts"]
    assert [c["name"] for c in contacts] == ["Ann Customer"] and len(contacts) == 1
    # nothing changed in inbox B
    b = (await http.get(f"{base}/conversations/{conv_b}", headers=admin.headers)).json()
    assert b["status"] == "open" and b["assignee_id"] is None


async def test_workspaces_are_isolated_by_id(server: Server, http: httpx.AsyncClient) -> None:
    alice, ws1 = await make_admin(server, http, "One")
    mallory, ws2 = await make_admin(server, http, "Two")
    inbox = await make_inbox(http, alice, ws1)
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    h = mallory.headers
    for path in (
        f"/api/v1/workspaces/{ws1}/conversations",
        f"/api/v1/workspaces/{ws1}",
        f"/api/v1/workspaces/{ws1}/inboxes/{inbox.id}/secrets",
        f"/api/v1/workspaces/{ws1}/members",
        f"/api/v1/workspaces/{ws1}/presence",
    ):
        r = await http.get(path, headers=h)
        assert r.status_code == 404, path
    # Own workspace id, other workspace's object ids.
    for path in (
        f"/api/v1/workspaces/{ws2}/conversations/{conv}",
        f"/api/v1/workspaces/{ws2}/inboxes/{inbox.id}",
        f"/api/v1/workspaces/{ws2}/conversations/{conv}/messages",
    ):
        assert (await http.get(path, headers=h)).status_code == 404, path
    r = await http.post(
        f"/api/v1/workspaces/{ws2}/conversations/{conv}/messages", headers=h, json={"text": "x"}
    )
    assert r.status_code == 404
    # Another workspace's member cannot be deactivated, nor presence set there.
    r = await http.put(
        f"/api/v1/workspaces/{ws1}/members/{alice.user_id}/active", headers=h, json={"is_active": False}
    )
    assert r.status_code == 404
    r = await http.put(
        f"/api/v1/workspaces/{ws2}/members/{alice.user_id}/active", headers=h, json={"is_active": False}
    )
    assert r.status_code == 404
    assert (
        await http.put(f"/api/v1/workspaces/{ws1}/presence", headers=h, json={"status": "away"})
    ).status_code == 404
    assert (await http.get(f"/api/v1/workspaces/{ws1}", headers=alice.headers)).status_code == 200


async def test_roles(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    sup = await make_member(server, http, ws, role=Role.SUPERVISOR)
    base = f"/api/v1/workspaces/{ws}"
    inbox_body = {"name": "x", "channel_type": "api"}
    assert (await http.post(f"{base}/inboxes", headers=agent.headers, json=inbox_body)).status_code == 403
    assert (await http.post(f"{base}/inboxes", headers=sup.headers, json=inbox_body)).status_code == 403
    assert (await http.post(f"{base}/teams", headers=agent.headers, json={"name": "t"})).status_code == 403
    assert (
        await http.post(f"{base}/invitations", headers=agent.headers, json={"email": "a@b.c"})
    ).status_code == 403
    assert (await http.post(f"{base}/labels", headers=agent.headers, json={"name": "l"})).status_code == 403
    assert (await http.post(f"{base}/labels", headers=sup.headers, json={"name": "l"})).status_code == 201
    inbox = await make_inbox(http, admin, ws)
    assert (await http.get(f"{base}/inboxes/{inbox.id}", headers=sup.headers)).status_code == 200
    assert (await http.get(f"{base}/inboxes/{inbox.id}/secrets", headers=sup.headers)).status_code == 403
    r = await http.put(
        f"{base}/members/{agent.user_id}/role", headers=agent.headers, json={"role": "administrator"}
    )
    assert r.status_code == 403
    r = await http.put(
        f"{base}/members/{sup.user_id}/active", headers=agent.headers, json={"is_active": False}
    )
    assert r.status_code == 403


async def test_invitation_flow(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    r = await http.post(
        f"/api/v1/workspaces/{ws}/invitations",
        headers=admin.headers,
        json={"email": "New.Person@Example.com", "role": "supervisor"},
    )
    assert r.status_code == 201
    token = r.json()["token"]
    accepted = await http.post(
        "/api/v1/invitations/accept", json={"token": token, "name": "New Person", "password": PASSWORD}
    )
    assert accepted.status_code == 201, accepted.text
    again = await http.post(
        "/api/v1/invitations/accept", json={"token": token, "name": "X", "password": PASSWORD}
    )
    assert again.status_code == 404
    # Emails are case-insensitive at sign-in.
    login = await http.post(
        "/api/v1/auth/login", json={"email": "new.person@EXAMPLE.com", "password": PASSWORD}
    )
    assert login.status_code == 200
    http.cookies.clear()
    members = (await http.get(f"/api/v1/workspaces/{ws}/members", headers=admin.headers)).json()
    assert {m["role"] for m in members} == {"administrator", "supervisor"}


async def test_cookie_session_needs_csrf_for_writes(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    login = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": PASSWORD})
    csrf = login.json()["csrf_token"]
    assert (await http.get("/api/v1/me")).status_code == 200
    no_csrf = await http.post(f"/api/v1/workspaces/{ws}/teams", json={"name": "t"})
    assert no_csrf.status_code == 403 and no_csrf.json()["error"]["code"] == "csrf_failed"
    ok = await http.post(f"/api/v1/workspaces/{ws}/teams", json={"name": "t"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert (await http.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})).status_code == 204
    assert (await http.get("/api/v1/me")).status_code == 401


async def test_wrong_password_and_revoked_token(server: Server, http: httpx.AsyncClient) -> None:
    admin, _ = await make_admin(server, http)
    r = await http.post("/api/v1/auth/login", json={"email": admin.email, "password": "wrong-password"})
    assert r.status_code == 401 and r.json()["error"]["field"] == "password"
    tokens = (await http.get("/api/v1/me/tokens", headers=admin.headers)).json()
    assert (
        await http.delete(f"/api/v1/me/tokens/{tokens[0]['id']}", headers=admin.headers)
    ).status_code == 204
    assert (await http.get("/api/v1/me", headers=admin.headers)).status_code == 401


async def test_api_bad_input(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    base = f"/api/v1/workspaces/{ws}"
    h = {**admin.headers, "Content-Type": "application/json"}
    r = await http.post(f"{base}/teams", headers=h, content=b"{oops")
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = await http.post(f"{base}/teams", headers=h, json={"name": "t", "colour": "red"})
    assert r.status_code == 422 and r.json()["error"] == {
        "code": "unknown_field",
        "message": "colour: Extra inputs are not permitted",
        "field": "colour",
    }
    r = await http.post(f"{base}/teams", headers=h, json={"name": 5})
    assert r.status_code == 422 and r.json()["error"]["field"] == "name"
    r = await http.post(f"{base}/inboxes", headers=h, json={"name": "x", "channel_type": "pigeon"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "channel_type"
    r = await http.post(
        f"{base}/inboxes",
        headers=h,
        json={"name": "x", "channel_type": "api", "settings": {"webhook_url": "not a url"}},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "settings.webhook_url"
    r = await http.post(f"{base}/teams", headers=h, json={"name": "dup"})
    r = await http.post(f"{base}/teams", headers=h, json={"name": "dup"})
    assert r.status_code == 409
    r = await http.get(f"{base}/conversations?status=sleeping", headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"
    teams = (await http.get(f"{base}/teams", headers=h)).json()
    assert [t["name"] for t in teams] == ["dup"]


async def test_audit_trail_records_administrative_and_conversation_actions(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    inbox = await make_inbox(http, admin, ws, members=[agent.user_id])
    conv = (await receive(http, inbox, "m-1"))["conversation_id"]
    await http.patch(
        f"/api/v1/workspaces/{ws}/conversations/{conv}", headers=agent.headers, json={"status": "resolved"}
    )
    url = f"/api/v1/workspaces/{ws}/audit-events"
    assert (await http.get(url, headers=agent.headers)).status_code == 403
    events = (await http.get(url, headers=admin.headers)).json()["events"]
    assert [(e["action"], e["actor_id"]) for e in events] == [
        ("conversation.status", agent.user_id),
        ("inbox.members", admin.user_id),
        ("inbox.create", admin.user_id),
        ("workspace.create", admin.user_id),
    ]
