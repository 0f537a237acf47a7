"""People: the signed-in user's profile, preferences, password and picture; password reset by
email; invitation previews; presence; the members list and deactivating members."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse

from frontdesk.access import access_invitation_by_token
from frontdesk.actions.attachments import discard_files, store_file
from frontdesk.actions.people import (
    ProfileChange,
    check_set_availability,
    check_set_member_active,
    do_change_password,
    do_confirm_password_reset,
    do_request_password_reset,
    do_set_avatar,
    do_update_profile,
)
from frontdesk.domain.input import Id
from frontdesk.domain.people import AVATAR_MAX_BYTES, check_avatar, effective_status
from frontdesk.domain.preferences import stored_preferences
from frontdesk.events import ephemeral
from frontdesk.http.api import schemas
from frontdesk.http.api.attachments import _read_limited
from frontdesk.http.api.models import (
    MemberActiveIn,
    PasswordChangeIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    PresenceIn,
    ProfileIn,
)
from frontdesk.http.deps import CurrentAuth, Svc, WorkspaceActor
from frontdesk.http.stored_images import stored_image_response
from frontdesk.http.ws import publish_presence
from frontdesk.store import queries
from frontdesk.store import tables as t
from frontdesk.store.views import member_view, profile_view

log = logging.getLogger(__name__)
router = APIRouter(tags=["people"])
files_router = APIRouter(tags=["people"], default_response_class=FileResponse)
_AVATAR_PATH = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}$")


async def _profile(svc: Svc, user_id: int) -> dict[str, Any]:
    u, m, w = t.users, t.memberships, t.workspaces
    async with svc.db.read() as conn:
        user = (
            (
                await conn.execute(
                    sa.select(
                        u.c.id,
                        u.c.email,
                        u.c.name,
                        u.c.display_name,
                        u.c.locale,
                        u.c.avatar_path,
                        u.c.preferences,
                    ).where(u.c.id == user_id)
                )
            )
            .mappings()
            .one()
        )
        workspaces = (
            (
                await conn.execute(
                    sa.select(w.c.id, w.c.name, m.c.role)
                    .join(m, m.c.workspace_id == w.c.id)
                    .where(m.c.user_id == user_id, m.c.is_active)
                    .order_by(w.c.id)
                )
            )
            .mappings()
            .all()
        )
    prefs = stored_preferences(user["preferences"]).model_dump()
    return profile_view(user, prefs, [dict(r) for r in workspaces])


@router.get("/me", response_model=schemas.Profile)
async def me(auth: CurrentAuth, svc: Svc) -> dict[str, Any]:
    """The signed-in user; `workspaces` lists only the memberships that are active."""
    return await _profile(svc, auth.user_id)


@router.patch("/me", response_model=schemas.Profile)
async def update_me(body: ProfileIn, auth: CurrentAuth, svc: Svc) -> dict[str, Any]:
    change = ProfileChange(
        name=body.name,
        display_name=body.display_name,
        clear_display_name="display_name" in body.model_fields_set and body.display_name is None,
        locale=body.locale,
        preferences=body.preferences,
    )
    async with svc.db.write() as tx:
        await do_update_profile(tx, auth.user_id, change)
    return await _profile(svc, auth.user_id)


@router.post("/me/password", status_code=204)
async def change_password(body: PasswordChangeIn, auth: CurrentAuth, svc: Svc) -> None:
    """Ends every other sign-in session of the user; the one making the change stays
    (API tokens are kept: revoke them with DELETE /me/tokens/{id})."""
    async with svc.db.write() as tx:
        await do_change_password(tx, auth.user_id, auth.session_id, body.current_password, body.new_password)


@router.post("/me/avatar", response_model=schemas.Avatar)
async def upload_avatar(
    auth: CurrentAuth,
    svc: Svc,
    file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image of at most 1 MiB.")],
) -> dict[str, Any]:
    content = await _read_limited(file, AVATAR_MAX_BYTES)
    content_type = check_avatar(content)
    root = svc.settings.attachments_dir
    stored = store_file(root, "avatar", content_type, content, AVATAR_MAX_BYTES)
    try:
        async with svc.db.write() as tx:
            old = await do_set_avatar(tx, auth.user_id, stored.relative_path)
    except Exception:
        discard_files(root, [stored])
        raise
    if old:
        (root / old).unlink(missing_ok=True)
    return {"avatar_url": f"/files/avatars/{stored.relative_path}"}


@router.delete("/me/avatar", status_code=204)
async def delete_avatar(auth: CurrentAuth, svc: Svc) -> None:
    async with svc.db.write() as tx:
        old = await do_set_avatar(tx, auth.user_id, None)
    if old:
        (svc.settings.attachments_dir / old).unlink(missing_ok=True)


@files_router.get("/files/avatars/{year}/{month}/{token}")
async def download_avatar(year: str, month: str, token: str, svc: Svc) -> FileResponse:
    return await _picture(svc, f"{year}/{month}/{token}", t.users.c.avatar_path)


@files_router.get("/files/contact-avatars/{year}/{month}/{token}")
async def download_contact_avatar(year: str, month: str, token: str, svc: Svc) -> FileResponse:
    """A contact's picture from their channel (jobs/profiles.py)."""
    return await _picture(svc, f"{year}/{month}/{token}", t.contacts.c.avatar_path)


async def _picture(svc: Svc, relative: str, owner: sa.Column[str]) -> FileResponse:
    # The random path is the capability; a new picture gets a new address, so an old one may be
    # cached for a while.
    return await stored_image_response(
        svc,
        relative,
        shape=_AVATAR_PATH,
        owner=owner,
        missing="no such picture",
        cache_control="private, max-age=86400",
    )


@router.post("/auth/password-reset", status_code=202, response_model=schemas.PasswordResetAccepted)
async def request_password_reset(body: PasswordResetIn, svc: Svc) -> dict[str, str]:
    """Always 202, whether or not an account has this email: the answer tells nobody who has one."""
    mail_on = svc.settings.mail_config.enabled
    async with svc.db.write() as tx:
        token = await do_request_password_reset(tx, svc.box, body.email, send_email=mail_on)
    if token is not None and not mail_on:
        if svc.settings.dev_mode:
            link = f"{svc.settings.effective_public_url}/reset-password?token={token}"
            log.info("email is off (no FRONTDESK_SMTP_HOST); password-reset link: %s", link)
        else:
            log.warning("a password reset was asked for, but no email can be sent: set FRONTDESK_SMTP_HOST")
    return {"status": "accepted"}


@router.post("/auth/password-reset/confirm", status_code=204)
async def confirm_password_reset(body: PasswordResetConfirmIn, svc: Svc) -> None:
    """Sets the new password and signs the user out everywhere."""
    async with svc.db.write() as tx:
        await do_confirm_password_reset(tx, body.token, body.password)


@router.get("/invitations/{token}", response_model=schemas.InvitationPreview)
async def preview_invitation(token: str, svc: Svc) -> dict[str, Any]:
    """What the accept page shows before the invitee signs up; 404 once used."""
    async with svc.db.read() as conn:
        row = await access_invitation_by_token(conn, token)
    return {"workspace_name": row["workspace_name"], "email": row["email"], "role": row["role"]}


@router.put("/workspaces/{workspace_id}/presence", status_code=204)
async def set_presence(body: PresenceIn, actor: WorkspaceActor, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await check_set_availability(tx, actor, body.status)
    await publish_presence(svc, actor, body.status.value)


@router.get("/workspaces/{workspace_id}/presence", response_model=schemas.Presence)
async def get_presence(actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """An agent counts as connected while they have a socket open to this process."""
    connected = svc.hub.connected_user_ids(actor.workspace_id)
    async with svc.db.read() as conn:
        rows = await queries.member_availabilities(conn, actor.workspace_id)
    return {
        "agents": [
            {"user_id": user_id, "status": effective_status(availability, user_id in connected).value}
            for user_id, availability in rows
        ]
    }


@router.get("/workspaces/{workspace_id}/members", response_model=list[schemas.Member])
async def list_members(actor: WorkspaceActor, svc: Svc) -> list[dict[str, Any]]:
    connected = svc.hub.connected_user_ids(actor.workspace_id)
    async with svc.db.read() as conn:
        rows = await queries.list_members(conn, actor.workspace_id)
    return [
        member_view(
            r,
            effective_status(r["availability"], r["is_active"] and r["user_id"] in connected).value,
            r["team_ids"],
            r["inbox_ids"],
        )
        for r in rows
    ]


@router.put("/workspaces/{workspace_id}/members/{user_id}/active", status_code=204)
async def set_member_active(user_id: Id, body: MemberActiveIn, actor: WorkspaceActor, svc: Svc) -> None:
    """Administrators only. A deactivated member is refused (403) everywhere in the workspace and
    their open sockets are closed (code 4403); reactivating restores access."""
    async with svc.db.write() as tx:
        await check_set_member_active(tx, actor, user_id, body.is_active)
    event = ephemeral(
        "member.updated", actor.workspace_id, None, {"user_id": user_id, "is_active": body.is_active}
    )
    try:
        await svc.bus.publish([event])
    except Exception:
        # Committed already; the member is refused from their next request or reconnection.
        log.warning("could not publish member.updated", exc_info=True)
