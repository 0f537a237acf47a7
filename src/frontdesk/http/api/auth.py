"""Sign-in and sign-out (cookie session + CSRF token), the current user, personal API tokens."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Response

from frontdesk.actions.users import do_create_api_token, do_login, do_logout, do_revoke_api_token
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.api.models import LoginIn, TokenIn
from frontdesk.http.deps import CSRF_COOKIE, SESSION_COOKIE, CurrentAuth, Svc
from frontdesk.http.openapi import answers
from frontdesk.store import tables as t

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=schemas.LoginResult, responses=answers(401))
async def login(body: LoginIn, response: Response, svc: Svc) -> dict[str, Any]:
    async with svc.db.write() as tx:
        session = await do_login(tx, body.email, body.password, svc.settings.session_days)
    secure = not svc.settings.dev_mode
    max_age = svc.settings.session_days * 86400
    response.set_cookie(
        SESSION_COOKIE, session.token, max_age=max_age, httponly=True, secure=secure, samesite="lax"
    )
    response.set_cookie(
        CSRF_COOKIE, session.csrf_token, max_age=max_age, httponly=False, secure=secure, samesite="lax"
    )
    return {"user_id": session.user_id, "csrf_token": session.csrf_token}


@router.post("/auth/logout", status_code=204, responses=answers(422))
async def logout(auth: CurrentAuth, response: Response, svc: Svc) -> None:
    if auth.session_id is None:
        raise InvalidInput("API tokens are revoked with DELETE /api/v1/me/tokens/{id}", field="authorization")
    async with svc.db.write() as tx:
        await do_logout(tx, auth.user_id, auth.session_id)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me/tokens", response_model=list[schemas.ApiToken])
async def list_tokens(auth: CurrentAuth, svc: Svc) -> list[dict[str, Any]]:
    a = t.api_tokens
    async with svc.db.read() as conn:
        rows = (
            (
                await conn.execute(
                    sa.select(a.c.id, a.c.name, a.c.created_at, a.c.revoked_at)
                    .where(a.c.user_id == auth.user_id)
                    .order_by(a.c.id)
                )
            )
            .mappings()
            .all()
        )
    return [
        {
            **r,
            "created_at": r["created_at"].isoformat(),
            "revoked_at": r["revoked_at"].isoformat() if r["revoked_at"] else None,
        }
        for r in rows
    ]


@router.post("/me/tokens", status_code=201, response_model=schemas.ApiTokenCreated)
async def create_token(body: TokenIn, auth: CurrentAuth, svc: Svc) -> dict[str, Any]:
    """The token is shown once, here; only its digest is kept."""
    async with svc.db.write() as tx:
        return await do_create_api_token(tx, auth.user_id, body.name)


@router.delete("/me/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: Id, auth: CurrentAuth, svc: Svc) -> None:
    async with svc.db.write() as tx:
        await do_revoke_api_token(tx, auth.user_id, token_id)
