"""What a reply mail needs beyond the generic Outbound, read in the worker before the attempt:
who else the customer copied, how an agent-started conversation began, the workspace's label in
hosted addresses, and the inbox's saved template."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.actions.email.templates import HEADER_IMAGE_PREFIX
from frontdesk.domain.enums import MessageKind
from frontdesk.store import tables as t

COPIES_FROM_MAILS = 50  # the latest incoming mails whose Cc and To are kept on replies


@dataclass(frozen=True)
class Opening:
    """How a conversation an agent started by email began (empty otherwise): the subject the
    agent gave, the Message-ID its first mail left with (None until it was sent), and whether the
    message being sent is that first mail."""

    subject: str | None = None
    message_id: str | None = None
    is_this: bool = False


@dataclass(frozen=True)
class ReplyContext:
    # The Cc and other To addresses of the conversation's incoming mails, newest first
    # ({"name", "address"} each), so whoever the customer copied stays copied.
    conversation_cc: tuple[Mapping[str, Any], ...] = ()
    mail_slug: str | None = None  # the workspace's label in hosted email addresses
    # A saved template (E5): {"fields": {...}, "header_image_url": absolute or None}.
    template: Mapping[str, Any] | None = None
    opening: Opening = Opening()


async def read_reply_context(
    conn: AsyncConnection, message_id: int, conversation_id: int, public_url: str
) -> ReplyContext:
    m = t.messages
    row = (
        await conn.execute(
            sa.select(
                t.workspaces.c.mail_slug,
                t.email_templates.c.fields.label("template_fields"),
                t.email_templates.c.header_image_path,
            )
            .select_from(m)
            .join(t.workspaces, t.workspaces.c.id == m.c.workspace_id)
            .outerjoin(t.email_templates, t.email_templates.c.inbox_id == m.c.inbox_id)
            .where(m.c.id == message_id)
        )
    ).first()
    if row is None:
        return ReplyContext()
    template = None
    if row.template_fields is not None:
        image = row.header_image_path
        template = {
            "fields": row.template_fields,
            "header_image_url": public_url.rstrip("/") + HEADER_IMAGE_PREFIX + image if image else None,
        }
    return ReplyContext(
        conversation_cc=await _conversation_copies(conn, conversation_id),
        mail_slug=row.mail_slug,
        template=template,
        opening=await _opening(conn, conversation_id, message_id),
    )


async def _conversation_copies(conn: AsyncConnection, conversation_id: int) -> tuple[dict[str, Any], ...]:
    """The Cc and To addresses of the conversation's latest incoming mails, newest first: the
    adapter leaves out our own addresses and the reply's To."""
    m = t.messages
    rows = await conn.execute(
        sa.select(m.c.data)
        .where(m.c.conversation_id == conversation_id, m.c.kind == MessageKind.INCOMING.value)
        .order_by(m.c.id.desc())
        .limit(COPIES_FROM_MAILS)
    )
    found: list[dict[str, Any]] = []
    for (data,) in rows:
        mail = (data or {}).get("email") or {}
        for entry in (*(mail.get("cc") or []), *(mail.get("to") or [])):
            if isinstance(entry, dict) and isinstance(entry.get("address"), str):
                found.append({"name": str(entry.get("name") or ""), "address": entry["address"]})
    return tuple(found)


async def _opening(conn: AsyncConnection, conversation_id: int, message_id: int) -> Opening:
    """The conversation's first message, when an agent started it by email with a subject."""
    m = t.messages
    first = (
        await conn.execute(
            sa.select(m.c.id, m.c.kind, m.c.data, m.c.source_id)
            .where(m.c.conversation_id == conversation_id)
            .order_by(m.c.id)
            .limit(1)
        )
    ).first()
    if first is None or first.kind != MessageKind.OUTGOING.value:
        return Opening()
    subject = ((first.data or {}).get("email") or {}).get("subject")
    if not isinstance(subject, str) or not subject:
        return Opening()
    return Opening(subject=subject, message_id=first.source_id, is_this=first.id == message_id)
