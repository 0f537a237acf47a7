"""Named read queries: the conversation list and its tab counts, the thread, search, the
change log. Each is one statement (or a fixed few), whatever the number of rows: no N+1."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.access import Actor, conversation_select, visible_inboxes
from frontdesk.actions.counters import counts_query
from frontdesk.domain.enums import ConversationStatus
from frontdesk.domain.errors import InvalidInput
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow
from frontdesk.store.views import contact_view, message_view

c = t.conversations


@dataclass(frozen=True)
class ConversationFilter:
    status: ConversationStatus | None = ConversationStatus.OPEN  # None: every status (Archive)
    inbox_id: int | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    label: str | None = None
    priority: str | None = None
    mine: bool = False
    unassigned: bool = False


def encode_cursor(last_activity_at: datetime, conversation_id: int) -> str:
    return base64.urlsafe_b64encode(f"{last_activity_at.isoformat()}|{conversation_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        when, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(when), int(ident)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API returned", field="cursor") from None


async def list_conversations(
    conn: AsyncConnection, actor: Actor, f: ConversationFilter, cursor: str | None, limit: int
) -> tuple[list[Mapping[str, Any]], str | None]:
    """A page of conversation rows (conversation_select's columns) and the next page's cursor."""
    stmt = conversation_select().where(
        c.c.workspace_id == actor.workspace_id, visible_inboxes(actor, c.c.inbox_id)
    )
    if f.status is not None:
        stmt = stmt.where(c.c.status == f.status.value)
    if f.inbox_id is not None:
        stmt = stmt.where(c.c.inbox_id == f.inbox_id)
    if f.mine:
        stmt = stmt.where(c.c.assignee_id == actor.user_id)
    elif f.unassigned:
        stmt = stmt.where(c.c.assignee_id.is_(None))
    elif f.assignee_id is not None:
        stmt = stmt.where(c.c.assignee_id == f.assignee_id)
    if f.team_id is not None:
        stmt = stmt.where(c.c.team_id == f.team_id)
    if f.priority is not None:
        stmt = stmt.where(c.c.priority == f.priority)
    # Ordered (and paged) by the label's own copy of the activity time when filtering by label:
    # its index then yields the page directly, however rare the label.
    at_col, id_col = c.c.last_activity_at, c.c.id
    if f.label is not None:
        cl, lb = t.conversation_labels, t.labels
        label_id = (
            sa.select(lb.c.id)
            .where(lb.c.workspace_id == actor.workspace_id, lb.c.name == f.label)
            .scalar_subquery()
        )
        stmt = stmt.join(cl, cl.c.conversation_id == c.c.id).where(cl.c.label_id == label_id)
        if f.status is not None:
            stmt = stmt.where(cl.c.status == f.status.value)
        at_col, id_col = cl.c.last_activity_at, cl.c.conversation_id
    if cursor:
        at, ident = decode_cursor(cursor)
        stmt = stmt.where(sa.or_(at_col < at, sa.and_(at_col == at, id_col < ident)))
    stmt = stmt.order_by(at_col.desc(), id_col.desc()).limit(limit + 1)
    rows = (await conn.execute(stmt)).mappings().all()
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor(last["last_activity_at"], last["id"])
    return list(page), next_cursor


async def conversation_counts(
    conn: AsyncConnection, actor: Actor, inbox_id: int | None = None
) -> dict[str, dict[str, int]]:
    """Inbox / Mine / Unassigned counts per status, read from the counters (no COUNT(*))."""
    stmt = counts_query(actor.workspace_id).where(visible_inboxes(actor, t.conversation_counts.c.inbox_id))
    if inbox_id is not None:
        stmt = stmt.where(t.conversation_counts.c.inbox_id == inbox_id)
    tabs: dict[str, dict[str, int]] = {
        tab: {s.value: 0 for s in ConversationStatus} for tab in ("all", "mine", "unassigned")
    }
    for _inbox, assignee, status, count in (await conn.execute(stmt)).all():
        tabs["all"][status] += count
        if assignee == actor.user_id:
            tabs["mine"][status] += count
        if assignee == 0:
            tabs["unassigned"][status] += count
    return tabs


async def thread(
    conn: AsyncConnection, conversation_id: int, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Messages oldest first; `before` pages back in time by message id."""
    m = t.messages
    stmt = sa.select(m).where(m.c.conversation_id == conversation_id)
    if before is not None:
        stmt = stmt.where(m.c.id < before)
    rows = (await conn.execute(stmt.order_by(m.c.id.desc()).limit(limit + 1))).mappings().all()
    page = list(reversed(rows[:limit]))
    older = page[0]["id"] if len(rows) > limit else None
    return [message_view(r) for r in page], older


_WORD = re.compile(r"\w+", re.UNICODE)


def search_terms(q: str) -> list[str]:
    terms = _WORD.findall(q)[:8]
    if not terms:
        raise InvalidInput("the search needs at least one word", field="q")
    return terms


def _match(
    conn: AsyncConnection,
    fts_table: str,
    rowid: sa.ColumnElement[int],
    vector_owner: sa.Table,
    terms: list[str],
) -> sa.ColumnElement[bool]:
    if conn.dialect.name == "sqlite":
        # Each term quoted (so no FTS syntax gets through) and matched as a prefix.
        expr = " ".join('"' + term.replace('"', "") + '"*' for term in terms)
        return rowid.in_(
            sa.text(f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH :q").bindparams(q=expr)
        )
    query = " & ".join(term + ":*" for term in terms)
    return sa.literal_column(f"{vector_owner.name}.search_vector").op("@@")(
        sa.func.to_tsquery("simple", query)
    )


# How long the newest-first walk may look for a page before the index is asked instead.
SEARCH_WALK_MS = 40


async def _newest_first(conn: AsyncConnection, stmt: sa.Select[Any]) -> list[Any] | None:
    """PostgreSQL: walk messages newest first and test each; None if that takes too long.

    A GIN index cannot return rows newest first. For common words the walk finds a page at
    once; for rare words it would read the whole table (2.3 s at 10M messages), and the planner
    cannot tell the two apart. So the walk gets a short time limit, inside a savepoint so that
    being cancelled leaves the request's transaction usable.
    """
    try:
        async with conn.begin_nested():
            await conn.execute(sa.text(f"SET LOCAL statement_timeout = {SEARCH_WALK_MS}"))
            rows = list((await conn.execute(stmt)).mappings().all())
            await conn.execute(sa.text("RESET statement_timeout"))
    except DBAPIError as exc:
        if "cancel" not in str(exc.orig).lower():
            raise
        return None
    return rows


async def _through_index(conn: AsyncConnection, where: list[Any], limit: int) -> list[Any]:
    """PostgreSQL: every match through the full-text index (a bitmap scan), newest first."""
    m = t.messages
    await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
    await conn.execute(sa.text("SET LOCAL enable_indexscan = off"))
    try:
        ids = (await conn.execute(sa.select(m.c.id).where(*where))).scalars().all()
    finally:
        await conn.execute(sa.text("RESET enable_seqscan"))
        await conn.execute(sa.text("RESET enable_indexscan"))
    newest = sorted(ids, reverse=True)[:limit]
    if not newest:
        return []
    stmt = sa.select(m).where(m.c.id.in_(newest)).order_by(m.c.id.desc())
    return list((await conn.execute(stmt)).mappings().all())


async def search(
    conn: AsyncConnection, actor: Actor, q: str, limit: int, *, walk: bool = True
) -> dict[str, Any]:
    terms = search_terms(q)
    m = t.messages
    where = [
        m.c.workspace_id == actor.workspace_id,
        visible_inboxes(actor, m.c.inbox_id),
        _match(conn, "messages_fts", m.c.id, m, terms),
    ]
    stmt = sa.select(m).where(*where).order_by(m.c.id.desc()).limit(limit)
    if conn.dialect.name == "postgresql":
        walked = await _newest_first(conn, stmt) if walk else None
        msg_rows = walked if walked is not None else await _through_index(conn, where, limit)
    else:
        msg_rows = list((await conn.execute(stmt)).mappings().all())
    ct = t.contacts
    found = _match(conn, "contacts_fts", ct.c.id, ct, terms)
    if "@" in q:
        found = sa.or_(found, sa.func.lower(ct.c.email) == q.strip().lower())
    contact_stmt = sa.select(ct).where(ct.c.workspace_id == actor.workspace_id, found)
    if conn.dialect.name == "postgresql":
        # Find the matches through the GIN index first: left to itself the planner walks every
        # contact newest first and tests each, which for a rare word reads the whole table.
        matching = (
            sa.select(ct.c.id)
            .where(ct.c.workspace_id == actor.workspace_id, found)
            .cte("matching_contacts")
            .prefix_with("MATERIALIZED")
        )
        contact_stmt = sa.select(ct).join(matching, matching.c.id == ct.c.id)
    if actor.inbox_ids is not None:
        contact_stmt = contact_stmt.where(
            ct.c.id.in_(sa.select(c.c.contact_id).where(visible_inboxes(actor, c.c.inbox_id)))
        )
    contact_rows = (await conn.execute(contact_stmt.order_by(ct.c.id.desc()).limit(limit))).mappings().all()
    return {
        "messages": [message_view(r) for r in msg_rows],
        "contacts": [contact_view(r) for r in contact_rows],
    }


# Sequence numbers are taken at INSERT but transactions commit in their own order (PostgreSQL),
# so an event with a lower number can appear after a higher one was seen. A resume therefore
# also sends the recent events just below `since`; clients ignore sequences they already have.
RESUME_OVERLAP_SECONDS = 10
RESUME_OVERLAP_EVENTS = 500


async def events_since(
    conn: AsyncConnection, actor: Actor, since: int, limit: int, *, overlap: bool = False
) -> list[dict[str, Any]]:
    e = t.events
    after = e.c.seq > since
    if overlap:
        recent = utcnow() - timedelta(seconds=RESUME_OVERLAP_SECONDS)
        after = sa.or_(after, sa.and_(e.c.seq > since - RESUME_OVERLAP_EVENTS, e.c.created_at >= recent))
    rows = (
        (
            await conn.execute(
                sa.select(e)
                .where(
                    e.c.workspace_id == actor.workspace_id,
                    after,
                    sa.or_(e.c.inbox_id.is_(None), visible_inboxes(actor, e.c.inbox_id)),
                )
                .order_by(e.c.seq)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    return [
        {
            "seq": r["seq"],
            "type": r["type"],
            "workspace_id": r["workspace_id"],
            "inbox_id": r["inbox_id"],
            "created_at": r["created_at"].isoformat(),
            "data": r["payload"],
        }
        for r in rows
    ]


async def last_seq(conn: AsyncConnection, workspace_id: int) -> int:
    found = (
        await conn.execute(
            sa.select(sa.func.max(t.events.c.seq)).where(t.events.c.workspace_id == workspace_id)
        )
    ).scalar()
    return int(found or 0)


async def member_availability(conn: AsyncConnection, workspace_id: int, user_id: int) -> str:
    m = t.memberships
    value = (
        await conn.execute(
            sa.select(m.c.availability).where(m.c.workspace_id == workspace_id, m.c.user_id == user_id)
        )
    ).scalar()
    return str(value or "offline")


async def list_members(conn: AsyncConnection, workspace_id: int) -> list[dict[str, Any]]:
    """The members with their teams and inboxes: two statements, whatever the number of members.
    `status` is left to the caller, who knows which members have a socket open."""
    u, m = t.users, t.memberships
    rows = (
        (
            await conn.execute(
                sa.select(
                    u.c.id.label("user_id"),
                    u.c.email,
                    u.c.name,
                    u.c.display_name,
                    u.c.avatar_path,
                    m.c.role,
                    m.c.is_active,
                    m.c.availability,
                )
                .join(m, m.c.user_id == u.c.id)
                .where(m.c.workspace_id == workspace_id)
                .order_by(u.c.id)
            )
        )
        .mappings()
        .all()
    )
    teams = (
        sa.select(sa.literal("team").label("kind"), t.team_members.c.user_id, t.teams.c.id.label("ref"))
        .join(t.teams, t.teams.c.id == t.team_members.c.team_id)
        .where(t.teams.c.workspace_id == workspace_id)
    )
    inboxes = (
        sa.select(sa.literal("inbox").label("kind"), t.inbox_members.c.user_id, t.inboxes.c.id.label("ref"))
        .join(t.inboxes, t.inboxes.c.id == t.inbox_members.c.inbox_id)
        .where(t.inboxes.c.workspace_id == workspace_id)
    )
    links: dict[tuple[str, int], list[int]] = {}
    for kind, user_id, ref in (await conn.execute(sa.union_all(teams, inboxes))).all():
        links.setdefault((kind, user_id), []).append(ref)
    return [
        {
            **r,
            "team_ids": sorted(links.get(("team", r["user_id"]), [])),
            "inbox_ids": sorted(links.get(("inbox", r["user_id"]), [])),
        }
        for r in rows
    ]


async def member_availabilities(conn: AsyncConnection, workspace_id: int) -> list[tuple[int, str]]:
    """(user id, chosen availability) of the workspace's active members."""
    m = t.memberships
    rows = await conn.execute(
        sa.select(m.c.user_id, m.c.availability)
        .where(m.c.workspace_id == workspace_id, m.c.is_active)
        .order_by(m.c.user_id)
    )
    return [(int(user_id), str(availability)) for user_id, availability in rows.all()]
