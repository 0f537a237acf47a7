"""Reads for the email channel's own routes, beside the generic ones of frontdesk/access.py
(which names no channel): an email inbox the actor may see, and the workspace's mail slug."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.access import Actor, Row, access_inbox_by_id
from frontdesk.domain.errors import NotFound
from frontdesk.store import tables as t

__all__ = ["access_email_inbox", "mail_slug_of"]


async def access_email_inbox(conn: AsyncConnection, actor: Actor, inbox_id: int) -> Row:
    """An email inbox the actor may see; any other inbox is not found here (its email-only
    routes, such as the template or the DNS records, do not exist for it)."""
    row = await access_inbox_by_id(conn, actor, inbox_id)
    if row["channel_type"] != "email":
        raise NotFound("this inbox is not an email inbox", field="inbox_id")
    return row


async def mail_slug_of(conn: AsyncConnection, workspace_id: int) -> str | None:
    """The workspace's label in hosted email addresses (<local part>@<slug>.<mail domain>)."""
    query = sa.select(t.workspaces.c.mail_slug).where(t.workspaces.c.id == workspace_id)
    slug: str | None = (await conn.execute(query)).scalar_one()
    return slug
