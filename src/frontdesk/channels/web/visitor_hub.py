"""Which website visitor socket hears which event: the web channel's part of the hub.

Visitor sockets (widget_socket.py) subscribe with their contact and the ids of their
conversations, and see only those conversations' events. There may be thousands of idle ones
per process, so a visitor subscription holds no queue until something is for it, and is found
through indexes by conversation and contact rather than by scanning. The hub (bus/hub.py) hands
this listener every event it delivers and tells it when the bus is lost, without knowing it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from frontdesk.bus.hub import CLOSE_BLOCKED, CLOSE_BUS_LOST, CLOSE_TOO_SLOW, Hub

VISITOR_QUEUE_LIMIT = 100  # events waiting for one visitor socket before it is closed (4408)
CLOSE_GONE = 4410  # the inbox was disabled
VISITOR_EVENTS = frozenset(
    {"message.created", "message.updated", "typing", "conversation.created", "conversation.updated"}
)


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


class VisitorHub:
    """The visitor sockets of one process (one per Hub: see visitor_hub)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._by_conversation: dict[int, set[VisitorSubscription]] = {}
        self._by_contact: dict[int, set[VisitorSubscription]] = {}
        self._count = 0
        # Called with a workspace id when an agent's presence changed there and visitors of it
        # are connected (widget_socket tells them whether agents are online).
        self.on_presence: Callable[[int], None] | None = None

    def subscribe(
        self,
        workspace_id: int,
        inbox_id: int,
        contact_id: int,
        identity_id: int,
        conversation_ids: set[int],
        wake: Callable[[], None],
    ) -> VisitorSubscription:
        sub = VisitorSubscription(workspace_id, inbox_id, contact_id, identity_id, set(), wake)
        self._by_contact.setdefault(contact_id, set()).add(sub)
        for conversation_id in conversation_ids:
            self.follow(sub, conversation_id)
        self._count += 1
        if not self.hub.bus_up:
            sub.close(CLOSE_BUS_LOST)
        return sub

    def unsubscribe(self, sub: VisitorSubscription) -> None:
        for conversation_id in sub.conversation_ids:
            _discard(self._by_conversation, conversation_id, sub)
        if _discard(self._by_contact, sub.contact_id, sub):
            self._count -= 1

    def workspaces(self) -> dict[int, set[int]]:
        """Workspace id → inbox ids that have visitor sockets in this process."""
        found: dict[int, set[int]] = {}
        for subs in self._by_contact.values():
            for sub in subs:
                found.setdefault(sub.workspace_id, set()).add(sub.inbox_id)
        return found

    def of_inbox(self, inbox_id: int) -> list[VisitorSubscription]:
        return [s for subs in self._by_contact.values() for s in subs if s.inbox_id == inbox_id]

    def follow(self, sub: VisitorSubscription, conversation_id: int) -> None:
        sub.conversation_ids.add(conversation_id)
        self._by_conversation.setdefault(conversation_id, set()).add(sub)

    def bus_changed(self, up: bool) -> None:
        """The bus was lost: every visitor socket closes with 4503 and resumes (last_message_id)."""
        if up:
            return
        for visitors in self._by_contact.values():
            for visitor in visitors:
                visitor.close(CLOSE_BUS_LOST)

    def deliver(self, event: dict[str, Any]) -> None:
        if not self._count:
            return
        kind, data = event["type"], event["data"]
        if kind == "contact.blocked":
            for sub in list(self._by_contact.get(data["contact_id"], ())):
                if sub.workspace_id == event["workspace_id"]:
                    sub.close(CLOSE_BLOCKED)
            return
        if kind == "inbox.disabled":
            for sub in self.of_inbox(data["inbox_id"]):
                sub.close(CLOSE_GONE)
            return
        if kind == "presence.updated":
            if self.on_presence is not None:
                self.on_presence(event["workspace_id"])
            return
        if kind not in VISITOR_EVENTS:
            return
        conversation_id = self._conversation(event)
        if conversation_id is None:
            return
        for sub in self._by_conversation.get(conversation_id, ()):
            sub.push(event)

    def _conversation(self, event: dict[str, Any]) -> int | None:
        """The conversation a visitor event is about; None when no visitor socket should get it."""
        kind, data = event["type"], event["data"]
        if kind.startswith("conversation."):
            conversation = data["conversation"]
            # A new conversation of a connected visitor (an agent started a chat, or the visitor's
            # first message from another tab): follow it from now on.
            for sub in self._by_contact.get(conversation["contact"]["id"], ()):
                if sub.inbox_id == event["inbox_id"] and conversation["id"] not in sub.conversation_ids:
                    self.follow(sub, conversation["id"])
            return int(conversation["id"])
        if kind == "typing":
            # A visitor's own typing (no user_id) is for agents only.
            return None if data.get("user_id") is None else int(data["conversation_id"])
        return int(data["message"]["conversation_id"])


def visitor_hub(hub: Hub) -> VisitorHub:
    """This process's visitor sockets: made on the first visitor, kept by the hub."""
    return hub.listener(VisitorHub)


def _discard(index: dict[int, set[VisitorSubscription]], key: int, sub: VisitorSubscription) -> bool:
    subs = index.get(key)
    if subs is None or sub not in subs:
        return False
    subs.discard(sub)
    if not subs:
        del index[key]
    return True
