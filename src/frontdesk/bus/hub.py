"""The local hub: which websocket sees which event.

Each socket subscribes with its workspace and the inboxes its agent may see; an event of
another inbox or workspace never reaches it. A socket that cannot keep up is dropped rather
than letting memory grow; it resumes from its last sequence number.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

QUEUE_LIMIT = 2000


@dataclass(eq=False)
class Subscription:
    workspace_id: int
    user_id: int
    inbox_ids: frozenset[int] | None  # None: every inbox of the workspace
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_LIMIT)
    )
    overflowed: bool = False
    revoked: bool = False  # the member was deactivated: the socket closes with 4403

    def sees(self, event: dict[str, Any]) -> bool:
        inbox_id = event.get("inbox_id")
        return inbox_id is None or self.inbox_ids is None or inbox_id in self.inbox_ids


class Hub:
    def __init__(self) -> None:
        self._by_workspace: dict[int, set[Subscription]] = defaultdict(set)

    def subscribe(self, workspace_id: int, user_id: int, inbox_ids: frozenset[int] | None) -> Subscription:
        sub = Subscription(workspace_id, user_id, inbox_ids)
        self._by_workspace[workspace_id].add(sub)
        return sub

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
            if sub.user_id == event["data"]["user_id"] and not sub.revoked:
                sub.revoked = sub.overflowed = True
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                sub.queue.put_nowait(None)

    @property
    def connection_count(self) -> int:
        return sum(len(s) for s in self._by_workspace.values())

    async def deliver(self, event: dict[str, Any]) -> None:
        if event["type"] == "inbox.members_updated":
            self._regrant(event)
        elif event["type"] == "member.updated":
            self._revoke(event)
        for sub in list(self._by_workspace.get(event["workspace_id"], ())):
            if sub.overflowed or not sub.sees(event):
                continue
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True
                # Make room for the wake-up so the socket notices and closes.
                sub.queue.get_nowait()
                sub.queue.put_nowait(None)
