"""Reply windows of stored conversations (decision 0039): the pure domain/reply_window.py fed
from a conversation row (access.conversation_select's columns) and the channel lookup the HTTP
layer hands in.

A list computes every window from the rows it already read; only windows that are closed need
to know of the contact's other inboxes, read for the whole page in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.channels import ChannelLookup
from frontdesk.domain.reply_window import ReplyWindow, WindowState, reply_window
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow

Row = Mapping[str, Any]


def rules_of(channels: ChannelLookup, row: Row) -> ChannelRules:
    """The rules of a conversation's inbox, from its conversation_select row."""
    return channels(row["inbox_channel_type"]).rules_for(row["inbox_settings"] or {})


def window_of(channels: ChannelLookup, row: Row, now: datetime, *, other_inbox: bool) -> ReplyWindow:
    return reply_window(
        rules_of(channels, row),
        now,
        row["customer_last_at"],
        row["replies_since_customer"],
        other_inbox=other_inbox,
        # .get: rows read by the ingest's own statements (store/direct.py) may not carry it.
        customer_left=row.get("customer_left_at") is not None,
    )


async def other_inboxes(
    conn: AsyncConnection, channels: ChannelLookup, rows: Iterable[Row]
) -> dict[int, int]:
    """For each conversation (by id), an enabled inbox other than its own where its contact has
    an identity, whose channel lets an agent start a conversation and has no window."""
    wanted = {int(r["id"]): (int(r["contact_id"]), int(r["inbox_id"])) for r in rows}
    if not wanted:
        return {}
    ci, i = t.contact_identities, t.inboxes
    found = (
        await conn.execute(
            sa.select(ci.c.contact_id, i.c.id, i.c.channel_type, i.c.settings)
            .join(i, i.c.id == ci.c.inbox_id)
            .where(ci.c.contact_id.in_(sorted({c for c, _ in wanted.values()})), i.c.is_enabled.is_(True))
            .order_by(i.c.id)
        )
    ).all()
    reachable: dict[int, list[int]] = {}
    for contact_id, inbox_id, channel_type, settings in found:
        spec = channels(channel_type)
        rules = spec.rules_for(settings or {})
        if spec.starts_conversations and rules.reply_window is None and not rules.customer_writes_first:
            reachable.setdefault(contact_id, []).append(inbox_id)
    out: dict[int, int] = {}
    for conv_id, (contact_id, own) in wanted.items():
        others = [x for x in reachable.get(contact_id, []) if x != own]
        if others:
            out[conv_id] = others[0]
    return out


def window_json(window: ReplyWindow, other_inbox_id: int | None) -> dict[str, Any]:
    return {**window.as_json(), "other_inbox_id": other_inbox_id if window.refusal else None}


async def do_with_window(tx: Tx, row: Row, inbox: Row | None = None) -> dict[str, Any]:
    """The conversation row with its `reply_window` as of now, for the event it is about to be
    in and the answer of the change. The inbox's channel and settings come from the row
    (conversation_select) or from `inbox`; without them, or without channels wired into the
    transaction, the window is left out (null)."""
    channel_type = row.get("inbox_channel_type") or (inbox.get("channel_type") if inbox else None)
    if tx.channels is None or channel_type is None:
        return dict(row)
    settings = row.get("inbox_settings") if "inbox_settings" in row else (inbox or {}).get("settings")
    full = {**row, "inbox_channel_type": channel_type, "inbox_settings": settings}
    [window] = await windows_of(tx.conn, tx.channels, [full], utcnow())
    return {**full, "reply_window": window}


async def windows_of(
    conn: AsyncConnection, channels: ChannelLookup, rows: Sequence[Row], now: datetime
) -> list[dict[str, Any]]:
    """The `reply_window` of each row, in order: one statement at most, and none unless a window
    is closed."""
    first = [window_of(channels, r, now, other_inbox=False) for r in rows]
    closed = [r for r, w in zip(rows, first, strict=True) if w.state == WindowState.CLOSED]
    others = await other_inboxes(conn, channels, closed) if closed else {}
    out = []
    for row, window in zip(rows, first, strict=True):
        other = others.get(int(row["id"]))
        if other is not None:
            window = window_of(channels, row, now, other_inbox=True)
        out.append(window_json(window, other))
    return out
