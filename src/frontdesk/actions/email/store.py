"""Storing one received mail (E1 listener, E3 IMAP import): the mail's files are written first,
then the message is stored for every inbox it reaches in one write transaction.

A repeated mail (same Message-ID in an inbox) stores nothing new and its copies of the files go.
`in_same_tx` lets the IMAP importer advance its cursor in the very transaction that stores the
message, so a crash can neither import a message twice nor skip one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.email.intake import do_receive_email
from frontdesk.actions.messages import Row
from frontdesk.domain.annotations import Annotation, attachment_left_out
from frontdesk.domain.errors import DomainError
from frontdesk.mail.parse import MailFile, ParsedEmail
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx

__all__ = ["MailTarget", "StoreOutcome", "do_store_mail"]

# Built once (with an expanding IN): constructing it for every mail showed in the profile.
_ENABLED = sa.select(t.inboxes.c.id).where(
    t.inboxes.c.id.in_(sa.bindparam("ids", expanding=True)), t.inboxes.c.is_enabled
)
ATTEMPTS = 3  # concurrent first mails of one sender may race on the unique keys
SameTx = Callable[[Tx, int], Awaitable[None]]  # given the number of messages stored
# The mail with only the files kept, the stored copies, and an annotation per file left out.
Prepared = tuple[ParsedEmail, list[StoredFile], tuple[Annotation, ...]]


@dataclass(frozen=True)
class MailTarget:
    inbox: Row
    reply_secret: str


@dataclass(frozen=True)
class StoreOutcome:
    stored: int
    duplicates: int
    refused: int = 0  # targets whose inbox was disabled or removed (only_enabled)


async def do_store_mail(
    db: Database,
    settings: Settings,
    targets: Sequence[MailTarget],
    mail: ParsedEmail,
    in_same_tx: SameTx | None = None,
    *,
    only_enabled: bool = False,
) -> StoreOutcome:
    """Store `mail` once per target inbox; `in_same_tx` runs inside the same write transaction,
    after the messages (its failure rolls them back). `only_enabled` leaves out, in that same
    transaction, targets whose inbox is no longer there or enabled (the listener routed at RCPT)."""
    root = settings.attachments_dir
    prepared: list[Prepared] = []
    try:
        for _ in targets:  # each inbox's message owns its copies of the files
            # Writing files goes to a thread; a mail without files has nothing to wait for.
            prepared.append(await asyncio.to_thread(_files, settings, mail) if mail.files else (mail, [], ()))
    except BaseException:
        discard_files(root, [f for _, files, _ in prepared for f in files])
        raise
    everything = [f for _, files, _ in prepared for f in files]
    try:
        for attempt in range(ATTEMPTS):
            try:
                async with db.write() as tx:
                    not_stored, refused = await _store_in(tx, targets, prepared, only_enabled, in_same_tx)
                break
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
    except BaseException:
        discard_files(root, everything)
        raise
    for kept_nothing, (_, files, _) in zip(not_stored, prepared, strict=True):
        if kept_nothing:  # a duplicate or a refused inbox: its copies of the files go
            discard_files(root, files)
    skipped = sum(not_stored)
    return StoreOutcome(stored=len(not_stored) - skipped, duplicates=skipped - refused, refused=refused)


async def _store_in(
    tx: Tx,
    targets: Sequence[MailTarget],
    prepared: list[Prepared],
    only_enabled: bool,
    in_same_tx: SameTx | None,
) -> tuple[list[bool], int]:
    """One attempt inside the write transaction: for each target whether nothing was stored
    (a duplicate, or a refused inbox), and how many targets were refused."""
    enabled: set[int] | None = None
    if only_enabled:
        ids = [target.inbox["id"] for target in targets]
        enabled = set((await tx.conn.execute(_ENABLED, {"ids": ids})).scalars())
    not_stored: list[bool] = []
    refused = 0
    for target, (inbox_mail, files, left_out) in zip(targets, prepared, strict=True):
        if enabled is not None and target.inbox["id"] not in enabled:
            refused += 1
            not_stored.append(True)  # its files go, like a duplicate's
            continue
        result = await do_receive_email(tx, target.inbox, inbox_mail, files, target.reply_secret, left_out)
        not_stored.append(result.duplicate)
    if in_same_tx is not None:
        await in_same_tx(tx, not_stored.count(False))
    return not_stored, refused


def _files(settings: Settings, mail: ParsedEmail) -> Prepared:
    """Write the mail's files, whatever their type; a file over the size limit is left out, and
    an annotation says so (the mail is still taken: losing it all would be worse)."""
    kept: list[MailFile] = []
    stored: list[StoredFile] = []
    notes: list[Annotation] = []
    try:
        for file in mail.files:
            try:
                stored.append(
                    store_file(
                        settings.attachments_dir,
                        file.file_name,
                        file.content_type,
                        file.content if file.path is None else file.path,
                        settings.max_attachment_bytes,
                        received=True,
                    )
                )
                kept.append(file)
            except DomainError as exc:
                limit = settings.max_attachment_bytes
                notes.append(
                    attachment_left_out(file.file_name, file.size, exc.code, limit, file.content_type)
                )
    except BaseException:
        discard_files(settings.attachments_dir, stored)
        raise
    if not notes:
        return mail, stored, ()
    return dataclasses.replace(mail, files=tuple(kept)), stored, tuple(notes)
