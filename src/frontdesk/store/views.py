"""Rows to the dictionaries the API returns and events carry: one shape for both, so a client
that applies events holds exactly what a fresh fetch would return."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from frontdesk.domain.web.visits import time_on_site_seconds


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "inbox_id": row["inbox_id"],
        "kind": row["kind"],
        "sender_type": row["sender_type"],
        "sender_id": row["sender_id"],
        "text": row["text"],
        "content_type": row["content_type"],
        "source_id": row["source_id"],
        "delivery_status": row["delivery_status"],
        "failure_reason": row["failure_reason"],
        # Rows built by the insert actions lack the delivery columns that only the worker sets.
        "failure_detail": row.get("failure_detail"),
        "delivery_attempts": row.get("delivery_attempts") or 0,
        "next_attempt_at": _iso(row.get("next_attempt_at")),
        "data": row["data"],
        # Absent from rows built before insert (replies, notes, activity lines): none.
        "annotations": row.get("annotations") or [],
        "created_at": _iso(row["created_at"]),
    }


def conversation_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "inbox_id": row["inbox_id"],
        "contact": {"id": row["contact_id"], "name": row["contact_name"]},
        "status": row["status"],
        "snoozed_until": _iso(row["snoozed_until"]),
        "assignee_id": row["assignee_id"],
        "team_id": row["team_id"],
        "priority": row["priority"],
        "labels": sorted(row["labels"]),
        "last_activity_at": _iso(row["last_activity_at"]),
        "waiting_since": _iso(row["waiting_since"]),
        "first_reply_at": _iso(row["first_reply_at"]),
        "first_reply_seconds": row["first_reply_seconds"],
        "last_message_preview": row["last_message_preview"],
        "unread_count": row["unread_count"],
        "created_at": _iso(row["created_at"]),
        # Computed by the HTTP layer from the channel's rules (actions/reply_windows.py); events
        # built inside a transaction do not know the rules.
        "reply_window": row.get("reply_window"),
    }


def contact_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        # A PATCH could store JSON null here before null was refused (decision 0023): such a
        # contact reads as having no attributes rather than breaking every read of it.
        "attributes": row["attributes"] or {},
        "created_at": _iso(row["created_at"]),
        # W4: null, or when an agent blocked the contact's website chat.
        "blocked_at": _iso(row.get("blocked_at")),
        "avatar_url": CONTACT_AVATAR_URL_PREFIX + row["avatar_path"] if row.get("avatar_path") else None,
    }


VISIT_FACTS = (
    "ip",
    "country_code",
    "country",
    "city",
    "isp",
    "browser",
    "os",
    "device",
    "language",
    "referrer",
    "source_kind",
    "source",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "landing_url",
    "current_url",
    "current_title",
    "page_count",
)


def visit_view(row: Mapping[Any, Any], now: datetime) -> dict[str, Any]:
    """A website visit (Visit / LiveVisitor of docs/channels/web-widget-protocol.md). `row` has the
    web_visits columns plus contact_name, contact_email, contact_blocked_at and conversation_id."""
    return {
        "id": row["id"],
        "workspace_id": row["workspace_id"],
        "inbox_id": row["inbox_id"],
        "contact": {
            "id": row["contact_id"],
            "name": row["contact_name"],
            "email": row["contact_email"],
            "blocked": row["contact_blocked_at"] is not None,
        },
        "conversation_id": row["conversation_id"],
        "started_at": _iso(row["started_at"]),
        "last_seen_at": _iso(row["last_seen_at"]),
        "left_at": _iso(row["left_at"]),
        "time_on_site_seconds": time_on_site_seconds(
            row["started_at"], row["last_seen_at"], row["left_at"], now
        ),
        **{key: row[key] for key in VISIT_FACTS},
        "pages": row["pages"],
    }


def inbox_view(row: Mapping[Any, Any], webhook_path: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "channel_type": row["channel_type"],
        "uid": row["uid"],
        "settings": row["settings"],
        "is_enabled": bool(row["is_enabled"]),
        "webhook_path": webhook_path,
        "created_at": _iso(row["created_at"]),
    }


AVATAR_URL_PREFIX = "/files/avatars/"
CONTACT_AVATAR_URL_PREFIX = "/files/contact-avatars/"


def avatar_url(path: str | None) -> str | None:
    """The picture's address; its random part is the capability, like attachments'."""
    return AVATAR_URL_PREFIX + path if path else None


def profile_view(
    row: Mapping[Any, Any], preferences: dict[str, Any], workspaces: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "display_name": row["display_name"],
        "locale": row["locale"],
        "avatar_url": avatar_url(row["avatar_path"]),
        "preferences": preferences,
        "workspaces": workspaces,
    }


def member_view(
    row: Mapping[Any, Any], status: str, team_ids: list[int], inbox_ids: list[int]
) -> dict[str, Any]:
    return {
        "user_id": row["user_id"],
        "email": row["email"],
        "name": row["name"],
        "display_name": row["display_name"],
        "avatar_url": avatar_url(row["avatar_path"]),
        "role": row["role"],
        "is_active": bool(row["is_active"]),
        "availability": row["availability"],
        "status": status,
        "team_ids": team_ids,
        "inbox_ids": inbox_ids,
    }
