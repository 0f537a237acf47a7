"""What an incoming message does to its conversation: a person writing reopens it and waits
for an answer; a machine answering on its own (an auto-reply, a bounce) is only recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frontdesk.domain.enums import ConversationStatus

__all__ = ["Arrival", "arrival_of", "joins_resolved"]


@dataclass(frozen=True)
class Arrival:
    """The conversation's fields an arriving message sets (the preview and activity time are
    always set); a field left None keeps its value."""

    status: ConversationStatus | None
    unread_added: int
    waiting_since: datetime | None
    clears_snooze: bool

    def changes(self, unread_count: int, waiting_since: datetime | None) -> dict[str, Any]:
        """The update of a conversation with these counts that this arrival makes."""
        found: dict[str, Any] = {}
        if self.status is not None:
            found["status"] = self.status.value
        if self.clears_snooze:
            found["snoozed_until"] = None
        if self.unread_added:
            found["unread_count"] = unread_count + self.unread_added
        if self.waiting_since is not None:
            found["waiting_since"] = waiting_since or self.waiting_since
        return found


def arrival_of(automatic: bool, new_conversation: bool, now: datetime) -> Arrival:
    """A person's message opens the conversation, counts as unread and starts (or keeps) the
    wait for an answer. An automatic one changes none of that: onto a conversation it leaves
    status, unread count and wait as they were; one that starts a conversation starts it
    resolved, since nobody waits for an answer to it."""
    if not automatic:
        return Arrival(ConversationStatus.OPEN, 1, now, clears_snooze=True)
    if new_conversation:
        return Arrival(ConversationStatus.RESOLVED, 0, None, clears_snooze=False)
    return Arrival(None, 0, None, clears_snooze=False)


def joins_resolved(automatic: bool, reopen_resolved: bool) -> bool:
    """Whether a message that names a resolved conversation joins it (rather than starting a
    new one). Where the inbox starts a new conversation after a resolved one, a person does;
    an automatic message joins it all the same, as it reopens nothing."""
    return automatic or reopen_resolved
