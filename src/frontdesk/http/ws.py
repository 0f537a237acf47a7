"""The agent websocket: authenticated, sees only its inboxes' events, resumes from a sequence.

Protocol (JSON text frames):
  server → {"seq", "type", "workspace_id", "inbox_id", "created_at", "data"}   events
  server → {"type": "ready", "last_seq": N}        after the catch-up replay
  client → {"type": "typing", "conversation_id": N, "typing": true}
  client → {"type": "ping"}  ← {"type": "pong"}
Close codes (docs/events.md): 4401 the credentials were revoked, 4403 deactivated, 4408 too
slow, 4503 the bus was lost; after 4408 and 4503 the client reconnects with ?since=.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Gauge

from frontdesk.access import Actor, access_actor_by_workspace, access_conversation_by_id
from frontdesk.bus.hub import CLOSE_BLOCKED, CLOSE_BUS_LOST, CLOSE_REVOKED, CLOSE_TOO_SLOW
from frontdesk.domain.errors import DomainError
from frontdesk.domain.input import Id, is_id
from frontdesk.events import ephemeral
from frontdesk.http.channel_hooks import indicate_typing
from frontdesk.http.deps import authenticate, get_services
from frontdesk.services import Services
from frontdesk.store import queries

log = logging.getLogger(__name__)
router = APIRouter()
CONNECTIONS = Gauge("frontdesk_websocket_connections", "Open agent websockets")
CLOSE_REASONS = {
    CLOSE_REVOKED: "credentials revoked; sign in again",
    CLOSE_BLOCKED: "membership deactivated",
    CLOSE_TOO_SLOW: "too slow; reconnect with since",
    CLOSE_BUS_LOST: "realtime bus lost; reconnect with since",
}


def _origin_ok(ws: WebSocket) -> bool:
    """Cookie-authenticated sockets must come from our own pages (no cross-site hijacking)."""
    origin = ws.headers.get("origin")
    if origin is None or "authorization" in ws.headers:
        return True
    host = ws.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


@router.websocket("/api/v1/workspaces/{workspace_id}/stream")
async def stream(ws: WebSocket, workspace_id: Id, since: Id | None = None) -> None:
    services = get_services(ws)
    try:
        if not _origin_ok(ws):
            raise DomainError("cross-origin websocket refused")
        auth = await authenticate(ws, services)
        async with services.db.read() as conn:
            actor = await access_actor_by_workspace(conn, auth.user_id, workspace_id)
            availability = await queries.member_availability(conn, workspace_id, auth.user_id)
    except DomainError as exc:
        await ws.close(code=4401, reason=exc.message[:120])
        return
    await ws.accept()
    sub = services.hub.subscribe(
        workspace_id, actor.user_id, actor.inbox_ids, session_id=auth.session_id, token_id=auth.token_id
    )
    CONNECTIONS.inc()
    if services.hub.connections_of(workspace_id, actor.user_id) == 1:
        await publish_presence(services, actor, availability)
    try:
        await _run(ws, services, actor, sub, since)
    except WebSocketDisconnect:
        pass
    finally:
        services.hub.unsubscribe(sub)
        CONNECTIONS.dec()
        if services.hub.connections_of(workspace_id, actor.user_id) == 0:
            await publish_presence(services, actor, "offline")


REPLAY_PAGE = 1000


async def _replay(ws: WebSocket, services: Services, actor: Actor, since: int | None) -> tuple[int, set[int]]:
    """Send what the client missed; returns the last sequence and the sequences sent."""
    sent: set[int] = set()
    async with services.db.read() as conn:
        if since is None:
            return await queries.last_seq(conn, actor.workspace_id), sent
        cursor, overlap = since, True
        while True:
            page = await queries.events_since(conn, actor, cursor, REPLAY_PAGE, overlap=overlap)
            overlap = False
            for event in page:
                if event["seq"] not in sent:
                    sent.add(event["seq"])
                    await ws.send_text(orjson.dumps(event).decode())
            if len(page) < REPLAY_PAGE:
                break
            cursor = page[-1]["seq"]
    return max([since, *sent]), sent


async def _run(ws: WebSocket, services: Services, actor: Actor, sub: Any, since: int | None) -> None:
    # Subscribed first, then replayed: nothing falls between the two. A live event already sent
    # by the replay is skipped; one with a lower sequence that committed late is still sent.
    last_seq, replayed = await _replay(ws, services, actor, since)
    await ws.send_text(orjson.dumps({"type": "ready", "last_seq": last_seq}).decode())
    reader = asyncio.create_task(_read(ws, services, actor))
    try:
        while True:
            getter = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                reader.result()
                return
            event = getter.result()
            if event is None:
                code = sub.close_code or CLOSE_TOO_SLOW
                await ws.close(code=code, reason=CLOSE_REASONS[code])
                return
            if event.get("seq") in replayed:
                continue
            await ws.send_text(orjson.dumps(event).decode())
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await reader


async def _read(ws: WebSocket, services: Services, actor: Actor) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        raw = message.get("text")
        if not isinstance(raw, str):
            # The protocol is JSON text; a binary frame is a client bug, answered as RFC 6455 says.
            await ws.close(code=1003, reason="binary frames are not accepted")
            return
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await ws.send_text('{"type":"error","message":"frames must be JSON"}')
            continue
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "ping":
            await ws.send_text('{"type":"pong"}')
        elif kind == "typing" and is_id(msg.get("conversation_id")):
            try:
                async with services.db.read() as conn:
                    current = await access_actor_by_workspace(conn, actor.user_id, actor.workspace_id)
                    conv = await access_conversation_by_id(conn, current, msg["conversation_id"])
            except DomainError:
                continue
            await services.bus.publish(
                [
                    ephemeral(
                        "typing",
                        actor.workspace_id,
                        conv["inbox_id"],
                        {
                            "conversation_id": conv["id"],
                            "user_id": actor.user_id,
                            "typing": bool(msg.get("typing", True)),
                        },
                    )
                ]
            )
            if msg.get("typing", True):
                indicate_typing(services, conv["id"])
        else:
            await ws.send_text('{"type":"error","message":"unknown frame type"}')


async def publish_presence(services: Services, actor: Actor, status: str) -> None:
    """Presence is ephemeral: best effort, never a reason to fail the socket or the request."""
    try:
        await services.bus.publish(
            [
                ephemeral(
                    "presence.updated",
                    actor.workspace_id,
                    None,
                    {"user_id": actor.user_id, "status": status},
                )
            ]
        )
    except Exception:
        log.warning("could not publish presence", exc_info=True)
