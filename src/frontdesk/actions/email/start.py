"""An agent writes first to a customer by email (a new conversation in an email inbox).

The address becomes the contact's identity on the inbox, in the form incoming mail from it is
stored under, so the customer's answer joins the same contact; an existing contact of the
workspace with that email is reused. The conversation is new (a new subject starts a new
conversation, E4), assigned to the agent, and the mail is an ordinary queued reply carrying its
subject: the send job and the email adapter do the rest (channels/email.py, compose).
"""

from __future__ import annotations

import sqlalchemy as sa

from frontdesk.access import Actor, access_inbox_by_id
from frontdesk.actions.conversations import do_open_conversation
from frontdesk.actions.email.templates import load_template
from frontdesk.actions.messages import Row, check_send_reply, do_add_identity, do_create_contact
from frontdesk.actions.reply_windows import do_with_window
from frontdesk.domain.channels import ChannelLookup
from frontdesk.domain.email.template import subject_of_new_mail
from frontdesk.domain.errors import Conflict, InvalidInput
from frontdesk.domain.inbound import InboundContact
from frontdesk.events import ConversationCreated
from frontdesk.mail.parse import Address, mail_address
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view

__all__ = ["check_start_email_conversation"]

_c, _ci = t.contacts, t.contact_identities


async def check_start_email_conversation(
    tx: Tx,
    actor: Actor,
    inbox_id: int,
    to: str,
    name: str | None,
    subject: str | None,
    text: str,
    *,
    channels: ChannelLookup,
) -> int:
    """Open the conversation and queue its first mail; returns the conversation id."""
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    if inbox["channel_type"] != "email":
        raise InvalidInput("this inbox is not an email inbox", field="inbox_id", code="not_email_inbox")
    address = mail_address(to, name or "")
    if address is None:
        raise InvalidInput(f"{to!r} is not an email address", field="to")
    saved = await load_template(tx.conn, inbox_id)
    mail_subject = subject_of_new_mail(subject, saved.template)
    if not text.strip():
        raise InvalidInput("text must not be empty", field="text")
    identity_id, contact_id, contact_name = await _identity(tx, inbox, address)
    opened = await do_open_conversation(
        tx,
        workspace_id=inbox["workspace_id"],
        inbox_id=inbox_id,
        contact_id=contact_id,
        identity_id=identity_id,
        contact_name=contact_name,
        now=utcnow(),
        assignee_id=actor.user_id,
    )
    view = conversation_view(await do_with_window(tx, opened, inbox))
    await tx.emit(ConversationCreated(inbox["workspace_id"], inbox_id, view))
    await check_send_reply(
        tx, actor, int(opened["id"]), text, channels=channels, data={"email": {"subject": mail_subject}}
    )
    return int(opened["id"])


async def _identity(tx: Tx, inbox: Row, address: Address) -> tuple[int, int, str]:
    """The address's identity on this inbox, made (with its contact, or the workspace's contact
    with this email) when there is none. A blocked contact is not written to."""
    found = (
        await tx.conn.execute(
            sa.select(_ci.c.id, _c.c.id.label("contact_id"), _c.c.name, _c.c.blocked_at)
            .join(_c, _c.c.id == _ci.c.contact_id)
            .where(_ci.c.inbox_id == inbox["id"], _ci.c.source_id == address.address)
        )
    ).first()
    if found is None:
        found = (
            await tx.conn.execute(
                sa.select(sa.null().label("id"), _c.c.id.label("contact_id"), _c.c.name, _c.c.blocked_at)
                .where(
                    _c.c.workspace_id == inbox["workspace_id"],
                    sa.func.lower(_c.c.email) == address.address,
                )
                .order_by(_c.c.id.desc())
                .limit(1)
            )
        ).first()
    if found is not None and found.blocked_at is not None:
        raise Conflict(
            "this contact is blocked: unblock the contact to write to them",
            field="to",
            code="contact_blocked",
        )
    now = utcnow()
    if found is None:
        contact = InboundContact(source_id=address.address, name=address.name, email=address.address)
        contact_id, name = await do_create_contact(tx, inbox["workspace_id"], contact, now)
    elif found.id is not None:
        return int(found.id), int(found.contact_id), str(found.name)
    else:
        contact_id, name = int(found.contact_id), str(found.name)
    return await do_add_identity(tx, inbox["id"], address.address, contact_id, now), contact_id, name
