"""Where the IMAP import of an own-server email inbox stands (E3), for the admin: the folder,
its UIDVALIDITY, the last imported UID, how many were imported, and the last error with the
stage it happened at (dns, connect, tls, login, folder; import for a skipped message)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel

from frontdesk.channels.email.access import access_email_inbox
from frontdesk.domain.input import Id
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.store import tables as t

__all__ = ["router"]

router = APIRouter(tags=["inboxes"])


class ImapError(BaseModel):
    stage: str
    detail: str
    at: str | None


class ImapStatus(BaseModel):
    folder: str | None
    uidvalidity: int | None
    last_uid: int
    imported_count: int
    last_checked_at: str | None
    idle_supported: bool | None
    error: ImapError | None


@router.get("/workspaces/{workspace_id}/inboxes/{inbox_id}/imap-status", response_model=ImapStatus)
async def get_imap_status(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> ImapStatus:
    """Administrators only. Before the first connection every field is empty."""
    actor.require_admin()
    async with svc.db.read() as conn:
        await access_email_inbox(conn, actor, inbox_id)
        query = sa.select(t.imap_states).where(t.imap_states.c.inbox_id == inbox_id)
        state = (await conn.execute(query)).mappings().first()
    if state is None:
        return ImapStatus(
            folder=None,
            uidvalidity=None,
            last_uid=0,
            imported_count=0,
            last_checked_at=None,
            idle_supported=None,
            error=None,
        )
    error = None
    if state["last_error"] is not None:
        at = state["last_error_at"]
        error = ImapError(
            stage=state["last_error_stage"] or "import",
            detail=state["last_error"],
            at=at.isoformat() if at else None,
        )
    checked = state["last_checked_at"]
    return ImapStatus(
        folder=state["folder"],
        uidvalidity=state["uidvalidity"],
        last_uid=state["last_uid"],
        imported_count=state["imported_count"],
        last_checked_at=checked.isoformat() if checked else None,
        idle_supported=state["idle_supported"],
        error=error,
    )
