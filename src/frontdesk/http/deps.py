"""Annotated dependencies: Svc (the process's services), CurrentUser, WorkspaceActor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.requests import HTTPConnection

from frontdesk.access import Actor, access_actor_by_workspace
from frontdesk.domain.errors import Forbidden, Unauthenticated
from frontdesk.domain.input import Id
from frontdesk.security import same_secret, token_digest
from frontdesk.services import Services
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow

SESSION_COOKIE = "frontdesk_session"
CSRF_COOKIE = "frontdesk_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def get_services(conn: HTTPConnection) -> Services:
    services: Services = conn.app.state.services
    return services


async def _services(conn: HTTPConnection) -> Services:
    # async because FastAPI runs a plain `def` dependency on its thread pool: a thread hop (and
    # a GIL hand-over) on every request, a fifth of the webhook's time in the ingest profile.
    return get_services(conn)


Svc = Annotated[Services, Depends(_services)]


@dataclass(frozen=True)
class Auth:
    user_id: int
    session_id: int | None  # None when authenticated by an API token
    csrf_token: str | None
    token_id: int | None = None  # the API token's id, when authenticated by one


_TOKEN = (
    sa.select(t.api_tokens.c.user_id, t.api_tokens.c.id)
    .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
    .where(
        t.api_tokens.c.token_hash == sa.bindparam("digest"),
        t.api_tokens.c.revoked_at.is_(None),
        t.users.c.is_active,
    )
)
_SESSION = (
    sa.select(t.sessions.c.id, t.sessions.c.user_id, t.sessions.c.csrf_token)
    .join(t.users, t.users.c.id == t.sessions.c.user_id)
    .where(
        t.sessions.c.token_hash == sa.bindparam("digest"),
        t.sessions.c.revoked_at.is_(None),
        t.sessions.c.expires_at > sa.bindparam("now"),
        t.users.c.is_active,
    )
)


async def authenticate_on(db: AsyncConnection, conn: HTTPConnection) -> Auth:
    """Bearer API token (scripts) or session cookie (dashboard); one query either way."""
    header = conn.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        row = (await db.execute(_TOKEN, {"digest": token_digest(header[7:].strip())})).first()
        if row is None:
            raise Unauthenticated("the API token is unknown or revoked")
        return Auth(user_id=row[0], session_id=None, csrf_token=None, token_id=row[1])
    cookie = conn.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthenticated("sign in or send an API token (Authorization: Bearer …)")
    found = (await db.execute(_SESSION, {"digest": token_digest(cookie), "now": utcnow()})).first()
    if found is None:
        raise Unauthenticated("the session has expired; sign in again")
    return Auth(user_id=found[1], session_id=found[0], csrf_token=found[2])


async def authenticate(conn: HTTPConnection, services: Services) -> Auth:
    async with services.db.read() as db:
        return await authenticate_on(db, conn)


def check_csrf(request: Request, auth: Auth) -> None:
    # Cookie sessions need the CSRF token in a header a cross-site form cannot set.
    needs_csrf = auth.session_id is not None and request.method not in SAFE_METHODS
    given = request.headers.get(CSRF_HEADER) or ""
    if needs_csrf and not (auth.csrf_token and same_secret(auth.csrf_token, given)):
        raise Forbidden("missing or wrong X-CSRF-Token header", code="csrf_failed")


async def current_auth(request: Request, services: Svc) -> Auth:
    auth = await authenticate(request, services)
    check_csrf(request, auth)
    return auth


CurrentAuth = Annotated[Auth, Depends(current_auth)]


async def workspace_actor(workspace_id: Id, request: Request, services: Svc) -> Actor:
    """Who is asking, and what they may see in this workspace: one connection, two queries."""
    async with services.db.read() as db:
        auth = await authenticate_on(db, request)
        check_csrf(request, auth)
        return await access_actor_by_workspace(db, auth.user_id, workspace_id)


WorkspaceActor = Annotated[Actor, Depends(workspace_actor)]
