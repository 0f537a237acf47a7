"""Blocking a contact (PRODUCT W4): a blocked contact's website widget can no longer open a
session, send messages or files, and their open widget sockets are closed.

Who may block: any member who can see the contact — agents included, as in Chatwoot. The agent
facing an abusive visitor is the one who needs the button, and blocking is reversible, audited,
and shown (blocked_at) to everyone who sees the contact.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from frontdesk.access import Actor, access_contact_by_id
from frontdesk.actions.audit import do_audit
from frontdesk.events import ContactUpdated, ephemeral
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import contact_view

CONTACT_BLOCKED = "contact.blocked"


async def _set_blocked(tx: Tx, actor: Actor, contact_id: int, blocked: bool) -> tuple[dict[str, Any], bool]:
    before = await access_contact_by_id(tx.conn, actor, contact_id)
    if (before["blocked_at"] is not None) == blocked:
        return contact_view(before), False  # already so: nothing changes, nothing is announced
    changes = (
        {"blocked_at": utcnow(), "blocked_by_id": actor.user_id}
        if blocked
        else {
            "blocked_at": None,
            "blocked_by_id": None,
        }
    )
    await tx.conn.execute(t.contacts.update().where(t.contacts.c.id == contact_id).values(**changes))
    view = contact_view({**before, **changes})
    # One contact.updated per inbox the contact wrote to, as for any contact change.
    inbox_ids = (
        await tx.conn.execute(
            sa.select(t.contact_identities.c.inbox_id).where(t.contact_identities.c.contact_id == contact_id)
        )
    ).scalars()
    for inbox_id in sorted(set(inbox_ids)):
        await tx.emit(ContactUpdated(actor.workspace_id, inbox_id, view))
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "contact.block" if blocked else "contact.unblock",
        "contact",
        contact_id,
    )
    return view, True


async def check_block_contact(tx: Tx, actor: Actor, contact_id: int) -> tuple[dict[str, Any], bool]:
    """Returns the contact and whether it changed; when it did, publish `blocked_event` after
    the commit so every process closes the contact's widget sockets."""
    return await _set_blocked(tx, actor, contact_id, True)


async def check_unblock_contact(tx: Tx, actor: Actor, contact_id: int) -> dict[str, Any]:
    view, _ = await _set_blocked(tx, actor, contact_id, False)
    return view


def blocked_event(workspace_id: int, contact_id: int) -> dict[str, Any]:
    """Ephemeral `contact.blocked`, to the whole workspace (inbox None): a visitor socket may be
    served by any process, and each closes its own."""
    return ephemeral(CONTACT_BLOCKED, workspace_id, None, {"contact_id": contact_id})
