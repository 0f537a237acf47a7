"""An email inbox's addresses (E1), for the dashboard to show: where customers write (the hosted
address, or the inbox's own address that forwards to it) and the domain of reply addresses."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from frontdesk.channels.email.access import access_email_inbox, mail_slug_of
from frontdesk.domain.email.addresses import hosted_address, hosted_domain
from frontdesk.domain.input import Id
from frontdesk.http.deps import Svc, WorkspaceActor

__all__ = ["EmailAddresses", "router"]

router = APIRouter(tags=["inboxes"])


class EmailAddresses(BaseModel):
    address_mode: Literal["hosted", "own_address", "own_server"]
    hosted_address: str | None = Field(
        description="<local part>@<workspace mail slug>.<mail domain>; null while the installation "
        "has no FRONTDESK_MAIL_DOMAIN."
    )
    own_address: str | None = Field(description="own_address mode: the address replies are sent from.")
    forward_to: str | None = Field(
        description="own_address mode: the address the own address must forward to (the hosted one)."
    )
    reply_domain: str | None = Field(description="Domain of the reply+<token>@… addresses put in Reply-To.")
    listener_enabled: bool = Field(description="Whether this installation runs its SMTP listener.")


@router.get("/workspaces/{workspace_id}/inboxes/{inbox_id}/email-addresses", response_model=EmailAddresses)
async def email_addresses(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> EmailAddresses:
    async with svc.db.read() as conn:
        inbox = await access_email_inbox(conn, actor, inbox_id)
        slug = await mail_slug_of(conn, inbox["workspace_id"])
    settings, domain = inbox["settings"], svc.settings.mail_domain
    hosted = hosted_address(settings["local_part"], slug, domain) if domain and slug else None
    own = settings.get("own_address") if settings.get("address_mode") == "own_address" else None
    return EmailAddresses(
        address_mode=settings.get("address_mode", "hosted"),
        hosted_address=hosted,
        own_address=own,
        forward_to=hosted if own else None,
        reply_domain=hosted_domain(slug, domain) if domain and slug else None,
        listener_enabled=bool(svc.settings.smtp_listen_port),
    )
