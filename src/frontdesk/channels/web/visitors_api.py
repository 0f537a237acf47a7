"""Website visitors for agents (PRODUCT W2-W4): who is on the site now, a contact's visits,
writing first to a visitor, blocking a contact. The shapes are in
docs/channels/web-widget-protocol.md ("Dashboard endpoints")."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from frontdesk.actions.blocks import blocked_event, check_block_contact, check_unblock_contact
from frontdesk.actions.web.visits import (
    check_start_chat,
    contact_visits,
    live_visits,
    visit_updated_event,
)
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.api.models import Body
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.services import Services

log = logging.getLogger(__name__)
router = APIRouter(tags=["visitors"])


class ChatIn(Body):
    text: str = Field(max_length=65_536)


async def _publish(svc: Services, event: dict[str, Any]) -> None:
    """Ephemeral events after the commit: best effort, the change itself is stored already."""
    try:
        await svc.bus.publish([event])
    except Exception:
        log.warning("could not publish %s", event["type"], exc_info=True)


@router.get("/workspaces/{workspace_id}/visitors/live", response_model=schemas.LiveVisitors)
async def list_live_visitors(actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Visitors with the widget open now (or closed less than 30 s ago: a page load) in the inboxes
    the caller may see, newest activity first, at most 500. Kept current by `visitor.updated`
    and `visitor.left` events."""
    async with svc.db.read() as conn:
        return {"visitors": await live_visits(conn, actor)}


@router.get("/workspaces/{workspace_id}/contacts/{contact_id}/visits", response_model=schemas.ContactVisits)
async def list_contact_visits(contact_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """The contact's latest 10 visits, newest first, and how many there are."""
    async with svc.db.read() as conn:
        return await contact_visits(conn, actor, contact_id)


@router.post(
    "/workspaces/{workspace_id}/visitors/{visit_id}/chat",
    status_code=201,
    response_model=schemas.ChatStarted,
    responses=answers(409),
)
async def start_chat(visit_id: Id, body: ChatIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Write first to a visitor: the text is a reply in the visitor's open conversation (opened
    and assigned to the caller if there is none). 409 `contact_blocked` for a blocked contact."""
    async with svc.db.write() as tx:
        visit, live = await check_start_chat(tx, actor, visit_id, body.text, channels=adapter_class)
    if live:
        await _publish(svc, visit_updated_event(visit))
    return {"conversation_id": visit["conversation_id"]}


@router.post("/workspaces/{workspace_id}/contacts/{contact_id}/block", response_model=schemas.Contact)
async def block_contact(contact_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """The contact's widget is refused from now on (403 `visitor_blocked`) and its open sockets
    close (4403). Any member who can see the contact may block it. Blocking again changes nothing."""
    async with svc.db.write() as tx:
        contact, changed = await check_block_contact(tx, actor, contact_id)
    if changed:
        await _publish(svc, blocked_event(actor.workspace_id, contact_id))
    return contact


@router.delete("/workspaces/{workspace_id}/contacts/{contact_id}/block", response_model=schemas.Contact)
async def unblock_contact(contact_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        return await check_unblock_contact(tx, actor, contact_id)
