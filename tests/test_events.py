"""The realtime stream is complete: a client that applies the events it received to the state
it fetched before holds exactly what a fresh fetch returns (Zulip's test_events idea)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import websockets

from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member, post_inbound, receive


async def snapshot(http: httpx.AsyncClient, who: Agent, ws: int) -> dict[str, Any]:
    base = f"/api/v1/workspaces/{ws}/conversations"
    convs = (await http.get(f"{base}?all_statuses=true&limit=100", headers=who.headers)).json()[
        "conversations"
    ]
    state: dict[str, Any] = {"conversations": {c["id"]: c for c in convs}, "messages": {}}
    for c in convs:
        thread = (await http.get(f"{base}/{c['id']}/messages?limit=200", headers=who.headers)).json()[
            "messages"
        ]
        state["messages"].update({m["id"]: m for m in thread})
    return state


def apply(state: dict[str, Any], event: dict[str, Any]) -> None:
    kind, data = event["type"], event["data"]
    if kind in ("message.created", "message.updated"):
        state["messages"][data["message"]["id"]] = data["message"]
    elif kind in ("conversation.created", "conversation.updated"):
        state["conversations"][data["conversation"]["id"]] = data["conversation"]
    elif kind == "contact.updated":
        for conversation in state["conversations"].values():
            if conversation["contact"]["id"] == data["contact"]["id"]:
                conversation["contact"]["name"] = data["contact"]["name"]


async def test_applying_events_equals_a_fresh_fetch(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws, name="Ada")
    inbox = await make_inbox(http, admin, ws, members=[agent.user_id])
    await http.post(f"/api/v1/workspaces/{ws}/labels", headers=admin.headers, json={"name": "vip"})
    first = await receive(http, inbox, "m-0", contact="old")
    state = await snapshot(http, agent, ws)
    url = server.ws_url(f"/api/v1/workspaces/{ws}/stream")
    async with websockets.connect(url, additional_headers=agent.headers) as sock:
        assert json.loads(await sock.recv())["type"] == "ready"
        base = f"/api/v1/workspaces/{ws}/conversations"
        conv = first["conversation_id"]
        new = (await receive(http, inbox, "m-1", contact="new"))["conversation_id"]
        await receive(http, inbox, "m-2", contact="old", text="follow-up")
        await http.post(
            f"{base}/{conv}/assignment",
            headers=admin.headers,
            json={"assignee_id": agent.user_id, "comment": "yours"},
        )
        reply = (
            await http.post(f"{base}/{conv}/messages", headers=agent.headers, json={"text": "hi"})
        ).json()
        await http.post(
            f"{base}/{conv}/messages", headers=agent.headers, json={"text": "note", "private": True}
        )
        await http.put(f"{base}/{new}/labels", headers=admin.headers, json={"labels": ["vip"]})
        await http.patch(
            f"{base}/{new}", headers=admin.headers, json={"status": "pending", "priority": "urgent"}
        )
        later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        await http.patch(
            f"{base}/{conv}", headers=agent.headers, json={"status": "snoozed", "snoozed_until": later}
        )
        await post_inbound(http, inbox, {"type": "status", "message_id": reply["id"], "status": "read"})
        await http.post(f"{base}/{conv}/read", headers=agent.headers)
        contact_id = state["conversations"][conv]["contact"]["id"]
        await http.patch(
            f"/api/v1/workspaces/{ws}/contacts/{contact_id}",
            headers=agent.headers,
            json={"name": "Ann Renamed"},
        )
        await http.patch(f"{base}/{new}", headers=agent.headers, json={"status": "resolved"})
        last_seq = (await http.get(f"/api/v1/workspaces/{ws}/events", headers=agent.headers)).json()[
            "last_seq"
        ]
        seen = 0
        async with asyncio.timeout(10):
            while seen < last_seq:
                event = json.loads(await sock.recv())
                if event.get("seq"):
                    apply(state, event)
                    seen = event["seq"]
    assert state == await snapshot(http, agent, ws)
