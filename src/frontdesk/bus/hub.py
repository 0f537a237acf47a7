"""The local hub: which websocket sees which event.

Each agent socket subscribes with its workspace and the inboxes its agent may see; an event of
another inbox or workspace never reaches it. A socket that cannot keep up is dropped rather
than letting memory grow; it resumes from its last sequence number. The hub also closes sockets
whose member was deactivated (4403) or whose token or session was revoked (4401), and every
socket when the bus loses its link to the other processes (4503: the clients resume).

Sockets a channel keeps itself (the website visitors': channels/web/visitor_hub.py) are a
listener of the hub: made on first use, told every event after the agents' state is updated and
when the bus is lost, so the hub knows no channel.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from frontdesk.events import CREDENTIALS_REVOKED

QUEUE_LIMIT = 2000
REVOKED_KEPT = 1000  # revoked tokens and sessions remembered (see Hub._revoked)
# Close codes a socket is told to close with (docs/events.md, "Close codes").
CLOSE_REVOKED = 4401  # agent: the token or sign-in session the socket opened with was revoked
CLOSE_BLOCKED = 4403  # visitor: blocked; agent: deactivated in the workspace
CLOSE_TOO_SLOW = 4408
# The bus to the other processes was lost: events may have been missed. Not final: the clients
# reconnect (with ?since= / last_message_id) and catch up from the events table.
CLOSE_BUS_LOST = 4503


class HubListener(Protocol):
    """A channel's own sockets (see Hub.listener)."""

    def deliver(self, event: dict[str, Any]) -> None: ...

    def bus_changed(self, up: bool) -> None: ...


L = TypeVar("L", bound=HubListener)


@dataclass(eq=False)
class Subscription:
    workspace_id: int
    user_id: int
    inbox_ids: frozenset[int] | None  # None: every inbox of the workspace
    session_id: int | None = None  # the credentials the socket opened with: one of the two
    token_id: int | None = None
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    overflowed: bool = False  # nothing more is queued; the socket closes with close_code
    close_code: int | None = None  # set by the hub: the socket closes with it

    def sees(self, event: dict[str, Any]) -> bool:
        inbox_id = event.get("inbox_id")
        return inbox_id is None or self.inbox_ids is None or inbox_id in self.inbox_ids

    def close(self, code: int) -> None:
        """Nothing queued after this reaches the socket; it wakes and closes with `code`."""
        if self.close_code is not None:
            return
        self.close_code, self.overflowed = code, True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Hub:
    def __init__(self) -> None:
        self._by_workspace: dict[int, set[Subscription]] = defaultdict(set)
        self._listeners: dict[Callable[[Hub], HubListener], HubListener] = {}
        # The latest presence status heard over the bus per (workspace, user), from every process.
        self.heard_presence: dict[tuple[int, int], str] = {}
        # False while the bus to the other processes is lost (bus_changed): sockets opened then
        # are closed at once, as they could not be told everything.
        self.bus_up = True
        # Credentials revoked lately: a socket authenticated just before its token or session was
        # revoked, and subscribed just after the news came, is closed all the same.
        self._revoked: dict[tuple[str, int], None] = {}  # oldest first, at most REVOKED_KEPT

    def subscribe(
        self,
        workspace_id: int,
        user_id: int,
        inbox_ids: frozenset[int] | None,
        *,
        session_id: int | None = None,
        token_id: int | None = None,
    ) -> Subscription:
        sub = Subscription(workspace_id, user_id, inbox_ids, session_id, token_id)
        self._by_workspace[workspace_id].add(sub)
        if ("token", token_id) in self._revoked or ("session", session_id) in self._revoked:
            sub.close(CLOSE_REVOKED)
        elif not self.bus_up:
            sub.close(CLOSE_BUS_LOST)
        return sub

    def bus_changed(self, up: bool) -> None:
        """Called by the bus when it lost or regained its link to the other processes. When lost,
        every open socket is closed with 4503: the clients reconnect and resume from the events
        table, which has everything the bus could not carry."""
        self.bus_up = up
        for listener in self._listeners.values():
            listener.bus_changed(up)
        if up:
            return
        for subs in self._by_workspace.values():
            for sub in subs:
                sub.close(CLOSE_BUS_LOST)

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._by_workspace.get(sub.workspace_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._by_workspace[sub.workspace_id]

    def _regrant(self, event: dict[str, Any]) -> None:
        """Apply an inbox membership change to open sockets before anything else is sent."""
        inbox_id, members = event["data"]["inbox_id"], set(event["data"]["member_ids"])
        for sub in self._by_workspace.get(event["workspace_id"], ()):
            if sub.inbox_ids is None:
                continue
            if sub.user_id in members:
                sub.inbox_ids = sub.inbox_ids | {inbox_id}
            else:
                sub.inbox_ids = sub.inbox_ids - {inbox_id}

    def connected_user_ids(self, workspace_id: int) -> set[int]:
        """Users with an open socket to this workspace in this process."""
        return {sub.user_id for sub in self._by_workspace.get(workspace_id, ())}

    def connections_of(self, workspace_id: int, user_id: int) -> int:
        return sum(1 for sub in self._by_workspace.get(workspace_id, ()) if sub.user_id == user_id)

    def _revoke(self, event: dict[str, Any]) -> None:
        """A deactivated member's open sockets are closed, on every process (the event comes over
        the bus); nothing queued after this reaches them."""
        if event["data"].get("is_active", True):
            return
        for sub in self._by_workspace.get(event["workspace_id"], ()):
            if sub.user_id == event["data"]["user_id"]:
                sub.close(CLOSE_BLOCKED)

    def _revoke_credentials(self, data: dict[str, Any]) -> None:
        """Sockets opened with a revoked token or session are closed, in every workspace; the same
        user's sockets with other credentials stay open."""
        tokens, sessions = set(data["token_ids"]), set(data["session_ids"])
        self._revoked.update(dict.fromkeys([("token", i) for i in tokens]))
        self._revoked.update(dict.fromkeys([("session", i) for i in sessions]))
        while len(self._revoked) > REVOKED_KEPT:
            del self._revoked[next(iter(self._revoked))]
        for subs in self._by_workspace.values():
            for sub in subs:
                if sub.user_id == data["user_id"] and (
                    (sub.token_id is not None and sub.token_id in tokens)
                    or (sub.session_id is not None and sub.session_id in sessions)
                ):
                    sub.close(CLOSE_REVOKED)

    @property
    def connection_count(self) -> int:
        return sum(len(s) for s in self._by_workspace.values())

    def listener(self, make: Callable[[Hub], L]) -> L:
        """The one listener `make` gives for this hub, made on first use: how a channel keeps its
        own sockets (the website visitors') in the hub without the hub knowing the channel."""
        found = self._listeners.get(make)
        if found is None:
            found = self._listeners[make] = make(self)
        return cast(L, found)

    async def deliver(self, event: dict[str, Any]) -> None:
        if event["type"] == CREDENTIALS_REVOKED:
            self._revoke_credentials(event["data"])
            return
        if event["type"] == "inbox.members_updated":
            self._regrant(event)
        elif event["type"] == "member.updated":
            self._revoke(event)
        elif event["type"] == "presence.updated":
            self.heard_presence[(event["workspace_id"], event["data"]["user_id"])] = event["data"]["status"]
        for listener in self._listeners.values():
            listener.deliver(event)
        for sub in list(self._by_workspace.get(event["workspace_id"], ())):
            if sub.overflowed or not sub.sees(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.close(CLOSE_TOO_SLOW)
