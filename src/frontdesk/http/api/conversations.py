"""Conversations: the list with its tab counts, detail, changes, and the thread."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from frontdesk.access import access_conversation_by_id
from frontdesk.actions.conversations import (
    check_add_participant,
    check_assign,
    check_mark_read,
    check_offer,
    check_remove_participant,
    check_set_labels,
    check_set_priority,
    check_set_status,
    participant_ids,
)
from frontdesk.actions.delivery import check_cancel_delivery, check_retry_delivery
from frontdesk.actions.message_repeats import post_repeatable
from frontdesk.actions.reply_windows import windows_of
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.enums import ConversationStatus, Priority
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.input import Id
from frontdesk.events import ephemeral
from frontdesk.http.api import schemas
from frontdesk.http.api.models import (
    AssignmentIn,
    ConversationUpdateIn,
    LabelsIn,
    MessageIn,
    ParticipantIn,
)
from frontdesk.http.channel_hooks import indicate_read
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import queries
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view

router = APIRouter(tags=["conversations"])


@router.get("/workspaces/{workspace_id}/conversations", response_model=schemas.ConversationPage)
async def list_conversations(
    actor: WorkspaceActor,
    svc: Svc,
    status: ConversationStatus | None = ConversationStatus.OPEN,
    all_statuses: bool = Query(False, description="The Archive view: every status."),
    inbox_id: Id | None = None,
    assignee_id: Id | None = None,
    team_id: Id | None = None,
    label: str | None = None,
    priority: Priority | None = None,
    mine: bool = False,
    unassigned: bool = False,
    cursor: str | None = None,
    limit: int = Query(25, ge=1, le=100),
) -> dict[str, Any]:
    f = queries.ConversationFilter(
        status=None if all_statuses else status,
        inbox_id=inbox_id,
        assignee_id=assignee_id,
        team_id=team_id,
        label=label,
        priority=priority.value if priority else None,
        mine=mine,
        unassigned=unassigned,
    )
    async with svc.db.read() as conn:
        rows, next_cursor = await queries.list_conversations(conn, actor, f, cursor, limit)
        windows = await windows_of(conn, adapter_class, rows, utcnow())
    items = [conversation_view({**r, "reply_window": w}) for r, w in zip(rows, windows, strict=True)]
    return {"conversations": items, "next_cursor": next_cursor}


@router.get("/workspaces/{workspace_id}/conversations/counts", response_model=schemas.TabCounts)
async def conversation_counts(actor: WorkspaceActor, svc: Svc, inbox_id: Id | None = None) -> dict[str, Any]:
    async with svc.db.read() as conn:
        return await queries.conversation_counts(conn, actor, inbox_id)


@router.get(
    "/workspaces/{workspace_id}/conversations/{conversation_id}", response_model=schemas.ConversationDetail
)
async def get_conversation(conversation_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.read() as conn:
        row = await access_conversation_by_id(conn, actor, conversation_id)
        [window] = await windows_of(conn, adapter_class, [row], utcnow())
        conv = conversation_view({**row, "reply_window": window})
        return {**conv, "participant_ids": await participant_ids(conn, conversation_id)}


@router.patch(
    "/workspaces/{workspace_id}/conversations/{conversation_id}", response_model=schemas.Conversation
)
async def update_conversation(
    conversation_id: Id, body: ConversationUpdateIn, actor: WorkspaceActor, svc: Svc
) -> dict[str, Any]:
    if body.status is None and body.priority is None:
        if body.snoozed_until is not None:
            raise InvalidInput("snoozed_until needs status snoozed", field="snoozed_until")
        raise InvalidInput("nothing to change: give status and/or priority", field="status")
    async with svc.db.write() as tx:
        conv: dict[str, Any] = {}
        if body.status is not None:
            conv = await check_set_status(tx, actor, conversation_id, body.status, body.snoozed_until)
        if body.priority is not None:
            conv = await check_set_priority(tx, actor, conversation_id, body.priority)
        if "contact_name" not in conv:
            conv = dict(await access_conversation_by_id(tx.conn, actor, conversation_id))
    return conversation_view(conv)


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/assignment",
    response_model=schemas.Conversation,
)
async def assign(conversation_id: Id, body: AssignmentIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        conv = await check_assign(
            tx,
            actor,
            conversation_id,
            assignee_id=body.assignee_id,
            team_id=body.team_id,
            comment=body.comment,
        )
    return conversation_view(conv)


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/participants",
    response_model=schemas.ConversationDetail,
)
async def add_participant(
    conversation_id: Id, body: ParticipantIn, actor: WorkspaceActor, svc: Svc
) -> dict[str, Any]:
    async with svc.db.write() as tx:
        conv = conversation_view(await check_add_participant(tx, actor, conversation_id, body.user_id))
        return {**conv, "participant_ids": await participant_ids(tx.conn, conversation_id)}


@router.delete(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/participants/{user_id}", status_code=204
)
async def remove_participant(conversation_id: Id, user_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    """Leave a conversation (your own user id), or, as an administrator, remove anyone from it."""
    async with svc.db.write() as tx:
        await check_remove_participant(tx, actor, conversation_id, user_id)


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/offer",
    status_code=202,
    responses=answers(409),
)
async def offer(conversation_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    """The notification's "Later": an ephemeral `conversation.offered` event goes to every agent
    who may see the conversation, so someone else can take it. 409 once it is assigned."""
    async with svc.db.read() as conn:
        data = await check_offer(conn, actor, conversation_id)
    await svc.bus.publish([ephemeral("conversation.offered", actor.workspace_id, data["inbox_id"], data)])


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/messages/{message_id}/retry",
    status_code=202,
    response_model=schemas.Message,
    responses=answers(409),
)
async def retry_delivery(
    conversation_id: Id, message_id: Id, actor: WorkspaceActor, svc: Svc
) -> dict[str, Any]:
    """Send a reply again now: one whose delivery failed (back to `queued`), or one waiting between
    attempts (its next attempt made due at once); `message.updated` either way. Any other message
    is refused with 409 (`not_failed`), as is a reply whose attempt is running (`delivery_running`)."""
    async with svc.db.write() as tx:
        return await check_retry_delivery(tx, actor, conversation_id, message_id)


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/messages/{message_id}/cancel",
    response_model=schemas.Message,
    responses=answers(409),
)
async def cancel_delivery(
    conversation_id: Id, message_id: Id, actor: WorkspaceActor, svc: Svc
) -> dict[str, Any]:
    """Stop a reply that has not gone out (queued, waiting to be retried, or failed): it becomes
    `cancelled` and is never sent. 409 `delivery_running` once an attempt is out to the provider,
    `not_cancellable` for any other message."""
    async with svc.db.write() as tx:
        return await check_cancel_delivery(tx, actor, conversation_id, message_id)


@router.put(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/labels", response_model=schemas.Conversation
)
async def set_labels(conversation_id: Id, body: LabelsIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        return conversation_view(await check_set_labels(tx, actor, conversation_id, body.labels))


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/read", response_model=schemas.Conversation
)
async def mark_read(conversation_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        conv = await check_mark_read(tx, actor, conversation_id)
    indicate_read(svc, conversation_id)
    return conversation_view(conv)


@router.get(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/messages", response_model=schemas.MessagePage
)
async def list_messages(
    conversation_id: Id,
    actor: WorkspaceActor,
    svc: Svc,
    before: Id | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:
    async with svc.db.read() as conn:
        await access_conversation_by_id(conn, actor, conversation_id)
        items, older = await queries.thread(conn, conversation_id, before, limit)
    return {"messages": items, "next_before": older}


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/messages",
    status_code=201,
    response_model=schemas.Message,
    responses={
        200: {"model": schemas.Message, "description": "A repeat of a post with the same key"},
        **answers(409),
    },
)
async def create_message(
    conversation_id: Id,
    body: MessageIn,
    actor: WorkspaceActor,
    svc: Svc,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=100,
            description="The client's id of this message, as `client_id` in the body may also give it",
        ),
    ] = None,
) -> dict[str, Any]:
    """A reply to the customer (queued for delivery), or with private=true a note for the team.
    With a key (`client_id`, or the Idempotency-Key header) the message is stored once: a repeat
    answers 200 with the message the first post stored (409 when the key came with other text)."""
    if idempotency_key is not None and body.client_id is not None and idempotency_key != body.client_id:
        raise InvalidInput("the Idempotency-Key header and client_id differ; send one key", field="client_id")
    posted = await post_repeatable(
        svc.db,
        actor,
        conversation_id,
        body.text,
        private=body.private,
        client_id=body.client_id or idempotency_key,
        channels=adapter_class,
    )
    if posted.repeated:
        response.status_code = 200
    return posted.message
