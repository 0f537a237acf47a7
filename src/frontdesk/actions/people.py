"""People: profiles and preferences, passwords and their reset, availability, deactivation,
and the emails that go with invitations and resets (queued as jobs, sent by the worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from frontdesk.access import Actor
from frontdesk.actions.audit import do_audit
from frontdesk.actions.users import MIN_PASSWORD_LENGTH
from frontdesk.domain.errors import DomainError, InvalidInput, NotFound
from frontdesk.domain.people import PASSWORD_RESET_HOURS, Availability
from frontdesk.domain.preferences import LOCALES, PreferencesPatch, merge_preferences
from frontdesk.events import credentials_revoked
from frontdesk.jobs.queue import enqueue
from frontdesk.security import SecretBox, hash_password, new_token, token_digest, verify_password
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow

SEND_PASSWORD_RESET = "send_password_reset"
SEND_INVITATION = "send_invitation"
# Mail jobs give up sooner than replies: after a day of failures the link has expired anyway.
MAIL_MAX_ATTEMPTS = 6


def _check_new_password(password: str, field: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD_LENGTH} characters", field=field)


@dataclass(frozen=True)
class ProfileChange:
    name: str | None = None
    display_name: str | None = None
    clear_display_name: bool = False
    locale: str | None = None
    preferences: PreferencesPatch | None = None


async def do_update_profile(tx: Tx, user_id: int, change: ProfileChange) -> None:
    u = t.users
    values: dict[str, Any] = {}
    if change.name is not None:
        if not change.name.strip():
            raise InvalidInput("name must not be empty", field="name")
        values["name"] = change.name.strip()
    if change.clear_display_name:
        values["display_name"] = None
    elif change.display_name is not None:
        values["display_name"] = change.display_name.strip() or None
    if change.locale is not None:
        if change.locale not in LOCALES:
            raise InvalidInput(f"locale must be one of {', '.join(LOCALES)}", field="locale")
        values["locale"] = change.locale
    if change.preferences is not None:
        stored = (await tx.conn.execute(sa.select(u.c.preferences).where(u.c.id == user_id))).scalar_one()
        values["preferences"] = merge_preferences(stored, change.preferences).model_dump()
    if values:
        await tx.conn.execute(u.update().where(u.c.id == user_id).values(**values))


async def _revoke_sessions(tx: Tx, user_id: int, keep_session_id: int | None = None) -> None:
    s = t.sessions
    stmt = s.update().where(s.c.user_id == user_id, s.c.revoked_at.is_(None))
    if keep_session_id is not None:
        stmt = stmt.where(s.c.id != keep_session_id)
    revoked = (await tx.conn.execute(stmt.values(revoked_at=utcnow()).returning(s.c.id))).scalars().all()
    if revoked:
        tx.announce(credentials_revoked(user_id, session_ids=list(revoked)))


async def do_change_password(
    tx: Tx, user_id: int, current_session_id: int | None, current_password: str, new_password: str
) -> None:
    """Other sign-ins of the user end; the one making the change stays signed in."""
    u = t.users
    stored = (await tx.conn.execute(sa.select(u.c.password_hash).where(u.c.id == user_id))).scalar_one()
    if not verify_password(stored, current_password):
        raise DomainError("the current password is wrong", field="current_password", code="wrong_password")
    _check_new_password(new_password, "new_password")
    await tx.conn.execute(
        u.update().where(u.c.id == user_id).values(password_hash=hash_password(new_password))
    )
    await _revoke_sessions(tx, user_id, keep_session_id=current_session_id)


async def do_set_avatar(tx: Tx, user_id: int, relative_path: str | None) -> str | None:
    """Returns the previous picture's path, for the caller to delete once this has committed."""
    u = t.users
    old = (await tx.conn.execute(sa.select(u.c.avatar_path).where(u.c.id == user_id))).scalar_one()
    await tx.conn.execute(u.update().where(u.c.id == user_id).values(avatar_path=relative_path))
    return str(old) if old else None


async def do_request_password_reset(tx: Tx, box: SecretBox, email: str, *, send_email: bool) -> str | None:
    """The reset token for an active user with this email, or None. Only its digest is stored;
    the mail job carries it sealed with the secret key, since the job row outlives the request."""
    u = t.users
    user = (
        await tx.conn.execute(
            sa.select(u.c.id).where(u.c.email_lower == email.strip().lower(), u.c.is_active)
        )
    ).first()
    if user is None:
        return None
    token = new_token("fdr")
    now = utcnow()
    reset_id = (
        await tx.conn.execute(
            t.password_resets.insert()
            .values(
                user_id=user.id,
                token_hash=token_digest(token),
                created_at=now,
                expires_at=now + timedelta(hours=PASSWORD_RESET_HOURS),
            )
            .returning(t.password_resets.c.id)
        )
    ).scalar_one()
    if send_email:
        await enqueue(
            tx,
            SEND_PASSWORD_RESET,
            {"reset_id": int(reset_id), "sealed": box.seal({"token": token})},
            max_attempts=MAIL_MAX_ATTEMPTS,
        )
    return token


async def do_confirm_password_reset(tx: Tx, token: str, password: str) -> int:
    """Sets the password, uses up every open reset of the user, and ends all their sign-ins."""
    r = t.password_resets
    now = utcnow()
    row = (
        await tx.conn.execute(
            sa.select(r.c.id, r.c.user_id)
            .join(t.users, t.users.c.id == r.c.user_id)
            .where(
                r.c.token_hash == token_digest(token),
                r.c.used_at.is_(None),
                r.c.expires_at > now,
                t.users.c.is_active,
            )
        )
    ).first()
    if row is None:
        raise DomainError(
            "this password-reset link is unknown, expired or already used; ask for a new one",
            field="token",
            code="invalid_token",
        )
    _check_new_password(password, "password")
    # Claim the token in the same statement that checks it is unused: two concurrent
    # confirmations cannot both succeed.
    claimed = await tx.conn.execute(
        r.update().where(r.c.id == row.id, r.c.used_at.is_(None)).values(used_at=now)
    )
    if claimed.rowcount != 1:
        raise DomainError("this password-reset link was already used", field="token", code="invalid_token")
    await tx.conn.execute(
        r.update().where(r.c.user_id == row.user_id, r.c.used_at.is_(None)).values(used_at=now)
    )
    await tx.conn.execute(
        t.users.update().where(t.users.c.id == row.user_id).values(password_hash=hash_password(password))
    )
    await _revoke_sessions(tx, row.user_id)
    return int(row.user_id)


async def do_queue_invitation_email(tx: Tx, box: SecretBox, token: str) -> None:
    """The email is written in the inviter's language when it is sent."""
    inv_id = (
        await tx.conn.execute(
            sa.select(t.invitations.c.id).where(t.invitations.c.token_hash == token_digest(token))
        )
    ).scalar_one()
    await enqueue(
        tx,
        SEND_INVITATION,
        {"invitation_id": int(inv_id), "sealed": box.seal({"token": token})},
        max_attempts=MAIL_MAX_ATTEMPTS,
    )


async def check_set_availability(tx: Tx, actor: Actor, status: Availability) -> None:
    m = t.memberships
    await tx.conn.execute(
        m.update()
        .where(m.c.workspace_id == actor.workspace_id, m.c.user_id == actor.user_id)
        .values(availability=status.value)
    )


async def check_set_member_active(tx: Tx, actor: Actor, user_id: int, is_active: bool) -> None:
    actor.require_admin()
    if user_id == actor.user_id and not is_active:
        raise DomainError(
            "you cannot deactivate yourself; ask another administrator",
            field="user_id",
            code="cannot_deactivate_self",
        )
    m = t.memberships
    where = (m.c.workspace_id == actor.workspace_id, m.c.user_id == user_id)
    current = (await tx.conn.execute(sa.select(m.c.is_active).where(*where))).first()
    if current is None:
        raise NotFound("user not found in this workspace", field="user_id")
    if bool(current.is_active) == is_active:
        return  # nothing changes, so nothing is audited
    await tx.conn.execute(m.update().where(*where).values(is_active=is_active))
    action = "member.reactivate" if is_active else "member.deactivate"
    await do_audit(tx, actor.workspace_id, actor.user_id, action, "user", user_id)
