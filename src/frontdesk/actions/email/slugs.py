"""Giving a workspace its mail slug (E1), the label of its hosted email addresses."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from frontdesk.domain.email.addresses import slug_candidates
from frontdesk.store import tables as t
from frontdesk.store.db import Tx

__all__ = ["do_assign_mail_slug"]


async def do_assign_mail_slug(tx: Tx, workspace_id: int, name: str) -> str:
    """The first free slug made from the name; the unique key decides races between workspaces
    created at the same moment."""
    w = t.workspaces
    for slug in slug_candidates(name, workspace_id):
        try:
            async with tx.conn.begin_nested():
                await tx.conn.execute(w.update().where(w.c.id == workspace_id).values(mail_slug=slug))
        except IntegrityError:
            continue
        return slug
    raise RuntimeError(f"no free mail slug for workspace {workspace_id}")  # the id's slug is unique
