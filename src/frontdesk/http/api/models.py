"""Request bodies. Unknown fields and wrong types are refused (422) rather than ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from frontdesk.domain.enums import ConversationStatus, Priority, Role
from frontdesk.domain.people import Availability
from frontdesk.domain.preferences import Locale, PreferencesPatch


class Body(BaseModel):
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
    """Only the fields sent change; display_name null clears it; preferences are merged."""

    name: str | None = Field(default=None, max_length=200)
    display_name: str | None = Field(default=None, max_length=200)
    locale: Locale | None = None
    preferences: PreferencesPatch | None = None


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
    user_id: int


class InboxIn(Body):
    name: str = Field(max_length=200)
    channel_type: str = Field(max_length=40)
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, Any] = Field(default_factory=dict)


class InboxUpdateIn(Body):
    """Only the fields sent change. `settings` are merged into the current ones; `secrets` too,
    and they are never sent back."""

    name: str | None = Field(default=None, max_length=200)
    settings: dict[str, Any] | None = None
    is_enabled: bool | None = None
    secrets: dict[str, str] | None = None


class InboxMembersIn(Body):
    user_ids: list[int]


class ContactIn(Body):
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)


class ContactUpdateIn(Body):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    attributes: dict[str, Any] | None = None


class ConversationUpdateIn(Body):
    status: ConversationStatus | None = Field(default=None, strict=False)
    snoozed_until: datetime | None = Field(default=None, strict=False)
    priority: Priority | None = Field(default=None, strict=False)


class AssignmentIn(Body):
    assignee_id: int | None = None
    team_id: int | None = None
    comment: str | None = Field(default=None, max_length=2000)


class ParticipantIn(Body):
    user_id: int


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
    short_code: str | None = Field(default=None, max_length=60)
    text: str | None = Field(default=None, max_length=10_000)


class LabelUpdateIn(Body):
    name: str | None = Field(default=None, max_length=100)
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class VisitorIdentityIn(Body):
    user_id: str = Field(min_length=1, max_length=200)
    hash: str = Field(min_length=1, max_length=128, description="Hex HMAC-SHA256 of user_id.")


def _cut(limit: int) -> AfterValidator:
    # Tracking input is cut to size, never refused: a long URL must not stop the chat.
    return AfterValidator(lambda value: value[:limit] if isinstance(value, str) else value)


class VisitorPageIn(Body):
    """The page the widget is on (tracking: best effort, cleaned by the tracking action)."""

    url: Annotated[str, _cut(2000)]
    title: Annotated[str | None, _cut(500)] = None
    referrer: Annotated[str | None, _cut(2000)] = None


class VisitorSessionIn(Body):
    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    identity: VisitorIdentityIn | None = None
    page: VisitorPageIn | None = None
    language: Annotated[str | None, _cut(100)] = Field(
        default=None, description="The browser's language, e.g. tr-TR."
    )


class VisitorOfflineIn(Body):
    """The offline form: left when no agent is online."""

    visitor_token: str | None = Field(default=None, max_length=1000)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40)
    text: str = Field(min_length=1, max_length=65_536)


class VisitorCsatIn(Body):
    conversation_id: int
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class VisitorMessageIn(Body):
    text: str = Field(max_length=65_536)
    client_id: str = Field(
        min_length=1, max_length=100, description="The widget's id for this message: a resend is stored once."
    )
