"""The website widget's HTTP API (docs/channels/web.md): visitor sessions and messages.

No login: the visitor is known by a signed visitor token (channels/web.py). The widget runs on
the customer's site, so these routes answer cross-origin requests from any origin; they use no
cookies, which is what makes that safe.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontdesk.actions.messages import do_receive_message
from frontdesk.actions.visitors import do_start_visitor_session, visitor_messages
from frontdesk.channels.web import (
    identity_hash_matches,
    issue_visitor_token,
    known_user_visitor,
    new_anonymous_visitor,
    read_visitor_token,
)
from frontdesk.domain.errors import Gone, InvalidInput, NotFound, Unauthenticated
from frontdesk.domain.inbound import InboundContact, InboundMessage
from frontdesk.http.api.models import VisitorMessageIn, VisitorSessionIn
from frontdesk.http.deps import Svc
from frontdesk.http.inbox_cache import CachedInbox

PREFIX = "/widget/v1/"
ATTEMPTS = 3  # two first requests of one visitor may race on the identity's unique key
router = APIRouter(prefix="/widget/v1", tags=["widget"])


class VisitorSessionOut(BaseModel):
    visitor_token: str
    contact_id: int
    conversation_id: int | None


class VisitorMessageOut(BaseModel):
    message_id: int
    conversation_id: int


class WidgetMessage(BaseModel):
    id: int
    direction: str  # "visitor" or "agent"
    text: str
    content_type: str
    attachments: list[dict[str, Any]]
    sender_name: str | None
    created_at: str


class WidgetMessages(BaseModel):
    conversation_id: int | None
    messages: list[WidgetMessage]


async def _inbox(svc: Svc, inbox_uid: str) -> CachedInbox:
    cached = await svc.inboxes.get("web", inbox_uid)
    if cached is None:
        raise NotFound("no website inbox at this address", field="inbox")
    if not cached.row["is_enabled"]:
        raise Gone(
            "this inbox is disabled: nothing was stored; an administrator can enable it again",
            field="inbox",
            code="inbox_disabled",
        )
    return cached


def _visitor(svc: Svc, inbox_uid: str, authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "visitor" or not token.strip():
        raise Unauthenticated("send the header Authorization: Visitor <visitor_token>", field="authorization")
    visitor = read_visitor_token(svc.settings.secret_key, inbox_uid, token)
    if visitor is None:
        raise Unauthenticated("the visitor token is not valid for this inbox", field="authorization")
    return visitor


@router.post("/{inbox_uid}/sessions", response_model=VisitorSessionOut)
async def start_session(inbox_uid: str, body: VisitorSessionIn, svc: Svc) -> dict[str, Any]:
    """Start or resume a visitor: with identity, the site's logged-in customer (the same contact
    on every device); else the visitor of visitor_token; else a new anonymous visitor."""
    cached = await _inbox(svc, inbox_uid)
    if body.identity is not None:
        if not identity_hash_matches(
            cached.secrets["identity_secret"], body.identity.user_id, body.identity.hash
        ):
            raise Unauthenticated(
                "identity.hash is not the HMAC-SHA256 of identity.user_id with this inbox's identity secret",
                field="identity.hash",
            )
        visitor = known_user_visitor(body.identity.user_id)
    elif body.visitor_token is not None:
        found = read_visitor_token(svc.settings.secret_key, inbox_uid, body.visitor_token)
        if found is None:
            raise Unauthenticated("the visitor token is not valid for this inbox", field="visitor_token")
        visitor = found
    else:
        visitor = new_anonymous_visitor()
    for attempt in range(ATTEMPTS):
        try:
            async with svc.db.write() as tx:
                session = await do_start_visitor_session(
                    tx, cached.row, visitor, name=body.name, email=body.email, phone=body.phone
                )
            break
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    return {
        "visitor_token": issue_visitor_token(svc.settings.secret_key, inbox_uid, visitor),
        "contact_id": session.contact_id,
        "conversation_id": session.conversation_id,
    }


@router.post("/{inbox_uid}/messages", response_model=VisitorMessageOut)
async def send_message(
    inbox_uid: str,
    body: VisitorMessageIn,
    svc: Svc,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The visitor writes: stored once per client_id, in the visitor's conversation (a new one
    the first time)."""
    cached = await _inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    if not body.text.strip():
        raise InvalidInput("text: a message needs text", field="text")
    message = InboundMessage(
        # Scoped by visitor: client ids are chosen by each widget, so two visitors may repeat one.
        source_id=f"{visitor}/{body.client_id}",
        contact=InboundContact(source_id=visitor),
        text=body.text,
    )
    for attempt in range(ATTEMPTS):
        try:
            async with svc.db.write() as tx:
                received = await do_receive_message(tx, cached.row, message)
            break
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    return {"message_id": received.message_id, "conversation_id": received.conversation_id}


@router.get("/{inbox_uid}/messages", response_model=WidgetMessages)
async def list_messages(
    inbox_uid: str,
    svc: Svc,
    after: Annotated[int, Query(ge=0)] = 0,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The visitor's conversation after message `after`, oldest first (200 at most)."""
    cached = await _inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    async with svc.db.read() as conn:
        conversation_id, messages = await visitor_messages(conn, cached.row["id"], visitor, after)
    return {"conversation_id": conversation_id, "messages": messages}


CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, content-type"),
    (b"access-control-max-age", b"600"),
]


class WidgetCors:
    """Cross-origin access for /widget/v1/ only (the dashboard API stays same-origin): answers
    the preflight itself and marks every answer, errors included, as readable by any origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": CORS_HEADERS})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), CORS_HEADERS[0]]
            await send(message)

        await self.app(scope, receive, send_with_cors)
