"""Email intake: one parsed mail becomes one incoming message, threaded by reply token, then by
In-Reply-To/References, else into a new conversation (a new subject is a new conversation)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile, attachment_view
from frontdesk.actions.ingest import Placement
from frontdesk.actions.messages import Received, Row, do_receive_message
from frontdesk.domain.annotations import Annotation, email_unreadable
from frontdesk.domain.email.threading import check_reply_token, from_mail_system, is_automatic, reply_tokens
from frontdesk.domain.inbound import InboundContact, InboundFile, InboundMessage
from frontdesk.mail.parse import RAW_FILE_NAME, Address, MailFile, ParsedEmail
from frontdesk.store import tables as t
from frontdesk.store.db import Tx

_m, _c = t.messages, t.conversations
# A Place (actions/ingest.py) that never refuses.
EmailPlace = Callable[[Tx, Row, InboundMessage, Sequence[StoredFile]], Awaitable[Placement]]


def _address_view(address: Address) -> dict[str, str]:
    return {"name": address.name, "address": address.address}


async def _by_token(tx: Tx, inbox: Row, mail: ParsedEmail, reply_secret: str) -> int | None:
    """A conversation of this inbox named by a valid reply+<token> address the mail went to."""
    recipients = [a.address for a in (*mail.delivered_to, *mail.to, *mail.cc)]
    for token in reply_tokens(recipients):
        conversation_id = check_reply_token(token, reply_secret)
        if conversation_id is None:
            continue
        query = sa.select(_c.c.id).where(_c.c.id == conversation_id, _c.c.inbox_id == inbox["id"])
        if (await tx.conn.execute(query)).first() is not None:
            return conversation_id
    return None


async def _by_references(tx: Tx, inbox: Row, mail: ParsedEmail) -> int | None:
    """The conversation holding the newest of the messages this mail answers or refers to
    (ours: the outgoing reply's Message-ID is its source_id; theirs: earlier mails)."""
    ids = list(dict.fromkeys((*mail.in_reply_to, *reversed(mail.references))))
    if not ids:
        return None
    query = (
        sa.select(_m.c.conversation_id)
        .where(_m.c.inbox_id == inbox["id"], _m.c.source_id.in_(ids))
        .order_by(_m.c.id.desc())
        .limit(1)
    )
    return (await tx.conn.execute(query)).scalar()


def _map_cid(html: str, mail_files: Sequence[MailFile], files: Sequence[StoredFile]) -> str:
    """Replace cid:<content id> by the stored file's URL. The caller stored the mail's files
    (some may have been refused), so each is found by its cleaned name and size."""
    free = list(files)
    for mail_file in mail_files:
        if not mail_file.content_id:
            continue
        name = mail_file.file_name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
        stored = next(
            (f for f in free if f.file_name == name and f.size == mail_file.size),
            None,
        )
        if stored is None:
            continue
        free.remove(stored)
        html = html.replace(f'src="cid:{mail_file.content_id}"', f'src="{attachment_view(stored)["url"]}"')
    return html


def email_data(mail: ParsedEmail, files: Sequence[StoredFile]) -> dict[str, Any]:
    """What the message's data carries about the mail (S reads cc/reply_to for replies)."""
    return {
        "subject": mail.subject,
        "from": _address_view(mail.sender) if mail.sender else None,
        "reply_to": [_address_view(a) for a in mail.reply_to],
        "to": [_address_view(a) for a in mail.to],
        "cc": [_address_view(a) for a in mail.cc],
        "message_id": mail.message_id,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "date": mail.date.isoformat() if mail.date else None,
        "html": _map_cid(mail.html, mail.files, files) if mail.html is not None else None,
        "quoted": mail.quoted,
        "kind": mail.kind,
        "problem": mail.problem,
        # Some of the mail could not be read (its text may be incomplete): the dashboard marks it.
        "partly_read": mail.problem is not None,
        "delivery": [dataclasses.asdict(s) for s in mail.delivery],
    }


def _read_problems(mail: ParsedEmail) -> tuple[Annotation, ...]:
    return (email_unreadable(mail.problem, RAW_FILE_NAME),) if mail.problem else ()


def _contact(mail: ParsedEmail) -> InboundContact:
    if mail.sender is None:
        # No usable From: one contact per unreadable mail would flood the contact list.
        return InboundContact(source_id="unknown-sender", name="Unknown sender")
    sender = mail.sender
    return InboundContact(source_id=sender.address, name=sender.name or sender.address, email=sender.address)


def email_inbound(mail: ParsedEmail) -> InboundMessage:
    """The mail as an inbound message, its files still to be stored; its data is filled in by
    `email_place` once they are (inline images point at the stored copies)."""
    return InboundMessage(
        source_id=mail.message_id,
        contact=_contact(mail),
        text=mail.text,
        content_type="email",
        files=tuple(
            InboundFile(f.file_name, f.content_type, f.content if f.path is None else f.path)
            for f in mail.files
        ),
        annotations=_read_problems(mail),
        automatic=is_automatic(mail.kind),
        system_sender=from_mail_system(mail.kind),
    )


async def email_conversation(tx: Tx, inbox: Row, mail: ParsedEmail, reply_secret: str) -> int | None:
    """The conversation of this inbox the mail answers (reply token, then references), if any."""
    conversation_id = await _by_token(tx, inbox, mail, reply_secret)
    if conversation_id is None:
        conversation_id = await _by_references(tx, inbox, mail)
    return conversation_id


def email_place(mail: ParsedEmail, reply_secret: str) -> EmailPlace:
    """Email's threading for the ingest action: the conversation the mail answers, else a new
    one (a new subject is a new conversation); the message's data.email from the stored files."""

    async def place(tx: Tx, inbox: Row, msg: InboundMessage, files: Sequence[StoredFile]) -> Placement:
        conversation_id = await email_conversation(tx, inbox, mail, reply_secret)
        stored = dataclasses.replace(msg, data={**msg.data, "email": email_data(mail, files)})
        return Placement(stored, conversation_id, new_conversation=conversation_id is None)

    return place


async def do_receive_email(
    tx: Tx,
    inbox: Row,
    mail: ParsedEmail,
    files: Sequence[StoredFile],
    reply_secret: str,
    left_out: Sequence[Annotation] = (),
) -> Received:
    """Store one mail in `inbox` (duplicates by Message-ID are stored once). `files` are the
    mail's files the caller stored (store_file), in any order, some possibly left out (each with
    its annotation in `left_out`). The listener and the IMAP import go through the ingest action
    (actions/mail_store.py), which stores the files itself; this is for a caller already in a
    transaction (the demo data, tests).
    Auto-replies, bounces and list mail are stored like any other, marked in data.email.kind:
    nothing automatic may answer them. Auto-replies and bounces reopen nothing and are not
    unread (one that threads nowhere starts a resolved conversation); a bounce that threads
    onto a conversation makes no contact for the mail system that sent it."""
    msg = email_inbound(mail)
    msg = dataclasses.replace(msg, files=(), annotations=(*left_out, *msg.annotations))
    placement = await email_place(mail, reply_secret)(tx, inbox, msg, files)
    return await do_receive_message(
        tx,
        inbox,
        placement.message,
        files,
        conversation_id=placement.conversation_id,
        new_conversation=placement.new_conversation,
    )
