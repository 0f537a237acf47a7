"""A new contact's name and picture from its channel's profile API (LINE, WeChat): the ingest
queues a durable fetch_profile job when it makes a contact on an inbox whose channel has one
(ChannelAdapter.fetch_profile); the job (jobs/profiles.py) fills in what the provider says.

Payload: {"inbox_id", "contact_id", "source_id"}. What an agent wrote is never overwritten:
the name is only set while it is still the placeholder the ingest gave; the picture's address
and the language go in the contact's attributes (picture_url, language), and the picture itself,
copied here by the job, becomes the contact's (avatar_path).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile
from frontdesk.events import ContactUpdated
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.views import contact_view

__all__ = ["FETCH_PROFILE", "do_change_contact", "do_fill_profile", "do_queue_profile", "placeholder_name"]

FETCH_PROFILE = "fetch_profile"


def placeholder_name(source_id: str) -> str:
    """The name a contact gets when its first event names nobody (actions/messages.py)."""
    return f"Contact {source_id}"[:200]


async def do_queue_profile(tx: Tx, inbox: Any, contact_id: int, source_id: str) -> None:
    """Queue the profile of a contact just made, where the inbox's channel reads profiles."""
    if tx.channels is None or not tx.channels(inbox["channel_type"]).fetches_profiles():
        return
    payload = {"inbox_id": inbox["id"], "contact_id": contact_id, "source_id": source_id}
    await enqueue(tx, FETCH_PROFILE, payload)


async def do_fill_profile(
    tx: Tx,
    inbox_id: int,
    contact_id: int,
    source_id: str,
    name: str | None,
    picture_url: str | None,
    language: str | None,
    picture: StoredFile | None = None,
) -> str | None:
    """The provider's name (only over the placeholder), the contact's attributes picture_url
    and language, and `picture` (the profile picture, already stored) as the contact's own.
    Returns the file the caller deletes once this has committed: the picture replaced, or
    `picture` itself when the contact is gone."""
    c = t.contacts
    row = (await tx.conn.execute(sa.select(c).where(c.c.id == contact_id))).mappings().first()
    if row is None:
        return picture.relative_path if picture is not None else None
    changes: dict[str, Any] = {}
    if name and row["name"] == placeholder_name(source_id):
        changes["name"] = name[:200]
    attributes = dict(row["attributes"] or {})
    profile = {k: v for k, v in {"picture_url": picture_url, "language": language}.items() if v}
    if any(attributes.get(k) != v for k, v in profile.items()):
        changes["attributes"] = {**attributes, **profile}
    if picture is not None:
        changes["avatar_path"] = picture.relative_path
    if not changes:
        return None
    await do_change_contact(tx, inbox_id, row, changes)
    replaced = row["avatar_path"] if picture is not None else None
    return str(replaced) if replaced else None


async def do_change_contact(tx: Tx, inbox_id: int, row: Any, changes: dict[str, Any]) -> None:
    """Write `changes` to the contact `row` (its full row) and tell the dashboards that see
    `inbox_id`: for what a channel learns of a person, not an agent's edit."""
    c = t.contacts
    await tx.conn.execute(c.update().where(c.c.id == row["id"]).values(**changes))
    await tx.emit(ContactUpdated(row["workspace_id"], inbox_id, contact_view({**row, **changes})))
