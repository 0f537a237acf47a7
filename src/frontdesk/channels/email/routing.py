"""Which email inboxes an envelope recipient reaches (E1): the hosted address
`<local part>@<slug>.<mail domain>`, a reply address `reply+<token>@<slug>.<mail domain>` (the
inbox of the token's conversation, if the token verifies), or an inbox's own address when its
mail is delivered here directly rather than forwarded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.email.addresses import read_recipient
from frontdesk.domain.email.threading import check_reply_token, token_conversation_id, token_of_address
from frontdesk.security import SecretBox
from frontdesk.store import tables as t

__all__ = ["Refusal", "Route", "route_recipient"]

CHANNEL = "email"


@dataclass(frozen=True)
class Route:
    inbox: dict[str, Any]  # the inbox row
    reply_secret: str


@dataclass(frozen=True)
class Refusal:
    code: int
    text: str


_UNKNOWN = Refusal(550, "5.1.1 No such mailbox here")
_DISABLED = Refusal(550, "5.2.1 This mailbox is disabled")


# Built once: constructing them showed in the intake profile (every recipient of every mail).
_EMAIL_INBOXES = sa.select(t.inboxes).where(t.inboxes.c.channel_type == CHANNEL)
_BY_SLUG = _EMAIL_INBOXES.join(t.workspaces, t.workspaces.c.id == t.inboxes.c.workspace_id).where(
    t.workspaces.c.mail_slug == sa.bindparam("mail_slug")
)
_BY_CONVERSATION = (
    _EMAIL_INBOXES.join(t.conversations, t.conversations.c.inbox_id == t.inboxes.c.id)
    .join(t.workspaces, t.workspaces.c.id == t.inboxes.c.workspace_id)
    .where(
        t.conversations.c.id == sa.bindparam("conversation_id"),
        t.workspaces.c.mail_slug == sa.bindparam("mail_slug"),
    )
)


def _pick(rows: list[Any], box: SecretBox) -> Route | Refusal:
    if not rows:
        return _UNKNOWN
    enabled = [r for r in rows if r["is_enabled"]]
    if not enabled:
        return _DISABLED
    # Two inboxes with one address: the oldest keeps it (the dashboard shows each its address).
    row = min(enabled, key=lambda r: r["id"])
    return Route(dict(row), _reply_secret(box, row["secrets_encrypted"]))


@functools.lru_cache(maxsize=1024)
def _reply_secret(box: SecretBox, sealed: str) -> str:
    """Decrypting showed in the intake profile (every recipient of every mail); the same sealed
    text always opens to the same secret, and a changed secret is a new sealed text."""
    return str(box.open(sealed).get("reply_secret", ""))


async def _by_reply_token(conn: AsyncConnection, box: SecretBox, slug: str, address: str) -> Route | Refusal:
    token = token_of_address(address)
    conversation_id = token_conversation_id(token) if token else None
    if token is None or conversation_id is None:
        return _UNKNOWN
    params = {"conversation_id": conversation_id, "mail_slug": slug}
    rows = list((await conn.execute(_BY_CONVERSATION, params)).mappings().all())
    route = _pick(rows, box)
    if isinstance(route, Route) and check_reply_token(token, route.reply_secret) != conversation_id:
        return _UNKNOWN  # a forged or stale token names no mailbox
    return route


async def route_recipient(
    conn: AsyncConnection, box: SecretBox, mail_domain: str, address: str
) -> Route | Refusal:
    """The inbox this recipient reaches, or why it is refused (550 with a reason)."""
    hosted = read_recipient(address, mail_domain)
    if hosted is not None and hosted.reply_token is not None:
        return await _by_reply_token(conn, box, hosted.mail_slug, address)
    if hosted is not None:
        rows = (await conn.execute(_BY_SLUG, {"mail_slug": hosted.mail_slug})).mappings().all()
        return _pick([r for r in rows if r["settings"].get("local_part") == hosted.local_part], box)
    wanted = address.strip().strip("<>").lower()
    # Own addresses are few and live in the settings JSON: filtered here rather than in SQL.
    rows = (await conn.execute(_EMAIL_INBOXES)).mappings().all()
    return _pick(
        [
            r
            for r in rows
            if r["settings"].get("address_mode") == "own_address"
            and r["settings"].get("own_address") == wanted
        ],
        box,
    )
