"""Workspaces, members, invitations and teams."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter

from frontdesk.actions.people import do_queue_invitation_email
from frontdesk.actions.users import (
    check_invite,
    check_set_role,
    do_accept_invitation,
    do_create_workspace,
)
from frontdesk.actions.workspace_objects import (
    check_add_team_member,
    check_create_team,
    check_delete_team,
    check_remove_team_member,
    check_rename_team,
)
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.api.models import (
    AcceptInvitationIn,
    InvitationIn,
    RoleIn,
    TeamIn,
    TeamMemberIn,
    WorkspaceIn,
)
from frontdesk.http.deps import CurrentAuth, Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import tables as t

router = APIRouter(tags=["workspaces"])


@router.post("/workspaces", status_code=201, response_model=schemas.Workspace)
async def create_workspace(body: WorkspaceIn, auth: CurrentAuth, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        workspace_id = await do_create_workspace(tx, body.name, auth.user_id)
    return {"id": workspace_id, "name": body.name.strip()}


@router.get("/workspaces/{workspace_id}", response_model=schemas.WorkspaceDetail)
async def get_workspace(actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.read() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(t.workspaces.c.id, t.workspaces.c.name).where(
                        t.workspaces.c.id == actor.workspace_id
                    )
                )
            )
            .mappings()
            .one()
        )
    return {**row, "role": actor.role.value}


@router.put("/workspaces/{workspace_id}/members/{user_id}/role", status_code=204)
async def set_role(user_id: Id, body: RoleIn, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_set_role(tx, actor, user_id, body.role)


@router.post(
    "/workspaces/{workspace_id}/invitations",
    status_code=201,
    response_model=schemas.Invitation,
    responses=answers(409),
)
async def invite(body: InvitationIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Returns the invitation token once; the dashboard turns it into a link for the invitee. With
    email configured (FRONTDESK_SMTP_HOST) the invitee is also sent the link by email."""
    async with svc.db.write() as tx:
        token = await check_invite(tx, actor, body.email, body.role)
        if svc.settings.mail_config.enabled:
            await do_queue_invitation_email(tx, svc.box, token)
    return {"email": body.email, "role": body.role.value, "token": token}


@router.post(
    "/invitations/accept",
    status_code=201,
    response_model=schemas.InvitationAccepted,
    responses=answers(404, 409),
)
async def accept_invitation(body: AcceptInvitationIn, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        user_id, workspace_id = await do_accept_invitation(tx, body.token, body.name, body.password)
    return {"user_id": user_id, "workspace_id": workspace_id}


@router.get("/workspaces/{workspace_id}/teams", response_model=list[schemas.Team])
async def list_teams(actor: WorkspaceActor, svc: Svc) -> list[dict[str, Any]]:
    tm = t.team_members
    async with svc.db.read() as conn:
        teams = (
            (
                await conn.execute(
                    sa.select(t.teams.c.id, t.teams.c.name)
                    .where(t.teams.c.workspace_id == actor.workspace_id)
                    .order_by(t.teams.c.name)
                )
            )
            .mappings()
            .all()
        )
        members = (
            await conn.execute(
                sa.select(tm.c.team_id, tm.c.user_id).where(tm.c.team_id.in_([r["id"] for r in teams]))
            )
        ).all()
    by_team: dict[int, list[int]] = {}
    for team_id, user_id in members:
        by_team.setdefault(team_id, []).append(user_id)
    return [{**r, "member_ids": sorted(by_team.get(r["id"], []))} for r in teams]


@router.post(
    "/workspaces/{workspace_id}/teams", status_code=201, response_model=schemas.Team, responses=answers(409)
)
async def create_team(body: TeamIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        team_id = await check_create_team(tx, actor, body.name)
    return {"id": team_id, "name": body.name.strip(), "member_ids": []}


@router.post("/workspaces/{workspace_id}/teams/{team_id}/members", status_code=204)
async def add_team_member(team_id: Id, body: TeamMemberIn, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_add_team_member(tx, actor, team_id, body.user_id)


@router.patch(
    "/workspaces/{workspace_id}/teams/{team_id}", response_model=schemas.Team, responses=answers(409)
)
async def rename_team(team_id: Id, body: TeamIn, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Administrators only; a name another team has is refused (409)."""
    tm = t.team_members
    async with svc.db.write() as tx:
        team = await check_rename_team(tx, actor, team_id, body.name)
        members = (await tx.conn.execute(sa.select(tm.c.user_id).where(tm.c.team_id == team_id))).scalars()
        return {"id": team["id"], "name": team["name"], "member_ids": sorted(members)}


@router.delete("/workspaces/{workspace_id}/teams/{team_id}", status_code=204)
async def delete_team(team_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    """Administrators only. The team's conversations stay, with no team."""
    async with svc.db.write() as tx:
        await check_delete_team(tx, actor, team_id)


@router.delete("/workspaces/{workspace_id}/teams/{team_id}/members/{user_id}", status_code=204)
async def remove_team_member(team_id: Id, user_id: Id, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_remove_team_member(tx, actor, team_id, user_id)
