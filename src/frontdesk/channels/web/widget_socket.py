"""The website visitor's socket (docs/channels/web-widget-protocol.md, "The visitor socket").

Built for many idle sockets per process: each is one asyncio task (this handler, reading) and a
VisitorSubscription in the visitor hub (visitor_hub.py) that holds nothing until an event is for
it. Frames to the visitor are sent by a short-lived task started when the hub queues something
and ended when the queue is empty again. Presence changes are worked out once per inbox, not per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from prometheus_client import Gauge

from frontdesk.actions.web.csat import is_rated
from frontdesk.actions.web.visitors import (
    conversation_messages,
    do_mark_read,
    do_start_visitor_session,
    user_name,
    visitor_conversation_ids,
    visitor_state,
    widget_message,
)
from frontdesk.channels.web.adapter import read_visitor_token
from frontdesk.channels.web.ratelimit import client_ip, limits_of
from frontdesk.channels.web.visitor_hub import VisitorSubscription, visitor_hub
from frontdesk.channels.web.widget import agents_online, in_transaction, send_visitor_message, widget_inbox
from frontdesk.channels.web.widget_tracking import page_view, tracker_of
from frontdesk.domain.enums import ConversationStatus, MessageKind
from frontdesk.domain.errors import DomainError, Gone, RateLimited, VisitorBlocked
from frontdesk.domain.input import is_id
from frontdesk.events import ephemeral
from frontdesk.http.deps import get_services
from frontdesk.http.inbox_cache import CachedInbox
from frontdesk.services import Services

log = logging.getLogger(__name__)
router = APIRouter()
CONNECTIONS = Gauge("frontdesk_visitor_sockets", "Open website visitor sockets")

HELLO_SECONDS = 10.0
TYPING_EVERY = 2.0  # a visitor's typing reaches agents at most this often (state changes at once)
MAX_FRAME = 70_000  # characters: a message's text (65,536) and its envelope
OWN_CLIENT_IDS = 16  # what this socket sent lately: its echo is not sent back to it
NAME_SECONDS = 60.0
CLOSE_BAD_TOKEN, CLOSE_BLOCKED, CLOSE_NO_INBOX, CLOSE_GONE, CLOSE_LIMITED = 4401, 4403, 4404, 4410, 4429
# RFC 6455 "unsupported data": the widget never sends binary, so a binary frame is a broken client
# (the agent socket closes with the same code).
CLOSE_UNSUPPORTED = 1003


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def _dump(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


async def _agent_name(svc: Services, app: Any, user_id: int | None) -> str | None:
    """Cached a minute per app: every visitor socket of a conversation asks for the same name."""
    if user_id is None:
        return None
    names: dict[int, tuple[str | None, float]] | None = getattr(app.state, "widget_agent_names", None)
    if names is None:
        names = app.state.widget_agent_names = {}
    hit = names.get(user_id)
    now = time.monotonic()
    if hit is not None and now - hit[1] < NAME_SECONDS:
        return hit[0]
    async with svc.db.read() as conn:
        name = await user_name(conn, user_id)
    if len(names) > 1000:
        names.clear()
    names[user_id] = (name, now)
    return name


class _PresenceWatch:
    """Tells visitor sockets when their inbox's agents come online or all go away: one check per
    inbox with visitors in this process, whatever the number of sockets (VisitorHub.on_presence)."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.running: set[int] = set()
        self.again: set[int] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    def __call__(self, workspace_id: int) -> None:
        if workspace_id in self.running:
            self.again.add(workspace_id)  # changed again while checking: check once more after
            return
        self.running.add(workspace_id)
        task = asyncio.create_task(self._check(workspace_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _check(self, workspace_id: int) -> None:
        try:
            while True:
                self.again.discard(workspace_id)
                visitors = visitor_hub(self.svc.hub)
                for inbox_id in visitors.workspaces().get(workspace_id, set()):
                    online = await agents_online(self.svc, workspace_id, inbox_id)
                    event = ephemeral("widget.agents", workspace_id, inbox_id, {"online": online})
                    for sub in visitors.of_inbox(inbox_id):
                        if sub.agents_online != online:  # only sockets told otherwise get a frame
                            sub.agents_online = online
                            sub.push(event)
                if workspace_id not in self.again:
                    return
        except Exception:  # best effort: the next change or the next hello tells them
            log.warning("could not tell visitors about agent presence", exc_info=True)
        finally:
            self.running.discard(workspace_id)


def _watch_presence(svc: Services) -> None:
    visitors = visitor_hub(svc.hub)
    if visitors.on_presence is None:
        visitors.on_presence = _PresenceWatch(svc)


class VisitorSocket:
    __slots__ = (
        "agents_read",
        "cached",
        "inbox_uid",
        "ip",
        "own",
        "read_upto",
        "ready",
        "ready_upto",
        "sender",
        "statuses",
        "sub",
        "svc",
        "typing",
        "typing_at",
        "visit_id",
        "visitor",
        "ws",
    )

    def __init__(
        self, ws: WebSocket, svc: Services, cached: CachedInbox, inbox_uid: str, visitor: str
    ) -> None:
        self.ws, self.svc, self.cached, self.inbox_uid, self.visitor = ws, svc, cached, inbox_uid, visitor
        self.sub: VisitorSubscription | None = None
        self.sender: asyncio.Task[None] | None = None
        self.ready = False
        self.ready_upto = 0  # messages up to this id went out in `ready`
        self.agents_read = True
        self.statuses: dict[int, str] = {}
        self.typing = False
        self.typing_at = 0.0
        self.read_upto = 0
        self.own: deque[str] | None = None
        self.ip = client_ip(ws.scope)
        self.visit_id: int | None = None

    # --- to the visitor ---------------------------------------------------------------------

    def wake(self) -> None:
        if self.ready and (self.sender is None or self.sender.done()):
            self.sender = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        sub = self.sub
        assert sub is not None
        try:
            while True:
                if sub.close_code is not None:
                    await self.ws.close(code=sub.close_code)
                    return
                if not sub.pending:
                    sub.pending = None  # an idle socket holds no queue
                    return
                for frame in await self._frames(sub.pending.popleft()):
                    await self.ws.send_text(_dump(frame))
        except Exception:  # the visitor went away; the reader notices and cleans up
            log.debug("visitor socket send failed", exc_info=True)

    async def _frames(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        kind, data = event["type"], event["data"]
        if kind == "message.created":
            message = data["message"]
            if message["id"] <= self.ready_upto or message["kind"] not in (
                MessageKind.INCOMING,
                MessageKind.OUTGOING,
            ):
                return []
            name = (
                await _agent_name(self.svc, self.ws.app, message["sender_id"])
                if message["kind"] == "outgoing"
                else None
            )
            shown = widget_message(message, self.visitor, name, self.svc.settings.effective_public_url)
            if shown is None or (
                shown["client_id"] is not None and self.own and shown["client_id"] in self.own
            ):
                return []  # this socket's own message: it had its ack
            return [{"type": "message", "message": shown}]
        if kind == "typing":
            if data.get("user_id") is None:
                return []  # the visitor's own typing (another tab)
            name = await _agent_name(self.svc, self.ws.app, data["user_id"])
            return [{"type": "typing", "typing": bool(data.get("typing")), "name": name}]
        if kind in ("conversation.created", "conversation.updated"):
            return await self._conversation_frames(data["conversation"])
        if kind == "widget.agents":
            return [{"type": "agents", "online": data["online"]}]
        return []  # message.updated: nothing the widget shows changes

    async def _conversation_frames(self, conversation: dict[str, Any]) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        read = conversation["unread_count"] == 0
        if read and not self.agents_read:
            frames.append({"type": "read"})
        self.agents_read = read
        status = conversation["status"]
        if self.statuses.get(conversation["id"]) != status:
            self.statuses[conversation["id"]] = status
            csat = False
            if status == ConversationStatus.RESOLVED:
                async with self.svc.db.read() as conn:
                    csat = not await is_rated(conn, conversation["id"])
            frames.append(
                {
                    "type": "conversation",
                    "conversation_id": conversation["id"],
                    "status": status,
                    "csat": csat,
                }
            )
        return frames

    # --- from the visitor -------------------------------------------------------------------

    async def handle(self, raw: str | None) -> None:
        if raw is None:
            raise _Close(CLOSE_UNSUPPORTED, "binary frames are not accepted")
        if len(raw) > MAX_FRAME:
            await self._error("invalid_input", f"frames are at most {MAX_FRAME} characters")
            return
        try:
            frame = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await self._error("invalid_input", "frames must be JSON")
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        if kind == "ping":
            await self.ws.send_text('{"type":"pong"}')
        elif kind == "message":
            await self._message(frame)
        elif kind == "typing":
            await self._typing(bool(frame.get("typing", True)))
        elif kind == "read":
            await self._read(frame.get("up_to"))
        elif kind == "page":
            if await self._allowed():
                await tracker_of(self.ws.app).page(self.visit_id, page_view(frame))
        else:
            await self._error("invalid_input", "unknown frame type")

    async def _allowed(self) -> bool:
        """Frames that write or publish count as requests of the visitor's address (a flood of
        them is refused like a flood of HTTP requests); pings and refused frames do not."""
        wait = limits_of(self.ws.app).request_wait(self.ip)
        if wait:
            await self._error("rate_limited", "too many frames: wait a moment", retry_after=wait)
        return not wait

    async def _error(self, code: str, message: str, client_id: Any = None, **extra: Any) -> None:
        cid = client_id if isinstance(client_id, str) else None
        await self.ws.send_text(
            _dump({"type": "error", "code": code, "message": message, "client_id": cid, **extra})
        )

    async def _message(self, frame: dict[str, Any]) -> None:
        client_id, text = frame.get("client_id"), frame.get("text")
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= 100:
            await self._error("invalid_input", "client_id: 1 to 100 characters", client_id)
            return
        if not isinstance(text, str) or not text.strip() or len(text) > 65_536:
            await self._error(
                "invalid_input", "text: a message needs text (65,536 characters at most)", client_id
            )
            return
        if self.own is None:
            self.own = deque(maxlen=OWN_CLIENT_IDS)
        self.own.append(client_id)
        try:
            cached = await widget_inbox(self.svc, self.inbox_uid)
            sent = await send_visitor_message(self.svc, self.ws.app, cached, self.visitor, client_id, text)
        except RateLimited as exc:
            await self._error(exc.code, exc.message, client_id, retry_after=exc.retry_after)
            return
        except VisitorBlocked as exc:
            await self._error(exc.code, exc.message, client_id)
            raise _Close(CLOSE_BLOCKED, "visitor blocked") from None
        except Gone:
            raise _Close(CLOSE_GONE, "inbox disabled") from None
        except DomainError as exc:
            await self._error("invalid_input", exc.message, client_id)
            return
        conversation_id = sent.pop("conversation_id")
        sent.pop("duplicate")
        if self.sub is not None and conversation_id not in self.sub.conversation_ids:
            visitor_hub(self.svc.hub).follow(self.sub, conversation_id)
        self.agents_read = False
        await self.ws.send_text(_dump({"type": "ack", "client_id": client_id, "message": sent}))

    def _latest_conversation(self) -> int | None:
        return max(self.sub.conversation_ids) if self.sub and self.sub.conversation_ids else None

    async def _typing(self, typing: bool) -> None:
        now = time.monotonic()
        conversation_id = self._latest_conversation()
        if conversation_id is None or (typing == self.typing and now - self.typing_at < TYPING_EVERY):
            return
        if not await self._allowed():
            return
        self.typing, self.typing_at = typing, now
        sub = self.sub
        assert sub is not None
        data = {"conversation_id": conversation_id, "contact_id": sub.contact_id, "typing": typing}
        with contextlib.suppress(Exception):  # ephemeral: best effort
            await self.svc.bus.publish([ephemeral("typing", sub.workspace_id, sub.inbox_id, data)])

    async def _read(self, up_to: Any) -> None:
        if not is_id(up_to) or up_to <= self.read_upto or self.sub is None or not await self._allowed():
            return
        self.read_upto = up_to
        ids = set(self.sub.conversation_ids)
        async with self.svc.db.write() as tx:
            await do_mark_read(tx, ids, up_to)


async def _hello(ws: WebSocket, svc: Services, inbox_uid: str) -> tuple[str, dict[str, Any]]:
    try:
        async with asyncio.timeout(HELLO_SECONDS):
            raw = await _receive_text(ws)
    except TimeoutError:
        raise _Close(CLOSE_BAD_TOKEN, "no hello within 10 s") from None
    try:
        frame = orjson.loads(raw) if raw is not None and len(raw) <= MAX_FRAME else None
    except orjson.JSONDecodeError:
        frame = None
    if (
        not isinstance(frame, dict)
        or frame.get("type") != "hello"
        or not isinstance(frame.get("visitor_token"), str)
    ):
        raise _Close(CLOSE_BAD_TOKEN, "the first frame must be hello with the visitor token")
    visitor = read_visitor_token(svc.settings.secret_key, inbox_uid, frame["visitor_token"])
    if visitor is None:
        raise _Close(CLOSE_BAD_TOKEN, "the visitor token is not valid for this inbox")
    return visitor, frame


async def _receive_text(ws: WebSocket) -> str | None:
    """The next text frame; None for a binary one (handle closes with 1003, not a crash)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return text if isinstance(text, str) else None


async def visitor_socket(ws: WebSocket) -> None:
    inbox_uid = str(ws.path_params["inbox_uid"])
    svc = get_services(ws)
    await ws.accept()  # the close codes below reach the widget only on an accepted socket
    state: VisitorSocket | None = None
    try:
        wait = limits_of(ws.app).request_wait(client_ip(ws.scope))
        if wait:
            await ws.send_text(
                _dump(
                    {
                        "type": "error",
                        "code": "rate_limited",
                        "message": "too many requests",
                        "retry_after": wait,
                    }
                )
            )
            raise _Close(CLOSE_LIMITED, "rate limited")
        try:
            cached = await widget_inbox(svc, inbox_uid)
        except Gone:
            raise _Close(CLOSE_GONE, "inbox disabled") from None
        except DomainError:
            raise _Close(CLOSE_NO_INBOX, "no website inbox at this address") from None
        visitor, hello = await _hello(ws, svc, inbox_uid)
        state = VisitorSocket(ws, svc, cached, inbox_uid, visitor)
        await _start(state, hello)
        del hello  # an idle socket keeps nothing it does not need
        CONNECTIONS.inc()
        try:
            while True:
                await state.handle(await _receive_text(ws))
        finally:
            CONNECTIONS.dec()
    except _Close as close:
        with contextlib.suppress(Exception):
            await ws.close(code=close.code, reason=close.reason)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the visitor left (RuntimeError: a receive after the hub closed the socket)
    finally:
        if state is not None:
            if state.sub is not None:
                visitor_hub(svc.hub).unsubscribe(state.sub)
            if state.sender is not None and not state.sender.done():
                state.sender.cancel()
            inbox = state.cached.row
            await tracker_of(ws.app).leave(state.visit_id, inbox["workspace_id"], inbox["id"])


# A plain Starlette route: FastAPI's dependency machinery would keep three exit stacks per
# socket for nothing (this endpoint declares no dependencies), and idle sockets are many.
router.add_websocket_route("/widget/v1/{inbox_uid}/socket", visitor_socket)


async def _start(state: VisitorSocket, hello: dict[str, Any]) -> None:
    """Subscribe first, then read: nothing committed in between is missed (what `ready` already
    carries is skipped by id when its event arrives)."""
    svc, cached = state.svc, state.cached
    inbox = cached.row
    async with svc.db.read() as conn:
        found = await visitor_state(conn, inbox["id"], state.visitor)
    if found is None:  # a valid token whose visitor this database does not know (restored backup)
        await in_transaction(svc, lambda tx: do_start_visitor_session(tx, inbox, state.visitor))
        async with svc.db.read() as conn:
            found = await visitor_state(conn, inbox["id"], state.visitor)
        assert found is not None
    if found.blocked:
        raise _Close(CLOSE_BLOCKED, "visitor blocked")
    _watch_presence(svc)
    visitors = visitor_hub(svc.hub)
    state.sub = visitors.subscribe(
        inbox["workspace_id"], inbox["id"], found.contact_id, found.identity_id, set(), state.wake
    )
    last = hello.get("last_message_id")
    after = last if is_id(last) and last > 0 else 0
    async with svc.db.read() as conn:
        for conversation_id in await visitor_conversation_ids(conn, found.identity_id):
            visitors.follow(state.sub, conversation_id)
        messages = (
            await conversation_messages(
                conn, found.conversation_id, state.visitor, after, svc.settings.effective_public_url
            )
            if found.conversation_id is not None
            else []
        )
    online = await agents_online(svc, inbox["workspace_id"], inbox["id"])
    state.sub.agents_online, state.agents_read = online, found.unread_count == 0
    if found.conversation_id is not None and found.status is not None:
        state.statuses[found.conversation_id] = found.status
    state.ready_upto = max([after, *(m["id"] for m in messages)])
    await state.ws.send_text(
        _dump(
            {
                "type": "ready",
                "conversation_id": found.conversation_id,
                "contact": {"name": found.name, "email": found.email},
                "agents_online": online,
                "agents_read": state.agents_read,
                "messages": messages,
            }
        )
    )
    state.ready = True
    if state.sub.pending or state.sub.close_code is not None:
        state.wake()
    state.visit_id = await tracker_of(state.ws.app).arrive(
        inbox,
        found.contact_id,
        found.identity_id,
        page_view(hello.get("page")),
        state.ws.headers,
        client_ip(state.ws.scope),
        hello.get("language"),
        socket=True,
    )
