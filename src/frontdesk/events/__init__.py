"""One typed class per event. Logged events are rows written with their change and published
after commit; ephemeral ones (typing, presence) go straight to the bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    type: ClassVar[str]
    workspace_id: int
    inbox_id: int | None

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class MessageCreated(Event):
    type: ClassVar[str] = "message.created"
    message: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"message": self.message}


@dataclass(frozen=True)
class MessageUpdated(Event):
    type: ClassVar[str] = "message.updated"
    message: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"message": self.message}


@dataclass(frozen=True)
class ConversationCreated(Event):
    type: ClassVar[str] = "conversation.created"
    conversation: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"conversation": self.conversation}


@dataclass(frozen=True)
class ConversationUpdated(Event):
    type: ClassVar[str] = "conversation.updated"
    conversation: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"conversation": self.conversation}


@dataclass(frozen=True)
class ContactUpdated(Event):
    """A contact's details changed; conversations show the new name under `contact`."""

    type: ClassVar[str] = "contact.updated"
    contact: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"contact": self.contact}


@dataclass(frozen=True)
class InboxMembersUpdated(Event):
    """Who may see an inbox changed: open sockets widen or narrow what they receive. Sent to the
    whole workspace (event inbox_id None) so a removed agent learns it too."""

    type: ClassVar[str] = "inbox.members_updated"
    target_inbox_id: int
    member_ids: list[int]

    def payload(self) -> dict[str, Any]:
        return {"inbox_id": self.target_inbox_id, "member_ids": self.member_ids}


@dataclass(frozen=True)
class LabelUpdated(Event):
    """A label was renamed or recoloured. Conversations are not sent one by one (a label may be on
    very many): clients replace `previous_name` by `label.name` in each conversation's labels.
    Sent to the whole workspace (event inbox_id None)."""

    type: ClassVar[str] = "label.updated"
    label: dict[str, Any]
    previous_name: str

    def payload(self) -> dict[str, Any]:
        return {"label": self.label, "previous_name": self.previous_name}


@dataclass(frozen=True)
class LabelDeleted(Event):
    """A label was deleted; clients drop `label.name` from every conversation's labels."""

    type: ClassVar[str] = "label.deleted"
    label: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"label": self.label}


@dataclass(frozen=True)
class TeamDeleted(Event):
    """A team was deleted; clients set team_id to null on the conversations that had it."""

    type: ClassVar[str] = "team.deleted"
    team_id: int

    def payload(self) -> dict[str, Any]:
        return {"team_id": self.team_id}


@dataclass(frozen=True)
class InboxQuotaWarning(Event):
    """An inbox's monthly message quota at the provider crossed 80 % or 100 % (`level`). The
    dashboard warns administrators and keeps the inbox's `quota` current. Sent with the inbox's
    id: those who may see the inbox receive it, and every administrator may."""

    type: ClassVar[str] = "inbox.quota_warning"
    target_inbox_id: int
    inbox_name: str
    level: int
    quota: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {
            "inbox_id": self.target_inbox_id,
            "inbox_name": self.inbox_name,
            "level": self.level,
            "quota": self.quota,
        }


EPHEMERAL_TYPES = (
    "typing",
    "presence.updated",
    "member.updated",
    "credentials.revoked",
    "conversation.offered",
    # Website visitors (actions/web/visits.py, actions/blocks.py).
    "visitor.updated",
    "visitor.left",
    "contact.blocked",
    "inbox.disabled",
)
LOGGED_TYPES = tuple(
    cls.type
    for cls in (
        MessageCreated,
        MessageUpdated,
        ConversationCreated,
        ConversationUpdated,
        ContactUpdated,
        InboxMembersUpdated,
        LabelUpdated,
        LabelDeleted,
        TeamDeleted,
    )
)


def ephemeral(type_: str, workspace_id: int, inbox_id: int | None, data: dict[str, Any]) -> dict[str, Any]:
    """An event that is not kept in the change log: it has no sequence number."""
    return {"seq": None, "type": type_, "workspace_id": workspace_id, "inbox_id": inbox_id, "data": data}


CREDENTIALS_REVOKED = "credentials.revoked"


def credentials_revoked(
    user_id: int, *, token_ids: Sequence[int] = (), session_ids: Sequence[int] = ()
) -> dict[str, Any]:
    """A user's API tokens or sign-in sessions were revoked: the agent sockets opened with them
    close (4401), on every process. Not for one workspace: workspace_id 0, never sent to a client."""
    data = {"user_id": user_id, "token_ids": list(token_ids), "session_ids": list(session_ids)}
    return ephemeral(CREDENTIALS_REVOKED, 0, None, data)
