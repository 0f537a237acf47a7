"""An agent writes first to a customer by email: a new conversation in an email inbox."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from frontdesk.actions.email.start import check_start_email_conversation
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.input import Id
from frontdesk.http.api.models import Body
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers

__all__ = ["EmailConversationIn", "EmailConversationStarted", "router"]

router = APIRouter(tags=["conversations"])


class EmailConversationIn(Body):
    to: str = Field(max_length=320, description="the customer's email address")
    name: str | None = Field(default=None, max_length=200, description="the customer's name, when new")
    subject: str | None = Field(
        default=None, max_length=1000, description="empty: the subject of the inbox's email template"
    )
    text: str = Field(max_length=65_536)


class EmailConversationStarted(BaseModel):
    conversation_id: Id


@router.post(
    "/workspaces/{workspace_id}/inboxes/{inbox_id}/email-conversations",
    status_code=201,
    response_model=EmailConversationStarted,
    responses=answers(409),
)
async def start_email_conversation(
    inbox_id: Id, body: EmailConversationIn, actor: WorkspaceActor, svc: Svc
) -> EmailConversationStarted:
    """A new conversation with the address, assigned to the caller; its first mail is queued and
    leaves like any reply (the inbox's server or relay, the template), with `subject` (else the
    template's; 422 `subject_required` without either). The customer's answer joins it.
    422 `not_email_inbox`; 409 `contact_blocked`; 409 `inbox_disabled`."""
    async with svc.db.write() as tx:
        conversation_id = await check_start_email_conversation(
            tx, actor, inbox_id, body.to, body.name, body.subject, body.text, channels=adapter_class
        )
    return EmailConversationStarted(conversation_id=conversation_id)
