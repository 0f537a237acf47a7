"""Rows to the dictionaries the API returns and events carry: one shape for both, so a client
that applies events holds exactly what a fresh fetch would return."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


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
        "data": row["data"],
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
    }


def contact_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "phone": row["phone"],
        "attributes": row["attributes"],
        "created_at": _iso(row["created_at"]),
    }


def inbox_view(row: Mapping[Any, Any], webhook_path: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "channel_type": row["channel_type"],
        "uid": row["uid"],
        "settings": row["settings"],
        "webhook_path": webhook_path,
        "created_at": _iso(row["created_at"]),
    }
