"""Storing one received mail (E1 listener, E3 IMAP import) through the ingest action
(actions/ingest.py): the mail's files are written first, then the message is stored for every
inbox it reaches in one write transaction.

A repeated mail (same Message-ID in an inbox) stores nothing new and its copies of the files go.
`in_same_tx` lets the IMAP importer advance its cursor in the very transaction that stores the
message, so a crash can neither import a message twice nor skip one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile
from frontdesk.actions.email.intake import email_inbound, email_place
from frontdesk.actions.ingest import (
    FileRules,
    IngestItem,
    IngestResult,
    Outcome,
    Place,
    Placement,
    ingest_items,
)
from frontdesk.actions.messages import Row
from frontdesk.domain.inbound import InboundMessage
from frontdesk.mail.parse import ParsedEmail
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx

__all__ = ["MailTarget", "StoreOutcome", "do_store_mail"]

# Built once (with an expanding IN): constructing it for every mail showed in the profile.
_ENABLED = sa.select(t.inboxes.c.id).where(
    t.inboxes.c.id.in_(sa.bindparam("ids", expanding=True)), t.inboxes.c.is_enabled
)
SameTx = Callable[[Tx, int], Awaitable[None]]  # given the number of messages stored


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
    """Store `mail` once per target inbox through the ingest action (each inbox's message owns
    its copies of the files); `in_same_tx` runs inside the same write transaction, after the
    messages (its failure rolls them back). `only_enabled` leaves out, in that same
    transaction, targets whose inbox is no longer there or enabled (the listener routed at RCPT)."""
    # Mail cannot be sent back: taken whatever its files' types, a file over the limit left
    # out with an annotation (losing the whole mail would be worse).
    rules = FileRules(settings.attachments_dir, settings.max_attachment_bytes, received=True, leave_out=True)
    event = email_inbound(mail)
    enabled = _Enabled(targets) if only_enabled else None
    items = [IngestItem(target.inbox, event, _place(target, mail, enabled)) for target in targets]
    same_tx = None
    if in_same_tx is not None:
        hook = in_same_tx

        async def same_tx(tx: Tx, results: Sequence[IngestResult]) -> None:
            await hook(tx, sum(r.outcome == Outcome.STORED for r in results))

    results = await ingest_items(db, rules, items, in_same_tx=same_tx)
    stored = sum(r.outcome == Outcome.STORED for r in results)
    refused = sum(r.outcome == Outcome.REFUSED for r in results)
    return StoreOutcome(stored=stored, duplicates=len(results) - stored - refused, refused=refused)


def _place(target: MailTarget, mail: ParsedEmail, enabled: _Enabled | None) -> Place:
    threading = email_place(mail, target.reply_secret)
    if enabled is None:
        return threading

    async def place(tx: Tx, inbox: Row, msg: InboundMessage, files: Sequence[StoredFile]) -> Placement | None:
        if not await enabled.holds(tx, inbox["id"]):
            return None  # refused: nothing stored, its files go
        return await threading(tx, inbox, msg, files)

    return place


class _Enabled:
    """Which target inboxes are still there and enabled, read once per transaction (a retry
    reads anew) with one query for all the targets."""

    def __init__(self, targets: Sequence[MailTarget]) -> None:
        self.ids = [target.inbox["id"] for target in targets]
        self.read: tuple[Tx, set[int]] | None = None

    async def holds(self, tx: Tx, inbox_id: int) -> bool:
        if self.read is None or self.read[0] is not tx:
            self.read = (tx, set((await tx.conn.execute(_ENABLED, {"ids": self.ids})).scalars()))
        return inbox_id in self.read[1]
