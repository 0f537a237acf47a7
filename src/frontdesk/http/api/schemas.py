"""Response shapes, for the OpenAPI document (and the dashboard's generated client).

They mirror store/views.py, which builds the same dictionaries for events; a test compares the
two so they cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal, Required

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict

from frontdesk.domain.enums import DeliveryStatus, FailureReason
from frontdesk.domain.preferences import Preferences


class ContactRef(BaseModel):
    id: int
    name: str


class ReplyWindow(BaseModel):
    """What the conversation's channel lets an agent send now (decision 0039)."""

    state: Literal["open", "closing", "closed", "none"] = Field(
        description="none: the channel has no window; closing: open, in its last hour."
    )
    closes_at: str | None = Field(
        description="When free replies stop: the customer's last message (the provider's time) "
        "plus the window."
    )
    messages_left: int | None = Field(description="Replies left in this window; null: no cap.")
    allowed: list[Literal["free_text", "template", "tagged_reply", "other_inbox"]] = Field(
        description="The ways to reach the customer now; without free_text a reply is refused (409)."
    )
    other_inbox_id: int | None = Field(
        description="With other_inbox: an inbox (email) where the contact can be written to instead."
    )
    refusal: str | None = Field(
        default=None,
        description="Why free text is refused now: reply_window_closed, reply_limit_reached, "
        "customer_writes_first or quota_exhausted (the provider's monthly quota is used up); null "
        "while it is allowed.",
    )


class Conversation(BaseModel):
    id: int
    number: int
    inbox_id: int
    contact: ContactRef
    status: str
    snoozed_until: str | None
    assignee_id: int | None
    team_id: int | None
    priority: str
    labels: list[str]
    last_activity_at: str
    waiting_since: str | None
    first_reply_at: str | None
    first_reply_seconds: int | None
    last_message_preview: str
    unread_count: int
    created_at: str
    reply_window: ReplyWindow | None = Field(
        description="As of when it was read or the event was made (the client counts down to "
        "closes_at itself); null where a conversation was opened without its channel at hand "
        "(the event that follows it carries the window)."
    )


class ConversationDetail(Conversation):
    """GET one conversation: also who takes part in it (agents invited, mentioned or replying)."""

    participant_ids: list[int]


class ConversationPage(BaseModel):
    conversations: list[Conversation]
    next_cursor: str | None


class StatusCounts(BaseModel):
    open: int
    pending: int
    snoozed: int
    resolved: int


class TabCounts(BaseModel):
    all: StatusCounts
    mine: StatusCounts
    unassigned: StatusCounts


class Attachment(TypedDict):
    """A file of a message; `url` is a path on this server (its random part is the capability)."""

    file_name: str
    content_type: str
    size: int  # bytes
    url: str


@with_config(ConfigDict(extra="allow"))
class MessageData(TypedDict, total=False):
    """Only the keys that apply are present; a channel may add its own."""

    attachments: list[Attachment]  # any message with files
    mentions: list[int]  # notes: the user ids @mentioned
    # Activity lines: what happened (status_changed, assigned, priority_changed,
    # participant_added, participant_removed, snooze_ended) and its details.
    activity: str
    by: str
    status: str
    snoozed_until: str | None
    assignee_id: int | None
    team_id: int | None
    comment: str | None
    by_reply: bool  # "assigned" when the agent took the conversation by replying to it
    priority: str
    user_id: int


@with_config(ConfigDict(extra="allow"))
class MessageAnnotation(TypedDict, total=False):
    """What the system says about a message (domain/annotations.py), beside its text: `code` and
    the parameters that code takes. attachment_too_large: filename, size, limit (bytes);
    attachment_refused: filename, size, content_type, reason; email_unreadable: detail (technical,
    in English), original (the file name the whole mail is attached as). Clients word each code
    in their language and show unknown codes generically."""

    code: Required[str]
    filename: str
    size: int
    limit: int
    content_type: str
    reason: str
    detail: str
    original: str


class Message(BaseModel):
    id: int
    conversation_id: int
    inbox_id: int
    kind: str
    sender_type: str
    sender_id: int | None
    text: str
    content_type: str
    source_id: str | None
    delivery_status: DeliveryStatus | None = Field(description="Outgoing messages only.")
    failure_reason: FailureReason | None = Field(
        description="Why the last delivery attempt failed, as a code: set with `failed`, and while a "
        "reply waits to be retried (`queued` with `next_attempt_at`)."
    )
    failure_detail: str | None = Field(
        description="The same failure in the provider's own words (an SMTP answer, an HTTP status); "
        "untranslated."
    )
    delivery_attempts: int = Field(description="Delivery attempts made so far.")
    next_attempt_at: str | None = Field(
        description="When the next delivery attempt is due, while a reply waits between attempts."
    )
    data: MessageData
    annotations: list[MessageAnnotation]
    created_at: str


class MessagePage(BaseModel):
    messages: list[Message]
    next_before: int | None


class Contact(BaseModel):
    id: int
    name: str
    email: str | None
    phone: str | None
    attributes: dict[str, Any]
    created_at: str
    blocked_at: str | None = Field(
        description="When an agent blocked this contact's website chat (W4); null: not blocked."
    )
    avatar_url: str | None = Field(
        default=None,
        description="The profile picture the contact's channel gave (LINE, WeChat), as stored here; "
        "null: none.",
    )


class ContactPage(BaseModel):
    contacts: list[Contact]
    next_before: int | None


class Identity(BaseModel):
    id: int
    inbox_id: int
    source_id: str


class ContactDetail(Contact):
    identities: list[Identity]
    conversations: list[Conversation]


class Inbox(BaseModel):
    id: int
    name: str
    channel_type: str
    uid: str
    settings: dict[str, Any]
    is_enabled: bool
    webhook_path: str
    created_at: str


class SecretField(BaseModel):
    name: str
    description: str | None
    generated: bool = Field(description="Frontdesk creates it when the inbox is added (and on rotation).")
    shown_when: dict[str, list[str]] | None = Field(
        default=None,
        description="Only relevant while each named setting has one of the listed values "
        "(email: imap_password when address_mode is own_server); null: always.",
    )


class ChannelType(BaseModel):
    type: str
    settings_schema: dict[str, Any] = Field(description="JSON Schema of the inbox settings.")
    secret_fields: list[SecretField]
    checks_connection: bool = Field(
        default=False,
        description="The channel has a Test connection of its own (POST …/inboxes/{id}/check-connection "
        "calls its provider); false: the check only says there is no provider to call.",
    )


class Team(BaseModel):
    id: int
    name: str
    member_ids: list[int]


class Label(BaseModel):
    id: int
    name: str
    color: str


class CannedResponse(BaseModel):
    id: int
    short_code: str
    text: str


class InboxDetail(Inbox):
    member_ids: list[int]


class InboxSaved(Inbox):
    setup_warning: str | None = Field(
        default=None,
        description="What failed in the channel's setup step after the save (registering the webhook "
        "with the provider), as `code: detail`; the inbox is saved all the same. Null: nothing failed.",
    )


class InboxCreated(InboxSaved):
    secrets: dict[str, Any]


class Event(BaseModel):
    seq: int | None
    type: str
    workspace_id: int
    inbox_id: int | None
    created_at: str | None = None
    data: dict[str, Any]


class EventPage(BaseModel):
    events: list[Event]
    last_seq: int


class SearchResults(BaseModel):
    messages: list[Message]
    contacts: list[Contact]


class WorkspaceMembership(BaseModel):
    id: int
    name: str
    role: str


class Profile(BaseModel):
    """GET /me: the signed-in user, with every preference filled in."""

    id: int
    email: str
    name: str
    display_name: str | None
    locale: str
    avatar_url: str | None
    preferences: Preferences
    workspaces: list[WorkspaceMembership]


class Avatar(BaseModel):
    avatar_url: str


class Member(BaseModel):
    user_id: int
    email: str
    name: str
    display_name: str | None
    avatar_url: str | None
    role: str
    is_active: bool
    availability: Literal["online", "away", "offline"]
    status: Literal["online", "away", "offline"]
    team_ids: list[int]
    inbox_ids: list[int]


class AgentPresence(BaseModel):
    user_id: int
    status: Literal["online", "away", "offline"]


class Presence(BaseModel):
    agents: list[AgentPresence]


class InvitationPreview(BaseModel):
    workspace_name: str
    email: str
    role: str


class VisitContact(BaseModel):
    id: int
    name: str
    email: str | None
    blocked: bool


class VisitPage(BaseModel):
    url: str
    title: str | None
    at: str


class Visit(BaseModel):
    """A website visit (W2); on GET /visitors/live the same shape is a LiveVisitor (W3)."""

    id: int
    workspace_id: int
    inbox_id: int
    contact: VisitContact
    conversation_id: int | None = Field(description="The visitor's latest conversation in this inbox.")
    started_at: str
    last_seen_at: str
    left_at: str | None
    time_on_site_seconds: int
    ip: str | None
    country_code: str | None
    country: str | None
    city: str | None
    isp: str | None
    browser: str | None
    os: str | None
    device: Literal["desktop", "mobile", "tablet", "bot"] | None
    language: str | None
    referrer: str | None
    source_kind: Literal["direct", "search", "social", "referral", "campaign"]
    source: str | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    landing_url: str | None
    current_url: str | None
    current_title: str | None
    page_count: int = Field(description="Pages seen in this visit; `pages` keeps the latest 50.")
    pages: list[VisitPage]


class LiveVisitors(BaseModel):
    visitors: list[Visit]


class ContactVisits(BaseModel):
    visits_count: int
    visits: list[Visit]


class ChatStarted(BaseModel):
    conversation_id: int


class LoginResult(BaseModel):
    """The session itself travels in cookies; `csrf_token` goes back in X-CSRF-Token."""

    user_id: int
    csrf_token: str


class ApiToken(BaseModel):
    id: int
    name: str
    created_at: str
    revoked_at: str | None


class ApiTokenCreated(BaseModel):
    """The token in clear, shown this once; only its digest is kept."""

    id: int
    name: str
    token: str
    created_at: str


class Workspace(BaseModel):
    id: int
    name: str


class WorkspaceDetail(Workspace):
    """The workspace, with the caller's role in it."""

    role: str


class Invitation(BaseModel):
    """The invitation token, shown this once; the dashboard turns it into a link."""

    email: str
    role: str
    token: str


class InvitationAccepted(BaseModel):
    user_id: int
    workspace_id: int


class AuditEvent(BaseModel):
    id: int
    workspace_id: int
    actor_id: int | None
    action: str
    target_type: str
    target_id: int | None
    data: dict[str, Any]
    created_at: str


class AuditEventPage(BaseModel):
    """Newest first; `next_before` is the `before` of the next page, null on the last."""

    events: list[AuditEvent]
    next_before: int | None


class PasswordResetAccepted(BaseModel):
    status: Literal["accepted"]
