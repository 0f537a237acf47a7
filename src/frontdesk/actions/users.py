"""Users, workspaces, memberships, invitations, sign-in sessions and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from frontdesk.access import Actor
from frontdesk.actions.audit import do_audit
from frontdesk.actions.email.slugs import do_assign_mail_slug
from frontdesk.domain.enums import Role
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from frontdesk.events import credentials_revoked
from frontdesk.security import hash_password, new_token, token_digest, verify_password
from frontdesk.store import tables as t
from frontdesk.store.conversation_numbers import start_numbers
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow

MIN_PASSWORD_LENGTH = 8


def normalise_email(email: str) -> str:
    email = email.strip()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 320:
        raise InvalidInput(f"{email!r} is not an email address", field="email")
    return email


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password")


async def do_create_user(tx: Tx, email: str, name: str, password: str | None) -> int:
    email = normalise_email(email)
    if password is not None:
        _check_password(password)
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    exists = (
        await tx.conn.execute(sa.select(t.users.c.id).where(t.users.c.email_lower == email.lower()))
    ).first()
    if exists is not None:
        raise Conflict(f"a user with the email {email} already exists", field="email")
    return int(
        (
            await tx.conn.execute(
                t.users.insert()
                .values(
                    email=email,
                    email_lower=email.lower(),
                    name=name.strip(),
                    password_hash=hash_password(password) if password else None,
                    is_active=True,
                    locale="en",
                    created_at=utcnow(),
                )
                .returning(t.users.c.id)
            )
        ).scalar_one()
    )


async def do_create_workspace(tx: Tx, name: str, owner_id: int) -> int:
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    now = utcnow()
    workspace_id = int(
        (
            await tx.conn.execute(
                t.workspaces.insert()
                .values(name=name.strip(), next_conversation_number=1, created_at=now)
                .returning(t.workspaces.c.id)
            )
        ).scalar_one()
    )
    await start_numbers(tx.conn, workspace_id)
    await do_assign_mail_slug(tx, workspace_id, name)
    await do_add_member(tx, workspace_id, owner_id, Role.ADMINISTRATOR)
    await do_audit(tx, workspace_id, owner_id, "workspace.create", "workspace", workspace_id)
    return workspace_id


async def do_add_member(tx: Tx, workspace_id: int, user_id: int, role: Role) -> None:
    try:
        async with tx.conn.begin_nested():
            await tx.conn.execute(
                t.memberships.insert().values(
                    workspace_id=workspace_id, user_id=user_id, role=role.value, created_at=utcnow()
                )
            )
    except IntegrityError:
        raise Conflict("this user is already a member of the workspace", field="user_id") from None


async def check_set_role(tx: Tx, actor: Actor, user_id: int, role: Role) -> None:
    actor.require_admin()
    if user_id == actor.user_id and role != Role.ADMINISTRATOR:
        raise InvalidInput("you cannot remove your own administrator role", field="role")
    result = await tx.conn.execute(
        t.memberships.update()
        .where(t.memberships.c.workspace_id == actor.workspace_id, t.memberships.c.user_id == user_id)
        .values(role=role.value)
    )
    if result.rowcount == 0:
        raise NotFound("user not found in this workspace", field="user_id")
    await do_audit(tx, actor.workspace_id, actor.user_id, "member.role", "user", user_id, role=role.value)


async def check_invite(tx: Tx, actor: Actor, email: str, role: Role) -> str:
    """Returns the invitation token, to be sent to the invitee; only its digest is stored."""
    actor.require_admin()
    email = normalise_email(email)
    member = (
        await tx.conn.execute(
            sa.select(t.users.c.id)
            .join(t.memberships, t.memberships.c.user_id == t.users.c.id)
            .where(t.users.c.email_lower == email.lower(), t.memberships.c.workspace_id == actor.workspace_id)
        )
    ).first()
    if member is not None:
        raise Conflict(f"{email} is already a member of this workspace", field="email")
    token = new_token("fdi")
    await tx.conn.execute(
        t.invitations.insert().values(
            workspace_id=actor.workspace_id,
            email=email,
            role=role.value,
            token_hash=token_digest(token),
            invited_by=actor.user_id,
            created_at=utcnow(),
        )
    )
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "member.invite",
        "invitation",
        None,
        email=email,
        role=role.value,
    )
    return token


async def do_accept_invitation(tx: Tx, token: str, name: str, password: str) -> tuple[int, int]:
    """(user id, workspace id). An existing account with the invited email just joins."""
    inv = (
        (
            await tx.conn.execute(
                sa.select(t.invitations).where(
                    t.invitations.c.token_hash == token_digest(token), t.invitations.c.accepted_at.is_(None)
                )
            )
        )
        .mappings()
        .first()
    )
    if inv is None:
        raise NotFound("this invitation does not exist or was already used", field="token")
    user_id = (
        await tx.conn.execute(sa.select(t.users.c.id).where(t.users.c.email_lower == inv["email"].lower()))
    ).scalar()
    if user_id is None:
        user_id = await do_create_user(tx, inv["email"], name, password)
    await do_add_member(tx, inv["workspace_id"], user_id, Role(inv["role"]))
    await tx.conn.execute(
        t.invitations.update().where(t.invitations.c.id == inv["id"]).values(accepted_at=utcnow())
    )
    return int(user_id), int(inv["workspace_id"])


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    user_id: int


async def do_login(tx: Tx, email: str, password: str, session_days: int) -> NewSession:
    row = (
        await tx.conn.execute(
            sa.select(t.users.c.id, t.users.c.password_hash, t.users.c.is_active).where(
                t.users.c.email_lower == email.strip().lower()
            )
        )
    ).first()
    ok = verify_password(row.password_hash if row else None, password)
    if row is None or not ok or not row.is_active:
        raise Unauthenticated("wrong email or password", field="password")
    token, csrf = new_token("fds"), new_token("csrf")
    now = utcnow()
    await tx.conn.execute(
        t.sessions.insert().values(
            user_id=row.id,
            token_hash=token_digest(token),
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(days=session_days),
        )
    )
    return NewSession(token=token, csrf_token=csrf, user_id=row.id)


async def do_logout(tx: Tx, user_id: int, session_id: int) -> None:
    await tx.conn.execute(
        t.sessions.update().where(t.sessions.c.id == session_id).values(revoked_at=utcnow())
    )
    tx.announce(credentials_revoked(user_id, session_ids=[session_id]))


async def do_create_api_token(tx: Tx, user_id: int, name: str) -> dict[str, Any]:
    if not name.strip():
        raise InvalidInput("name must not be empty", field="name")
    token = new_token("fdt")
    now = utcnow()
    token_id = (
        await tx.conn.execute(
            t.api_tokens.insert()
            .values(user_id=user_id, name=name.strip(), token_hash=token_digest(token), created_at=now)
            .returning(t.api_tokens.c.id)
        )
    ).scalar_one()
    return {"id": token_id, "name": name.strip(), "token": token, "created_at": now.isoformat()}


async def do_revoke_api_token(tx: Tx, user_id: int, token_id: int) -> None:
    result = await tx.conn.execute(
        t.api_tokens.update()
        .where(
            t.api_tokens.c.id == token_id,
            t.api_tokens.c.user_id == user_id,
            t.api_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    if result.rowcount == 0:
        raise NotFound("token not found", field="token_id")
    tx.announce(credentials_revoked(user_id, token_ids=[token_id]))
