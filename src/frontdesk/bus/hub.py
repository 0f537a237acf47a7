"""The local hub: which websocket sees which event.

Each agent socket subscribes with its workspace and the inboxes its agent may see; an event of
another inbox or workspace never reaches it. A socket that cannot keep up is dropped rather
than letting memory grow; it resumes from its last sequence number. The hub also closes sockets
whose member was deactivated (4403) or whose token or session was revoked (4401), and every
socket when the bus loses its link to the other processes (4503: the clients resume).

Website visitor sockets (channels/web/widget_socket.py) subscribe with their contact and the ids of
their conversations, and see only those conversations' events. There may be thousands of idle
ones per process, so a visitor subscription holds no queue until something is for it, and is
found through indexes by conversation and contact rather than by scanning.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from frontdesk.events import CREDENTIALS_REVOKED

QUEUE_LIMIT = 2000
REVOKED_KEPT = 1000  # revoked tokens and sessions remembered (see Hub._revoked)
VISITOR_QUEUE_LIMIT = 100  # events waiting for one visitor socket before it is closed (4408)
# Close codes a socket is told to close with (docs/events.md, "Close codes").
CLOSE_REVOKED = 4401  # agent: the token or sign-in session the socket opened with was revoked
CLOSE_BLOCKED = 4403  # visitor: blocked; agent: deactivated in the workspace
CLOSE_GONE = 4410  # the inbox was disabled
CLOSE_TOO_SLOW = 4408
# The bus to the other processes was lost: events may have been missed. Not final: the clients
# reconnect (with ?since= / last_message_id) and catch up from the events table.
CLOSE_BUS_LOST = 4503
VISITOR_EVENTS = frozenset(
    {"message.created", "message.updated", "typing", "conversation.created", "conversation.updated"}
)


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


@dataclass(eq=False, slots=True)
class VisitorSubscription:
    workspace_id: int
    inbox_id: int
    contact_id: int
    identity_id: int
    conversation_ids: set[int]
    wake: Callable[[], None]  # told that `pending` has something (the socket starts its sender)
    pending: deque[dict[str, Any]] | None = None  # made on first use: idle sockets hold none
    close_code: int | None = None  # set by the hub: the socket closes with it
    agents_online: bool | None = None  # what the visitor was last told (widget_socket)

    def push(self, event: dict[str, Any]) -> None:
        if self.close_code is not None:
            return
        if self.pending is None:
            self.pending = deque()
        if len(self.pending) >= VISITOR_QUEUE_LIMIT:
            self.close(CLOSE_TOO_SLOW)
            return
        self.pending.append(event)
        self.wake()

    def close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            self.pending = None
            self.wake()


class Hub:
    def __init__(self) -> None:
        self._by_workspace: dict[int, set[Subscription]] = defaultdict(set)
        self._visitors_by_conversation: dict[int, set[VisitorSubscription]] = {}
        self._visitors_by_contact: dict[int, set[VisitorSubscription]] = {}
        self._visitor_count = 0
        # Called with a workspace id when an agent's presence changed there and visitors of it
        # are connected (widget_socket tells them whether agents are online).
        self.on_visitor_presence: Callable[[int], None] | None = None
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
        if up:
            return
        for subs in self._by_workspace.values():
            for sub in subs:
                sub.close(CLOSE_BUS_LOST)
        for visitors in self._visitors_by_contact.values():
            for visitor in visitors:
                visitor.close(CLOSE_BUS_LOST)

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

    # Visitors -----------------------------------------------------------------------------

    def subscribe_visitor(
        self,
        workspace_id: int,
        inbox_id: int,
        contact_id: int,
        identity_id: int,
        conversation_ids: set[int],
        wake: Callable[[], None],
    ) -> VisitorSubscription:
        sub = VisitorSubscription(workspace_id, inbox_id, contact_id, identity_id, set(), wake)
        self._visitors_by_contact.setdefault(contact_id, set()).add(sub)
        for conversation_id in conversation_ids:
            self.follow_visitor(sub, conversation_id)
        self._visitor_count += 1
        if not self.bus_up:
            sub.close(CLOSE_BUS_LOST)
        return sub

    def unsubscribe_visitor(self, sub: VisitorSubscription) -> None:
        for conversation_id in sub.conversation_ids:
            _discard(self._visitors_by_conversation, conversation_id, sub)
        if _discard(self._visitors_by_contact, sub.contact_id, sub):
            self._visitor_count -= 1

    def visitor_workspaces(self) -> dict[int, set[int]]:
        """Workspace id → inbox ids that have visitor sockets in this process."""
        found: dict[int, set[int]] = {}
        for subs in self._visitors_by_contact.values():
            for sub in subs:
                found.setdefault(sub.workspace_id, set()).add(sub.inbox_id)
        return found

    def visitors_of_inbox(self, inbox_id: int) -> list[VisitorSubscription]:
        return [s for subs in self._visitors_by_contact.values() for s in subs if s.inbox_id == inbox_id]

    def follow_visitor(self, sub: VisitorSubscription, conversation_id: int) -> None:
        sub.conversation_ids.add(conversation_id)
        self._visitors_by_conversation.setdefault(conversation_id, set()).add(sub)

    def _deliver_to_visitors(self, event: dict[str, Any]) -> None:
        kind, data = event["type"], event["data"]
        if kind == "contact.blocked":
            for sub in list(self._visitors_by_contact.get(data["contact_id"], ())):
                if sub.workspace_id == event["workspace_id"]:
                    sub.close(CLOSE_BLOCKED)
            return
        if kind == "inbox.disabled":
            for sub in self.visitors_of_inbox(data["inbox_id"]):
                sub.close(CLOSE_GONE)
            return
        if kind == "presence.updated":
            if self.on_visitor_presence is not None:
                self.on_visitor_presence(event["workspace_id"])
            return
        if kind not in VISITOR_EVENTS:
            return
        conversation_id = self._visitor_conversation(event)
        if conversation_id is None:
            return
        for sub in self._visitors_by_conversation.get(conversation_id, ()):
            sub.push(event)

    def _visitor_conversation(self, event: dict[str, Any]) -> int | None:
        """The conversation a visitor event is about; None when no visitor socket should get it."""
        kind, data = event["type"], event["data"]
        if kind.startswith("conversation."):
            conversation = data["conversation"]
            # A new conversation of a connected visitor (an agent started a chat, or the visitor's
            # first message from another tab): follow it from now on.
            for sub in self._visitors_by_contact.get(conversation["contact"]["id"], ()):
                if sub.inbox_id == event["inbox_id"] and conversation["id"] not in sub.conversation_ids:
                    self.follow_visitor(sub, conversation["id"])
            return int(conversation["id"])
        if kind == "typing":
            # A visitor's own typing (no user_id) is for agents only.
            return None if data.get("user_id") is None else int(data["conversation_id"])
        return int(data["message"]["conversation_id"])

    # --------------------------------------------------------------------------------------

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
        if self._visitor_count:
            self._deliver_to_visitors(event)
        for sub in list(self._by_workspace.get(event["workspace_id"], ())):
            if sub.overflowed or not sub.sees(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.close(CLOSE_TOO_SLOW)


def _discard(index: dict[int, set[VisitorSubscription]], key: int, sub: VisitorSubscription) -> bool:
    subs = index.get(key)
    if subs is None or sub not in subs:
        return False
    subs.discard(sub)
    if not subs:
        del index[key]
    return True
