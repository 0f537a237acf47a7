"""Labels, canned responses, search and the change log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Query

from frontdesk.actions.workspace_objects import (
    check_create_canned,
    check_create_label,
    check_delete_canned,
    check_delete_label,
    check_update_canned,
    check_update_label,
)
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.api.models import CannedIn, CannedUpdateIn, LabelIn, LabelUpdateIn
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import queries
from frontdesk.store import tables as t

router = APIRouter(tags=["labels, canned responses, search, events"])


@router.get("/workspaces/{workspace_id}/labels", response_model=list[schemas.Label])
async def list_labels(actor: WorkspaceActor, svc: Svc) -> list[dict[str, Any]]:
    lb = t.labels
    async with svc.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(lb.c.id, lb.c.name, lb.c.color)
                    .where(lb.c.workspace_id == actor.workspace_id)
                    .order_by(lb.c.name)
                )
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


@router.post(
    "/workspaces/{workspace_id}/labels", status_code=201, response_model=schemas.Label, responses=answers(409)
)
async def create_label(body: LabelIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        label_id = await check_create_label(tx, actor, body.name, body.color)
    return {"id": label_id, "name": body.name.strip(), "color": body.color}


@router.patch(
    "/workspaces/{workspace_id}/labels/{label_id}", response_model=schemas.Label, responses=answers(409)
)
async def update_label(label_id: Id, body: LabelUpdateIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Supervisors and administrators. A new name is applied to every conversation that has the
    label (one `label.updated` event tells open dashboards)."""
    async with svc.db.write() as tx:
        return await check_update_label(tx, actor, label_id, body.name, body.color)


@router.delete("/workspaces/{workspace_id}/labels/{label_id}", status_code=204)
async def delete_label(label_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    """Supervisors and administrators: the label is removed from its conversations, then deleted."""
    async with svc.db.write() as tx:
        await check_delete_label(tx, actor, label_id)


@router.get("/workspaces/{workspace_id}/canned-responses", response_model=list[schemas.CannedResponse])
async def list_canned(actor: WorkspaceActor, svc: Svc, q: str | None = None) -> list[dict[str, Any]]:
    cr = t.canned_responses
    stmt = sa.select(cr.c.id, cr.c.short_code, cr.c.text).where(cr.c.workspace_id == actor.workspace_id)
    if q:
        stmt = stmt.where(cr.c.short_code.startswith(q.lstrip("/"), autoescape=True))
    async with svc.db.read() as conn:
        rows = (await conn.execute(stmt.order_by(cr.c.short_code))).mappings().all()
    return [dict(r) for r in rows]


@router.post(
    "/workspaces/{workspace_id}/canned-responses",
    status_code=201,
    response_model=schemas.CannedResponse,
    responses=answers(409),
)
async def create_canned(body: CannedIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        canned_id = await check_create_canned(tx, actor, body.short_code, body.text)
    return {"id": canned_id, "short_code": body.short_code.strip().lstrip("/"), "text": body.text.strip()}


@router.patch(
    "/workspaces/{workspace_id}/canned-responses/{canned_id}", status_code=204, responses=answers(409)
)
async def update_canned(canned_id: Id, body: CannedUpdateIn, actor: WorkspaceActor, svc: Svc) -> None:
    """Change the short code and/or the text; a short code already taken is refused (409)."""
    async with svc.db.write() as tx:
        await check_update_canned(tx, actor, canned_id, body.short_code, body.text)


@router.delete("/workspaces/{workspace_id}/canned-responses/{canned_id}", status_code=204)
async def delete_canned(canned_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_delete_canned(tx, actor, canned_id)


@router.get("/workspaces/{workspace_id}/search", response_model=schemas.SearchResults)
async def search(
    actor: WorkspaceActor,
    svc: Svc,
    q: str = Query(min_length=1, max_length=200),
    limit: int = Query(20, ge=1, le=100),
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        return await queries.search(conn, actor, q, limit)


@router.get("/workspaces/{workspace_id}/events", response_model=schemas.EventPage)
async def list_events(
    actor: WorkspaceActor, svc: Svc, since: Id = Query(0, ge=0), limit: int = Query(500, ge=1, le=1000)
) -> dict[str, Any]:
    """The change log after `since`: a reconnecting client catches up from its last sequence."""
    async with svc.db.read() as conn:
        events = await queries.events_since(conn, actor, since, limit)
    return {"events": events, "last_seq": events[-1]["seq"] if events else since}


@router.get("/workspaces/{workspace_id}/audit-events", response_model=schemas.AuditEventPage)
async def list_audit_events(
    actor: WorkspaceActor, svc: Svc, before: Id | None = None, limit: int = Query(100, ge=1, le=500)
) -> dict[str, Any]:
    """Who did what (administrators and supervisors), newest first."""
    actor.require_supervisor()
    a = t.audit_events
    stmt = sa.select(a).where(a.c.workspace_id == actor.workspace_id)
    if before is not None:
        stmt = stmt.where(a.c.id < before)
    async with svc.db.read() as conn:
        rows = (await conn.execute(stmt.order_by(a.c.id.desc()).limit(limit))).mappings().all()
    events = [{**r, "created_at": r["created_at"].isoformat()} for r in rows]
    return {"events": events, "next_before": events[-1]["id"] if len(events) == limit else None}
