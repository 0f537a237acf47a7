"""Website visits (PRODUCT W2, W3): what a visitor's browser tells us, kept per visit — pages,
traffic source, location, device — for the contact panel and the live visitors page.

Tracking data is best-effort input from the visitor's browser: it is cleaned (only http(s)
URLs, strings cut to their column sizes) and never refused, so it can never fail a chat.
The widget's server side (src/frontdesk/channels/web/widget_socket.py) calls these; the dashboard reads
them through src/frontdesk/channels/web/visitors_api.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.access import Actor, access_contact_by_id, visible_inboxes
from frontdesk.actions.conversations import do_open_conversation
from frontdesk.actions.messages import check_send_reply
from frontdesk.actions.web.visitors import VISITOR_NAME
from frontdesk.domain.channels import ChannelLookup
from frontdesk.domain.enums import ConversationStatus
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.domain.web.traffic import classify, clean_url
from frontdesk.domain.web.visitor_names import generated_name
from frontdesk.domain.web.visits import LEFT_GRACE, LIVE_STALE, PAGES_KEPT, continues, is_live
from frontdesk.events import ContactUpdated, ConversationCreated, ephemeral
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import contact_view, conversation_view, visit_view

Row = Mapping[Any, Any]
LIVE_LIMIT = 500
CONTACT_VISITS = 10
DEVICES = ("desktop", "mobile", "tablet", "bot")

_v, _c, _conv, _ci = t.web_visits, t.contacts, t.conversations, t.contact_identities


@dataclass(frozen=True)
class PageView:
    url: str
    title: str | None = None
    referrer: str | None = None


@dataclass(frozen=True)
class ClientFacts:
    ip: str | None = None
    country_code: str | None = None
    country: str | None = None
    city: str | None = None
    isp: str | None = None
    user_agent: str | None = None
    browser: str | None = None
    os: str | None = None
    device: str | None = None
    language: str | None = None


def _text(value: str | None, limit: int) -> str | None:
    """Whitespace collapsed, cut to the column size; empty becomes None."""
    if not value or not isinstance(value, str):
        return None
    return " ".join(value.split())[:limit] or None


def _latest_conversation(identity: sa.ColumnElement[int]) -> sa.ScalarSelect[Any]:
    return sa.select(sa.func.max(_conv.c.id)).where(_conv.c.identity_id == identity).scalar_subquery()


def visit_select() -> sa.Select[Any]:
    """The visit columns plus what views.visit_view needs from the contact and conversation."""
    return sa.select(
        _v,
        _c.c.name.label("contact_name"),
        _c.c.email.label("contact_email"),
        _c.c.blocked_at.label("contact_blocked_at"),
        _latest_conversation(_v.c.identity_id).label("conversation_id"),
    ).join(_c, _c.c.id == _v.c.contact_id)


def _page_changes(visit: Row, page: PageView | None, now: datetime) -> dict[str, Any]:
    """What recording `page` changes in the visit; nothing for a non-http(s) URL or a reload of
    the current page (only a new title is taken then)."""
    if page is None:
        return {}
    url = clean_url(page.url, 2000)
    if url is None:
        return {}
    title = _text(page.title, 300)
    pages = list(visit["pages"] or [])
    if url == visit["current_url"]:
        if title is None or title == visit["current_title"]:
            return {}
        if pages and pages[-1].get("url") == url:
            pages[-1] = {**pages[-1], "title": title}
        return {"current_title": title, "pages": pages}
    changes: dict[str, Any] = {
        "current_url": url,
        "current_title": title,
        "pages": [*pages, {"url": url, "title": title, "at": now.isoformat()}][-PAGES_KEPT:],
        "page_count": visit["page_count"] + 1,
    }
    if not visit["page_count"]:
        # The first page of the visit: where the visitor landed and where they came from.
        referrer = clean_url(page.referrer, 1000)
        source = classify(url, referrer)
        changes.update(
            landing_url=url,
            referrer=referrer,
            source_kind=source.kind.value,
            source=source.source,
            utm_source=source.utm_source,
            utm_medium=source.utm_medium,
            utm_campaign=source.utm_campaign,
        )
    return changes


def _fitted(facts: ClientFacts) -> dict[str, Any]:
    """The facts cut to their column sizes: a caller may build ClientFacts itself."""
    fitted: dict[str, Any] = {}
    for key, value in asdict(facts).items():
        limit = getattr(_v.c[key].type, "length", None)
        fitted[key] = _text(value, limit) if isinstance(value, str) and limit else value
    if fitted["device"] not in DEVICES:
        fitted["device"] = None
    return fitted


async def _name_visitor(tx: Tx, contact: Row, city: str | None) -> dict[str, Any]:
    """A visitor still called "Website visitor" gets a name agents can tell apart."""
    name = generated_name(contact["id"], city)
    # Only while the name is still the default: a pre-chat form or the site may have named the
    # contact since it was read (a concurrent session request), and that name must win.
    renamed = await tx.conn.execute(
        _c.update().where(_c.c.id == contact["id"], _c.c.name == VISITOR_NAME).values(name=name)
    )
    if renamed.rowcount != 1:
        current = (await tx.conn.execute(sa.select(_c).where(_c.c.id == contact["id"]))).mappings().one()
        return dict(current)
    view = contact_view({**contact, "name": name})
    inbox_ids = (
        await tx.conn.execute(sa.select(_ci.c.inbox_id).where(_ci.c.contact_id == contact["id"]))
    ).scalars()
    for inbox_id in sorted(set(inbox_ids)):
        await tx.emit(ContactUpdated(contact["workspace_id"], inbox_id, view))
    return {**contact, "name": name}


async def do_record_arrival(
    tx: Tx,
    inbox: Row,
    contact_id: int,
    identity_id: int,
    page: PageView | None,
    facts: ClientFacts,
) -> dict[str, Any]:
    """The visitor's widget connected: continue their latest visit on this inbox when they were
    last seen less than 30 minutes ago, else start a new one. Returns the LiveVisitor."""
    now = utcnow()
    contact_stmt = sa.select(
        _c, _latest_conversation(sa.literal(identity_id)).label("conversation_id")
    ).where(_c.c.id == contact_id)
    if tx.dialect == "postgresql":
        # Two tabs arriving at once must not both start a visit.
        contact_stmt = contact_stmt.with_for_update(of=_c)
    contact = dict((await tx.conn.execute(contact_stmt)).mappings().one())
    latest = (
        (
            await tx.conn.execute(
                sa.select(_v)
                .where(_v.c.contact_id == contact_id, _v.c.inbox_id == inbox["id"])
                .order_by(_v.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    known = _fitted(facts)
    if latest is not None and continues(latest["last_seen_at"], now):
        changes: dict[str, Any] = {"last_seen_at": now, "left_at": None}
        # Facts this visit lacks (a first call without headers) are filled in, never replaced.
        changes.update({k: v for k, v in known.items() if v is not None and latest[k] is None})
        changes.update(_page_changes(latest, page, now))
        await tx.conn.execute(_v.update().where(_v.c.id == latest["id"]).values(**changes))
        visit = {**latest, **changes}
    else:
        values: dict[str, Any] = {
            "workspace_id": inbox["workspace_id"],
            "inbox_id": inbox["id"],
            "contact_id": contact_id,
            "identity_id": identity_id,
            "started_at": now,
            "last_seen_at": now,
            "left_at": None,
            **known,
            "referrer": None,
            "source_kind": "direct",
            "source": None,
            "utm_source": None,
            "utm_medium": None,
            "utm_campaign": None,
            "landing_url": None,
            "current_url": None,
            "current_title": None,
            "page_count": 0,
            "pages": [],
        }
        values.update(_page_changes(values, page, now))
        visit_id = (await tx.conn.execute(_v.insert().values(**values).returning(_v.c.id))).scalar_one()
        visit = {**values, "id": visit_id}
    if contact["name"] == VISITOR_NAME:
        contact = await _name_visitor(tx, contact, visit["city"])
    return visit_view(
        {
            **visit,
            "contact_name": contact["name"],
            "contact_email": contact["email"],
            "contact_blocked_at": contact["blocked_at"],
            "conversation_id": contact["conversation_id"],
        },
        now,
    )


async def do_record_page(tx: Tx, visit_id: int, page: PageView) -> dict[str, Any] | None:
    """The visitor moved to another page of a single-page site. None when the visit is unknown
    or there is nothing to record (not an http(s) URL, the same page again)."""
    stmt = visit_select().where(_v.c.id == visit_id)
    if tx.dialect == "postgresql":
        stmt = stmt.with_for_update(of=_v)
    row = (await tx.conn.execute(stmt)).mappings().first()
    if row is None:
        return None
    now = utcnow()
    changes = _page_changes(row, page, now)
    if not changes:
        return None
    changes.update(last_seen_at=now, left_at=None)
    await tx.conn.execute(_v.update().where(_v.c.id == visit_id).values(**changes))
    return visit_view({**row, **changes}, now)


async def do_record_departure(tx: Tx, visit_id: int) -> None:
    """The visitor's last widget socket closed."""
    now = utcnow()
    await tx.conn.execute(_v.update().where(_v.c.id == visit_id).values(left_at=now, last_seen_at=now))


async def do_touch_visits(tx: Tx, visit_ids: Sequence[int]) -> None:
    """The visitors of these open sockets are still there: one statement for all of them."""
    if not visit_ids:
        return
    await tx.conn.execute(
        _v.update().where(_v.c.id.in_(sorted(set(visit_ids)))).values(last_seen_at=utcnow())
    )


def visit_updated_event(visit: dict[str, Any]) -> dict[str, Any]:
    """Ephemeral `visitor.updated` for the agents of the visit's inbox: publish after commit."""
    return ephemeral("visitor.updated", visit["workspace_id"], visit["inbox_id"], {"visit": visit})


def visit_left_event(workspace_id: int, inbox_id: int, visit_id: int) -> dict[str, Any]:
    return ephemeral("visitor.left", workspace_id, inbox_id, {"visit_id": visit_id})


# Reading, for the dashboard.


async def access_visit_by_id(conn: AsyncConnection, actor: Actor, visit_id: int) -> Row:
    """A visit of the actor's workspace in an inbox they may see; anything else is not found."""
    row: Row | None = (
        (
            await conn.execute(
                visit_select().where(_v.c.id == visit_id, _v.c.workspace_id == actor.workspace_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None or not actor.may_see_inbox(row["inbox_id"]):
        raise NotFound("visit not found", field="visit_id")
    return row


async def live_visits(conn: AsyncConnection, actor: Actor) -> list[dict[str, Any]]:
    """Visitors on the site now in the inboxes the actor may see, newest activity first: the
    socket is open (or closed less than 30 s ago: a page load) and was refreshed lately."""
    now = utcnow()
    inboxes = sa.select(t.inboxes.c.id).where(
        t.inboxes.c.workspace_id == actor.workspace_id, visible_inboxes(actor, t.inboxes.c.id)
    )
    in_inboxes, seen = _v.c.inbox_id.in_(inboxes), _v.c.last_seen_at > now - LIVE_STALE
    # Open visits and those that left a moment ago, each one range of ix_web_visits_live
    # (inbox_id, left_at, last_seen_at). Written as `left_at IS NULL OR left_at > …` both
    # databases scanned the whole table (58 ms for 200,000 visits on PostgreSQL; 0.2 ms this way).
    live_ids = sa.union_all(
        sa.select(_v.c.id).where(in_inboxes, _v.c.left_at.is_(None), seen),
        sa.select(_v.c.id).where(in_inboxes, _v.c.left_at > now - LEFT_GRACE, seen),
    )
    rows = (
        await conn.execute(
            visit_select()
            .where(_v.c.id.in_(live_ids))
            .order_by(_v.c.last_seen_at.desc(), _v.c.id.desc())
            .limit(LIVE_LIMIT)
        )
    ).mappings()
    return [visit_view(r, now) for r in rows]


async def contact_visits(conn: AsyncConnection, actor: Actor, contact_id: int) -> dict[str, Any]:
    """The contact's latest visits (in inboxes the actor may see) and how many there are."""
    await access_contact_by_id(conn, actor, contact_id)
    where = (_v.c.contact_id == contact_id, visible_inboxes(actor, _v.c.inbox_id))
    now = utcnow()
    rows = (
        await conn.execute(visit_select().where(*where).order_by(_v.c.id.desc()).limit(CONTACT_VISITS))
    ).mappings()
    visits = [visit_view(r, now) for r in rows]
    if len(visits) < CONTACT_VISITS:
        total = len(visits)
    else:
        total = int(
            (await conn.execute(sa.select(sa.func.count()).select_from(_v).where(*where))).scalar_one()
        )
    return {"visits_count": total, "visits": visits}


async def check_start_chat(
    tx: Tx, actor: Actor, visit_id: int, text: str, *, channels: ChannelLookup
) -> tuple[dict[str, Any], bool]:
    """An agent writes first to a visitor (W3). The visitor's open conversation in the visit's
    inbox is reused; without one (none yet, or the latest is resolved) a new one is opened and
    assigned to this agent. The text is an ordinary reply (queued, delivered by the worker), so
    the widget opens with it. Returns the visit, with its conversation, and whether the visitor
    is on the site now (only then is `visitor.updated` worth sending)."""
    visit = await access_visit_by_id(tx.conn, actor, visit_id)
    if not text.strip():
        raise InvalidInput("text must not be empty", field="text")
    if visit["contact_blocked_at"] is not None:
        raise Conflict(
            "this visitor is blocked: unblock the contact to write to them",
            field="visit_id",
            code="contact_blocked",
        )
    latest = (
        await tx.conn.execute(
            sa.select(_conv.c.id, _conv.c.status)
            .where(_conv.c.identity_id == visit["identity_id"])
            .order_by(_conv.c.id.desc())
            .limit(1)
        )
    ).first()
    if latest is not None and latest.status != ConversationStatus.RESOLVED:
        conversation_id = int(latest.id)
    else:
        opened = await do_open_conversation(
            tx,
            workspace_id=visit["workspace_id"],
            inbox_id=visit["inbox_id"],
            contact_id=visit["contact_id"],
            identity_id=visit["identity_id"],
            contact_name=visit["contact_name"],
            now=utcnow(),
            assignee_id=actor.user_id,
        )
        await tx.emit(
            ConversationCreated(visit["workspace_id"], visit["inbox_id"], conversation_view(opened))
        )
        conversation_id = int(opened["id"])
    await check_send_reply(tx, actor, conversation_id, text, channels=channels)
    now = utcnow()
    live = is_live(visit["last_seen_at"], visit["left_at"], now)
    return visit_view({**visit, "conversation_id": conversation_id}, now), live
