"""Request bodies. Unknown fields and wrong types are refused (422) rather than ignored."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from frontdesk.domain.enums import ConversationStatus, Priority, Role
from frontdesk.domain.input import Id, Omittable, refuse_unstorable
from frontdesk.domain.people import Availability
from frontdesk.domain.preferences import Locale, PreferencesPatch


class AgentInput(BaseModel):
    """What agents and API clients send: NUL in any text and numbers beyond 64 bits are
    refused, naming the field (docs/decisions/0023-input-at-the-boundary.md)."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return refuse_unstorable(value)


class Body(AgentInput):
    model_config = ConfigDict(extra="forbid", strict=True)


class LoginIn(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1000)


class TokenIn(Body):
    name: str = Field(max_length=200)


class WorkspaceIn(Body):
    name: str = Field(max_length=200)


class InvitationIn(Body):
    email: str = Field(max_length=320)
    role: Role = Field(default=Role.AGENT, strict=False)


class AcceptInvitationIn(Body):
    token: str = Field(max_length=200)
    name: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class ProfileIn(Body):
    """Only the fields sent change; display_name null clears it (the other fields may not be
    null); preferences are merged."""

    name: Omittable[Annotated[str, Field(max_length=200)]] = None
    display_name: str | None = Field(default=None, max_length=200)
    locale: Omittable[Locale] = None
    preferences: Omittable[PreferencesPatch] = None


class PasswordChangeIn(Body):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(min_length=8, max_length=1000)


class PasswordResetIn(Body):
    email: str = Field(max_length=320)


class PasswordResetConfirmIn(Body):
    token: str = Field(max_length=200)
    password: str = Field(min_length=8, max_length=1000)


class PresenceIn(Body):
    status: Availability = Field(strict=False)


class MemberActiveIn(Body):
    is_active: bool


class RoleIn(Body):
    role: Role = Field(strict=False)


class TeamIn(Body):
    name: str = Field(max_length=200)


class TeamMemberIn(Body):
    user_id: Id


class InboxIn(Body):
    name: str = Field(max_length=200)
    channel_type: str = Field(max_length=40)
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)


class InboxUpdateIn(Body):
    """Only the fields sent change. `settings` are merged into the current ones; `secrets` too,
    and they are never sent back. None of them may be null."""

    name: Omittable[Annotated[str, Field(max_length=200)]] = None
    settings: Omittable[dict[str, Any]] = None
    is_enabled: Omittable[bool] = None
    secrets: Omittable[dict[str, str]] = None


class InboxMembersIn(Body):
    user_ids: list[Id]


class ContactIn(Body):
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class ContactUpdateIn(Body):
    """Only the fields sent change; email and phone null clear them; name and attributes may
    not be null. `attributes` replaces the whole set (bounds in domain/contacts.py)."""

    name: Omittable[Annotated[str, Field(max_length=200)]] = None
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    attributes: Omittable[dict[str, Any]] = None


class ConversationUpdateIn(Body):
    status: Omittable[Annotated[ConversationStatus, Field(strict=False)]] = None
    snoozed_until: AwareDatetime | None = Field(
        default=None, strict=False, description="With a time zone (Z or an offset)."
    )
    priority: Omittable[Annotated[Priority, Field(strict=False)]] = None


class AssignmentIn(Body):
    assignee_id: Id | None = None
    team_id: Id | None = None
    comment: str | None = Field(default=None, max_length=2000)


class ParticipantIn(Body):
    user_id: Id


class LabelsIn(Body):
    labels: list[str]


class MessageIn(Body):
    text: str = Field(max_length=65_536)
    private: bool = False
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="The client's id of this message (or the Idempotency-Key header): stored once.",
    )


class LabelIn(Body):
    name: str = Field(max_length=100)
    color: str = Field(default="#6b7280", pattern=r"^#[0-9a-fA-F]{6}$")


class CannedIn(Body):
    short_code: str = Field(max_length=60)
    text: str = Field(max_length=10_000)


class CannedUpdateIn(Body):
    short_code: Omittable[Annotated[str, Field(max_length=60)]] = None
    text: Omittable[Annotated[str, Field(max_length=10_000)]] = None


class LabelUpdateIn(Body):
    name: Omittable[Annotated[str, Field(max_length=100)]] = None
    color: Omittable[Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]] = None
