"""Inboxes (one connected channel each), their members and their secrets."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter

from frontdesk.access import access_inbox_by_id, visible_inboxes
from frontdesk.actions.workspace_objects import (
    check_create_inbox,
    check_rotate_inbox_secrets,
    check_set_inbox_members,
    check_update_inbox,
)
from frontdesk.channels.base import ChannelAdapter
from frontdesk.channels.registry import adapter_class, adapters
from frontdesk.domain.input import Id
from frontdesk.events import ephemeral
from frontdesk.http.api import schemas
from frontdesk.http.api.models import InboxIn, InboxMembersIn, InboxUpdateIn
from frontdesk.http.channel_hooks import run_on_saved
from frontdesk.http.deps import CurrentAuth, Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import tables as t
from frontdesk.store.views import inbox_view

log = logging.getLogger(__name__)

router = APIRouter(tags=["inboxes"])


def _inboxes_changed(svc: Svc) -> None:
    """A channel's background service in this process (an IMAP import) picks the change up at
    once; one in another process sees it at its next scan."""
    svc.inboxes_changed()


def _readable_secrets(svc: Svc, row: Any) -> dict[str, Any]:
    """The secrets Frontdesk generated (to be copied into the other system); those an
    administrator typed (an IMAP password) are write-only and never come back."""
    generated = adapter_class(row["channel_type"]).generated_secret_names()
    return {k: v for k, v in svc.box.open(row["secrets_encrypted"]).items() if k in generated}


def webhook_path(row: Any) -> str:
    return f"/webhooks/{row['channel_type']}/{row['uid']}"


@router.get("/channel-types", response_model=list[schemas.ChannelType])
async def list_channel_types(_: CurrentAuth) -> list[dict[str, Any]]:
    """Every installed channel: the dashboard builds the inbox settings form from
    `settings_schema` and shows `secret_fields` as write-only inputs."""
    return [
        {
            "type": channel_type,
            "settings_schema": cls.settings_schema.model_json_schema(),
            "secret_fields": [
                {
                    "name": name,
                    "description": cls.secret_descriptions.get(name),
                    "generated": name in cls.generated_secret_names(),
                    "shown_when": {k: list(v) for k, v in cls.secret_shown_when.get(name, {}).items()}
                    or None,
                }
                for name in cls.secret_fields
            ],
            "checks_connection": cls.check_connection is not ChannelAdapter.check_connection,
        }
        for channel_type, cls in sorted(adapters().items())
    ]


@router.get("/workspaces/{workspace_id}/inboxes", response_model=list[schemas.Inbox])
async def list_inboxes(actor: WorkspaceActor, svc: Svc) -> list[dict[str, Any]]:
    i = t.inboxes
    async with svc.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(i)
                    .where(i.c.workspace_id == actor.workspace_id, visible_inboxes(actor, i.c.id))
                    .order_by(i.c.id)
                )
            )
            .mappings()
            .all()
        )
    return [inbox_view(r, webhook_path(r)) for r in rows]


@router.post(
    "/workspaces/{workspace_id}/inboxes",
    status_code=201,
    response_model=schemas.InboxCreated,
    responses=answers(409),
)
async def create_inbox(body: InboxIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        inbox_id = await check_create_inbox(
            tx, actor, svc.box, adapter_class, body.name, body.channel_type, body.settings, body.secrets
        )
        row = await access_inbox_by_id(tx.conn, actor, inbox_id)
    _inboxes_changed(svc)
    return {
        **inbox_view(row, webhook_path(row)),
        "secrets": _readable_secrets(svc, row),
        "setup_warning": await run_on_saved(svc, row),
    }


@router.get("/workspaces/{workspace_id}/inboxes/{inbox_id}", response_model=schemas.InboxDetail)
async def get_inbox(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.read() as conn:
        row = await access_inbox_by_id(conn, actor, inbox_id)
        members = (
            (
                await conn.execute(
                    sa.select(t.inbox_members.c.user_id).where(t.inbox_members.c.inbox_id == inbox_id)
                )
            )
            .scalars()
            .all()
        )
    return {**inbox_view(row, webhook_path(row)), "member_ids": sorted(members)}


@router.get("/workspaces/{workspace_id}/inboxes/{inbox_id}/secrets", response_model=dict[str, str])
async def get_inbox_secrets(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    actor.require_admin()
    async with svc.db.read() as conn:
        row = await access_inbox_by_id(conn, actor, inbox_id)
    return _readable_secrets(svc, row)


@router.patch(
    "/workspaces/{workspace_id}/inboxes/{inbox_id}", response_model=schemas.InboxSaved, responses=answers(409)
)
async def update_inbox(inbox_id: Id, body: InboxUpdateIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Administrators only. `is_enabled: false` makes the inbox refuse webhooks (410) and new
    replies (409) while its conversations stay readable. `secrets` are write-only. After the
    commit the channel's setup step runs (registering the webhook with the provider); what
    failed there is `setup_warning`, and the inbox stays saved."""
    async with svc.db.write() as tx:
        await check_update_inbox(
            tx,
            actor,
            adapter_class,
            inbox_id,
            body.name,
            body.settings,
            box=svc.box,
            is_enabled=body.is_enabled,
            secrets=body.secrets,
        )
    svc.inboxes.forget(inbox_id)
    _inboxes_changed(svc)
    if body.is_enabled is False:
        # Every process closes the inbox's website visitor sockets (4410): best effort, the
        # sockets would also be refused at their next frame.
        disabled = ephemeral("inbox.disabled", actor.workspace_id, None, {"inbox_id": inbox_id})
        try:
            await svc.bus.publish([disabled])
        except Exception:
            log.warning("could not publish inbox.disabled", exc_info=True)
    async with svc.db.read() as conn:
        row = await access_inbox_by_id(conn, actor, inbox_id)
    warning = await run_on_saved(svc, row) if row["is_enabled"] else None
    return {**inbox_view(row, webhook_path(row)), "setup_warning": warning}


@router.post("/workspaces/{workspace_id}/inboxes/{inbox_id}/secrets/rotate", response_model=dict[str, str])
async def rotate_secrets(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """New generated secrets (shown here once more); requests signed with the old ones fail."""
    async with svc.db.write() as tx:
        secrets = await check_rotate_inbox_secrets(tx, actor, svc.box, adapter_class, inbox_id)
    svc.inboxes.forget(inbox_id)
    return secrets


@router.put("/workspaces/{workspace_id}/inboxes/{inbox_id}/members", status_code=204)
async def set_members(inbox_id: Id, body: InboxMembersIn, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_set_inbox_members(tx, actor, inbox_id, body.user_ids)
