"""Response shapes, for the OpenAPI document (and the dashboard's generated client).

They mirror store/views.py, which builds the same dictionaries for events; a test compares the
two so they cannot drift.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ContactRef(BaseModel):
    id: int
    name: str


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
    delivery_status: str | None
    failure_reason: str | None
    data: dict[str, Any]
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
    webhook_path: str
    created_at: str


class InboxDetail(Inbox):
    member_ids: list[int]


class InboxCreated(Inbox):
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
