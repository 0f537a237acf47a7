"""Saving and reading an email inbox's template (E5). Callers have checked who may do it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.email.template import EmailTemplate, template_from_stored
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow

__all__ = ["SavedTemplate", "do_save_template", "do_set_header_image", "load_template", "saved_from_row"]

HEADER_IMAGE_PREFIX = "/files/email-headers/"


@dataclass(frozen=True)
class SavedTemplate:
    template: EmailTemplate
    header_image_path: str | None  # relative to the attachments folder
    updated_at: datetime | None

    @property
    def header_image_url(self) -> str | None:
        """Path of the image's capability URL (the random file name is the capability)."""
        return HEADER_IMAGE_PREFIX + self.header_image_path if self.header_image_path else None


def saved_from_row(row: Mapping[Any, Any] | None) -> SavedTemplate:
    if row is None:
        return SavedTemplate(EmailTemplate(), None, None)
    return SavedTemplate(template_from_stored(row["fields"]), row["header_image_path"], row["updated_at"])


async def load_template(conn: AsyncConnection, inbox_id: int) -> SavedTemplate:
    """The inbox's template; the defaults when it never saved one."""
    e = t.email_templates
    row = (
        (
            await conn.execute(
                sa.select(e.c.fields, e.c.header_image_path, e.c.updated_at).where(e.c.inbox_id == inbox_id)
            )
        )
        .mappings()
        .first()
    )
    return saved_from_row(row)


async def _upsert(tx: Tx, inbox_id: int, user_id: int, values: dict[str, Any]) -> None:
    e = t.email_templates
    now = utcnow()
    # Rows are created under a lock on the inbox row so two first saves cannot both insert.
    await tx.conn.execute(sa.select(t.inboxes.c.id).where(t.inboxes.c.id == inbox_id).with_for_update())
    exists = (await tx.conn.execute(sa.select(e.c.id).where(e.c.inbox_id == inbox_id))).first()
    if exists:
        await tx.conn.execute(
            e.update().where(e.c.inbox_id == inbox_id).values(**values, updated_at=now, updated_by_id=user_id)
        )
    else:
        await tx.conn.execute(
            e.insert().values(
                inbox_id=inbox_id,
                fields=values.pop("fields", EmailTemplate().as_dict()),
                **values,
                updated_at=now,
                updated_by_id=user_id,
            )
        )


async def do_save_template(tx: Tx, inbox_id: int, user_id: int, template: EmailTemplate) -> None:
    await _upsert(tx, inbox_id, user_id, {"fields": template.as_dict()})


async def do_set_header_image(tx: Tx, inbox_id: int, user_id: int, relative_path: str) -> str | None:
    """Records the new image; returns the previous one's path for the caller to delete."""
    e = t.email_templates
    old = (await tx.conn.execute(sa.select(e.c.header_image_path).where(e.c.inbox_id == inbox_id))).scalar()
    await _upsert(tx, inbox_id, user_id, {"header_image_path": relative_path})
    return old
