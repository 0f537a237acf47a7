"""access_<thing>_by_<key>(actor, …): the only way handlers fetch objects.

Authorisation lives here. An object of another workspace, or of an inbox the agent is not a
member of, is reported as not found: its existence is not confirmed to someone who may not see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.enums import Role
from frontdesk.domain.errors import Forbidden, NotFound
from frontdesk.domain.rules import can_manage_workspace, sees_every_inbox
from frontdesk.security import token_digest
from frontdesk.store import tables as t

Row = Mapping[Any, Any]  # a result row (RowMapping) or a dict built like one


@dataclass(frozen=True)
class Actor:
    """A user acting inside one workspace, with what their role lets them see."""

    user_id: int
    workspace_id: int
    role: Role
    # None: every inbox of the workspace (administrators, supervisors).
    inbox_ids: frozenset[int] | None

    def may_see_inbox(self, inbox_id: int) -> bool:
        return self.inbox_ids is None or inbox_id in self.inbox_ids

    def require_admin(self) -> None:
        if not can_manage_workspace(self.role):
            raise Forbidden("only an administrator of this workspace may do this")

    def require_supervisor(self) -> None:
        if self.role not in (Role.ADMINISTRATOR, Role.SUPERVISOR):
            raise Forbidden("only a supervisor or administrator may do this")


_MEMBERSHIP = (
    sa.select(t.memberships.c.role, t.inbox_members.c.inbox_id, t.memberships.c.is_active)
    .select_from(
        t.memberships.outerjoin(
            t.inbox_members.join(t.inboxes, t.inboxes.c.id == t.inbox_members.c.inbox_id),
            sa.and_(
                t.inbox_members.c.user_id == t.memberships.c.user_id,
                t.inboxes.c.workspace_id == t.memberships.c.workspace_id,
            ),
        )
    )
    .where(
        t.memberships.c.user_id == sa.bindparam("user_id"),
        t.memberships.c.workspace_id == sa.bindparam("workspace_id"),
    )
)


async def access_actor_by_workspace(conn: AsyncConnection, user_id: int, workspace_id: int) -> Actor:
    """One query: the membership and, for agents, their inbox ids."""
    rows = (await conn.execute(_MEMBERSHIP, {"user_id": user_id, "workspace_id": workspace_id})).all()
    if not rows:
        raise NotFound("workspace not found", field="workspace_id")
    if not rows[0][2]:
        # Deactivated by an administrator: the membership (and its history) stays, access does not.
        raise Forbidden(
            "your membership of this workspace has been deactivated by an administrator",
            code="member_deactivated",
        )
    role = Role(rows[0][0])
    inbox_ids = None if sees_every_inbox(role) else frozenset(r[1] for r in rows if r[1] is not None)
    return Actor(user_id=user_id, workspace_id=workspace_id, role=role, inbox_ids=inbox_ids)


def visible_inboxes(actor: Actor, column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    if actor.inbox_ids is None:
        return sa.true()
    return column.in_(sorted(actor.inbox_ids))


async def access_inbox_by_id(conn: AsyncConnection, actor: Actor, inbox_id: int) -> Row:
    row = (
        (
            await conn.execute(
                sa.select(t.inboxes).where(
                    t.inboxes.c.id == inbox_id, t.inboxes.c.workspace_id == actor.workspace_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None or not actor.may_see_inbox(inbox_id):
        raise NotFound("inbox not found", field="inbox_id")
    return row


def conversation_select() -> sa.Select[Any]:
    """Conversation columns plus the contact's name, as views.conversation_view expects, and the
    inbox's channel and settings (its channel's rules make the reply window, decision 0039)."""
    c, i = t.conversations, t.inboxes
    return (
        sa.select(
            c,
            t.contacts.c.name.label("contact_name"),
            i.c.channel_type.label("inbox_channel_type"),
            i.c.settings.label("inbox_settings"),
        )
        .join(t.contacts, t.contacts.c.id == c.c.contact_id)
        .join(i, i.c.id == c.c.inbox_id)
    )


async def access_conversation_by_id(
    conn: AsyncConnection, actor: Actor, conversation_id: int, *, for_update: bool = False
) -> Row:
    c = t.conversations
    stmt = conversation_select().where(c.c.id == conversation_id, c.c.workspace_id == actor.workspace_id)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=c)
    row: Row | None = (await conn.execute(stmt)).mappings().first()
    if row is None or not actor.may_see_inbox(row["inbox_id"]):
        raise NotFound("conversation not found", field="conversation_id")
    return row


async def access_contact_by_id(conn: AsyncConnection, actor: Actor, contact_id: int) -> Row:
    row = (
        (
            await conn.execute(
                sa.select(t.contacts).where(
                    t.contacts.c.id == contact_id, t.contacts.c.workspace_id == actor.workspace_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("contact not found", field="contact_id")
    if actor.inbox_ids is not None:
        # Agents see a contact only through a conversation in one of their inboxes.
        seen = (
            await conn.execute(
                sa.select(sa.literal(1))
                .where(
                    t.conversations.c.contact_id == contact_id,
                    visible_inboxes(actor, t.conversations.c.inbox_id),
                )
                .limit(1)
            )
        ).first()
        if seen is None:
            raise NotFound("contact not found", field="contact_id")
    return row


async def access_member_by_id(conn: AsyncConnection, actor: Actor, user_id: int) -> Row:
    row = (
        (
            await conn.execute(
                sa.select(t.users.c.id, t.users.c.name, t.users.c.email, t.memberships.c.role)
                .join(t.memberships, t.memberships.c.user_id == t.users.c.id)
                .where(t.users.c.id == user_id, t.memberships.c.workspace_id == actor.workspace_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("user not found in this workspace", field="user_id")
    return row


async def access_team_by_id(conn: AsyncConnection, actor: Actor, team_id: int) -> Row:
    row = (
        (
            await conn.execute(
                sa.select(t.teams).where(
                    t.teams.c.id == team_id, t.teams.c.workspace_id == actor.workspace_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("team not found", field="team_id")
    return row


async def access_invitation_by_token(conn: AsyncConnection, token: str) -> Row:
    """An open invitation; holding its token is the permission to see it."""
    inv, w = t.invitations, t.workspaces
    row: Row | None = (
        (
            await conn.execute(
                sa.select(inv.c.id, inv.c.email, inv.c.role, w.c.name.label("workspace_name"))
                .join(w, w.c.id == inv.c.workspace_id)
                .where(inv.c.token_hash == token_digest(token), inv.c.accepted_at.is_(None))
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("this invitation does not exist or was already used", field="token")
    return row
