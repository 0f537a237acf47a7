"""Contacts and their channel identities."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query

from frontdesk.access import access_contact_by_id, conversation_select, visible_inboxes
from frontdesk.actions.workspace_objects import check_create_contact, check_update_contact
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.api.models import ContactIn, ContactUpdateIn
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import tables as t
from frontdesk.store.views import contact_view, conversation_view

router = APIRouter(tags=["contacts"])


@router.get("/workspaces/{workspace_id}/contacts", response_model=schemas.ContactPage)
async def list_contacts(
    actor: WorkspaceActor, svc: Svc, before: Id | None = None, limit: int = Query(50, ge=1, le=200)
) -> dict[str, Any]:
    ct, cv = t.contacts, t.conversations
    stmt = sa.select(ct).where(ct.c.workspace_id == actor.workspace_id)
    if actor.inbox_ids is not None:
        stmt = stmt.where(
            ct.c.id.in_(sa.select(cv.c.contact_id).where(visible_inboxes(actor, cv.c.inbox_id)))
        )
    if before is not None:
        stmt = stmt.where(ct.c.id < before)
    async with svc.db.read() as conn:
        rows = (await conn.execute(stmt.order_by(ct.c.id.desc()).limit(limit))).mappings().all()
    return {
        "contacts": [contact_view(r) for r in rows],
        "next_before": rows[-1]["id"] if len(rows) == limit else None,
    }


@router.post(
    "/workspaces/{workspace_id}/contacts",
    status_code=201,
    response_model=schemas.Contact,
    responses=answers(409),
)
async def create_contact(body: ContactIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """An email another contact of the workspace has (compared without case) is refused: 409
    `contact_email_taken`, with that contact's id in `error.details.contact_id`."""
    async with svc.db.write() as tx:
        contact_id = await check_create_contact(tx, actor, body.name, body.email, body.phone)
        row = (
            (await tx.conn.execute(sa.select(t.contacts).where(t.contacts.c.id == contact_id)))
            .mappings()
            .one()
        )
    return contact_view(row)


@router.get("/workspaces/{workspace_id}/contacts/{contact_id}", response_model=schemas.ContactDetail)
async def get_contact(contact_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    ci, cv = t.contact_identities, t.conversations
    async with svc.db.read() as conn:
        row = await access_contact_by_id(conn, actor, contact_id)
        identities = (
            (
                await conn.execute(
                    sa.select(ci.c.id, ci.c.inbox_id, ci.c.source_id).where(
                        ci.c.contact_id == contact_id, visible_inboxes(actor, ci.c.inbox_id)
                    )
                )
            )
            .mappings()
            .all()
        )
        convs = (
            (
                await conn.execute(
                    conversation_select()
                    .where(cv.c.contact_id == contact_id, visible_inboxes(actor, cv.c.inbox_id))
                    .order_by(cv.c.last_activity_at.desc())
                    .limit(50)
                )
            )
            .mappings()
            .all()
        )
    return {
        **contact_view(row),
        "identities": [dict(r) for r in identities],
        "conversations": [conversation_view(r) for r in convs],
    }


@router.patch(
    "/workspaces/{workspace_id}/contacts/{contact_id}", response_model=schemas.Contact, responses=answers(409)
)
async def update_contact(
    contact_id: Id, body: ContactUpdateIn, actor: WorkspaceActor, svc: Svc
) -> dict[str, Any]:
    """Only the fields sent change. An email another contact has: 409 as when adding one."""
    async with svc.db.write() as tx:
        await check_update_contact(tx, actor, contact_id, body.model_dump(exclude_unset=True))
        row = await access_contact_by_id(tx.conn, actor, contact_id)
    return contact_view(row)
