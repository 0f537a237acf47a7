"""The website widget's HTTP API (docs/channels/web-widget-protocol.md): configuration, visitor
sessions, messages, files, the offline form and CSAT. The socket is in widget_socket.py.

No login: the visitor is known by a signed visitor token (channels/web.py). The widget runs on
the customer's site, so these routes answer cross-origin requests from any origin; they use no
cookies, which is what makes that safe.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontdesk.actions.ingest import FileRules
from frontdesk.actions.web.csat import do_rate_conversation
from frontdesk.actions.web.visitors import (
    do_start_visitor_session,
    do_visitor_message,
    inbox_available_agents,
    ingest_visitor_message,
    visitor_messages,
)
from frontdesk.actions.web.visits import PageView
from frontdesk.channels.web.adapter import (
    WebSettings,
    identity_hash_matches,
    issue_visitor_token,
    known_user_visitor,
    new_anonymous_visitor,
    read_visitor_token,
)
from frontdesk.channels.web.models import VisitorCsatIn, VisitorMessageIn, VisitorOfflineIn, VisitorSessionIn
from frontdesk.channels.web.ratelimit import client_ip, limits_of
from frontdesk.channels.web.widget_tracking import tracker_of
from frontdesk.domain.errors import Conflict, Gone, InvalidInput, NotFound, TooLarge, Unauthenticated
from frontdesk.domain.inbound import InboundFile
from frontdesk.domain.input import Id
from frontdesk.http.deps import Svc
from frontdesk.http.inbox_cache import CachedInbox
from frontdesk.http.openapi import answers
from frontdesk.services import Services
from frontdesk.store.db import Tx

PREFIX = "/widget/v1/"
ATTEMPTS = 3  # two first requests of one visitor may race on the identity's unique key
UPLOAD_OVERHEAD = 65_536  # multipart framing and the small form fields around the file
CHUNK = 256 * 1024
# Every widget route: a blocked visitor (403), a disabled inbox (410), the per-address limit (429).
router = APIRouter(prefix="/widget/v1", tags=["widget"], responses=answers(403, 410, 429))
T = TypeVar("T")


class WidgetConfig(BaseModel):
    colour: str
    greeting: str
    greeting_translations: dict[str, str] = Field(
        description="The greeting by language code; the widget shows the visitor's, else `greeting`."
    )
    invitation_text: str
    invitation_text_translations: dict[str, str] = Field(
        description="The invitation by language code; the widget shows the visitor's, else `invitation_text`."
    )
    prechat_enabled: bool
    prechat_fields: list[str]
    offline_behaviour: str
    language: str
    agents_online: bool
    max_upload_bytes: int


class VisitorSessionOut(BaseModel):
    visitor_token: str
    contact_id: int
    conversation_id: int | None


class OfflineOut(VisitorSessionOut):
    message_id: int


class VisitorMessageOut(BaseModel):
    message_id: int
    conversation_id: int


class WidgetAttachment(BaseModel):
    file_name: str
    content_type: str
    size: int
    url: str | None


class WidgetMessage(BaseModel):
    id: int
    client_id: str | None
    direction: str  # "visitor" or "agent"
    text: str
    content_type: str
    attachments: list[WidgetAttachment]
    sender_name: str | None
    created_at: str


class WidgetMessages(BaseModel):
    conversation_id: int | None
    messages: list[WidgetMessage]


class WidgetMessageOut(BaseModel):
    message: WidgetMessage


class CsatOut(BaseModel):
    conversation_id: int
    rating: int
    comment: str | None


async def widget_inbox(svc: Services, inbox_uid: str) -> CachedInbox:
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


async def in_transaction(svc: Services, work: Callable[[Tx], Awaitable[T]]) -> T:
    """Run `work` in a write transaction, again when a concurrent first request of the same
    visitor won the race on a unique key (the retry then finds what the other one stored)."""
    for attempt in range(ATTEMPTS):
        try:
            async with svc.db.write() as tx:
                return await work(tx)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def agents_online(svc: Services, workspace_id: int, inbox_id: int) -> bool:
    """Someone who may answer this inbox chose "online" and has a dashboard socket open: here,
    or on another process as last heard over the bus (the presence events every process gets)."""
    async with svc.db.read() as conn:
        available = await inbox_available_agents(conn, workspace_id, inbox_id)
    connected = svc.hub.connected_user_ids(workspace_id)
    heard = svc.hub.heard_presence
    return any(u in connected or heard.get((workspace_id, u)) == "online" for u in available)


@router.get("/{inbox_uid}/config", response_model=WidgetConfig)
async def config(inbox_uid: str, svc: Svc) -> dict[str, Any]:
    """What the widget needs before it draws anything; no token needed."""
    cached = await widget_inbox(svc, inbox_uid)
    settings = WebSettings.model_validate(cached.row["settings"], strict=False)
    return {
        "colour": settings.colour,
        "greeting": settings.greeting,
        "greeting_translations": settings.greeting_translations,
        "invitation_text": settings.invitation_text,
        "invitation_text_translations": settings.invitation_text_translations,
        "prechat_enabled": settings.prechat_enabled,
        "prechat_fields": list(settings.prechat_fields),
        "offline_behaviour": settings.offline_behaviour,
        "language": settings.language,
        "agents_online": await agents_online(svc, cached.row["workspace_id"], cached.row["id"]),
        "max_upload_bytes": svc.settings.widget_max_upload_bytes,
    }


def _resolve_visitor(svc: Services, cached: CachedInbox, inbox_uid: str, body: VisitorSessionIn) -> str:
    if body.identity is not None:
        if not identity_hash_matches(
            cached.secrets["identity_secret"], body.identity.user_id, body.identity.hash
        ):
            raise Unauthenticated(
                "identity.hash is not the HMAC-SHA256 of identity.user_id with this inbox's identity secret",
                field="identity.hash",
            )
        return known_user_visitor(body.identity.user_id)
    if body.visitor_token is not None:
        found = read_visitor_token(svc.settings.secret_key, inbox_uid, body.visitor_token)
        if found is None:
            raise Unauthenticated("the visitor token is not valid for this inbox", field="visitor_token")
        return found
    return new_anonymous_visitor()


@router.post("/{inbox_uid}/sessions", response_model=VisitorSessionOut, responses=answers(401))
async def start_session(inbox_uid: str, body: VisitorSessionIn, svc: Svc, request: Request) -> dict[str, Any]:
    """Start or resume a visitor: with identity, the site's logged-in customer (the same contact
    on every device); else the visitor of visitor_token; else a new anonymous visitor."""
    cached = await widget_inbox(svc, inbox_uid)
    visitor = _resolve_visitor(svc, cached, inbox_uid, body)
    if body.identity is None and body.visitor_token is None:  # only new visitors count
        limits_of(request.app).session(client_ip(request.scope))
    session = await in_transaction(
        svc,
        lambda tx: do_start_visitor_session(
            tx, cached.row, visitor, name=body.name, email=body.email, phone=body.phone
        ),
    )
    if body.page is not None:
        await tracker_of(request.app).arrive(
            cached.row,
            session.contact_id,
            session.identity_id,
            PageView(body.page.url, body.page.title, body.page.referrer),
            request.headers,
            client_ip(request.scope),
            body.language,
            socket=False,
        )
    return {
        "visitor_token": issue_visitor_token(svc.settings.secret_key, inbox_uid, visitor),
        "contact_id": session.contact_id,
        "conversation_id": session.conversation_id,
    }


async def send_visitor_message(
    svc: Services,
    app: Any,
    cached: CachedInbox,
    visitor: str,
    client_id: str,
    text: str,
    files: Sequence[InboundFile] = (),
) -> dict[str, Any]:
    """The one way a visitor's message is stored (HTTP, socket, file upload): rate limited,
    then the ingest action (refused for a blocked contact, stored once per client_id). Returns
    the WidgetMessage plus conversation_id and duplicate."""
    limits_of(app).message(cached.row["id"], visitor)
    # A refused file is the upload's one `file`.
    rules = FileRules(svc.settings.attachments_dir, svc.settings.widget_max_upload_bytes, field="file")
    public_url = svc.settings.effective_public_url
    return await ingest_visitor_message(
        svc.db, rules, cached.row, visitor, client_id, text, public_url, files
    )


@router.post("/{inbox_uid}/messages", response_model=VisitorMessageOut)
async def send_message(
    inbox_uid: str,
    body: VisitorMessageIn,
    svc: Svc,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The visitor writes: stored once per client_id, in the visitor's conversation (a new one
    the first time)."""
    cached = await widget_inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    if not body.text.strip():
        raise InvalidInput("text: a message needs text", field="text")
    sent = await send_visitor_message(svc, request.app, cached, visitor, body.client_id, body.text)
    return {"message_id": sent["id"], "conversation_id": sent["conversation_id"]}


@router.get("/{inbox_uid}/messages", response_model=WidgetMessages)
async def list_messages(
    inbox_uid: str,
    svc: Svc,
    after: Annotated[Id, Query(ge=0)] = 0,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The visitor's conversation after message `after`, oldest first (200 at most)."""
    cached = await widget_inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    async with svc.db.read() as conn:
        conversation_id, messages = await visitor_messages(
            conn, cached.row["id"], visitor, after, svc.settings.effective_public_url
        )
    return {"conversation_id": conversation_id, "messages": messages}


def _form_text(form: Any, name: str, limit: int, *, required: bool) -> str:
    value = form.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise InvalidInput(f"{name}: give a text of at most {limit} characters", field=name)
    return value


async def _read_upload(upload: UploadFile, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes", field="file", code="file_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


# Read by hand (under the widget's own limit), so FastAPI cannot describe it: the document says it here.
_UPLOAD_FORM = {
    "type": "object",
    "required": ["file", "client_id"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "client_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "text": {"type": "string", "maxLength": 65_536},
    },
}


@router.post(
    "/{inbox_uid}/attachments",
    response_model=WidgetMessageOut,
    responses=answers(400, 413),
    openapi_extra={
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": _UPLOAD_FORM}}}
    },
)
async def upload(
    inbox_uid: str,
    svc: Svc,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """A file from the visitor (multipart: file, client_id, optional text); stored once per
    client_id. The body is read under the widget's own limit (WidgetCors)."""
    cached = await widget_inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    limit = svc.settings.widget_max_upload_bytes
    async with request.form(max_files=1, max_fields=4) as form:
        client_id = _form_text(form, "client_id", 100, required=True)
        text = _form_text(form, "text", 65_536, required=False)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("file: attach one file", field="file")
        content = await _read_upload(upload, limit)
    file = InboundFile(upload.filename or "file", upload.content_type or "", content)
    sent = await send_visitor_message(svc, request.app, cached, visitor, client_id, text, [file])
    return {"message": sent}


@router.post("/{inbox_uid}/offline", response_model=OfflineOut, responses=answers(401))
async def offline_form(inbox_uid: str, body: VisitorOfflineIn, svc: Svc, request: Request) -> dict[str, Any]:
    """The offline form: the contact's details and an incoming message (content_type
    "offline_form") in the visitor's conversation; agents answer it like any message."""
    cached = await widget_inbox(svc, inbox_uid)
    if not body.text.strip():
        raise InvalidInput("text: write a message", field="text")
    visitor = _resolve_visitor(svc, cached, inbox_uid, VisitorSessionIn(visitor_token=body.visitor_token))
    limits = limits_of(request.app)
    if body.visitor_token is None:  # a new visitor
        limits.session(client_ip(request.scope))
    limits.message(cached.row["id"], visitor)

    async def work(tx: Tx) -> tuple[int, dict[str, Any]]:
        session = await do_start_visitor_session(
            tx, cached.row, visitor, name=body.name, email=body.email, phone=body.phone
        )
        sent = await do_visitor_message(
            tx,
            cached.row,
            visitor,
            "offline-" + secrets.token_urlsafe(12),  # each form sent is a message of its own
            body.text,
            svc.settings.effective_public_url,
            content_type="offline_form",
            data={"offline_form": {"name": body.name, "email": body.email, "phone": body.phone}},
        )
        return session.contact_id, sent

    contact_id, sent = await in_transaction(svc, work)
    return {
        "visitor_token": issue_visitor_token(svc.settings.secret_key, inbox_uid, visitor),
        "contact_id": contact_id,
        "conversation_id": sent["conversation_id"],
        "message_id": sent["id"],
    }


@router.post("/{inbox_uid}/csat", response_model=CsatOut, responses=answers(409))
async def rate(
    inbox_uid: str,
    body: VisitorCsatIn,
    svc: Svc,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The visitor rates their resolved conversation, once."""
    cached = await widget_inbox(svc, inbox_uid)
    visitor = _visitor(svc, inbox_uid, authorization)
    try:
        async with svc.db.write() as tx:
            return await do_rate_conversation(
                tx, cached.row, visitor, body.conversation_id, body.rating, body.comment
            )
    except IntegrityError:  # two ratings raced: the other one was stored
        raise Conflict(
            "this conversation has already been rated", field="conversation_id", code="already_rated"
        ) from None


CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, content-type"),
    (b"access-control-max-age", b"600"),
]
# On every answer: readable by any origin, and Retry-After readable by the widget's script.
ANSWER_CORS = [CORS_HEADERS[0], (b"access-control-expose-headers", b"retry-after")]


async def _refuse(
    send: Send, status: int, code: str, message: str, field: str | None, extra: list[Any]
) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "field": field}})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *ANSWER_CORS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class WidgetCors:
    """For /widget/v1/ only (the dashboard API stays same-origin): cross-origin access (answers
    the preflight itself and marks every answer, errors included, as readable by any origin),
    the per-address request limit, and the widget's own upload size limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            # Allow whatever headers the page asks for: these routes take no cookies, so a header
            # grants nothing; proxies and browser extensions add their own (X-Forwarded-For…).
            asked = dict(scope["headers"]).get(b"access-control-request-headers")
            headers = [*CORS_HEADERS[:2], (b"access-control-allow-headers", asked or CORS_HEADERS[2][1])]
            await send({"type": "http.response.start", "status": 204, "headers": [*headers, CORS_HEADERS[3]]})
            await send({"type": "http.response.body", "body": b""})
            return
        wait = limits_of(scope["app"]).request_wait(client_ip(scope))
        if wait:
            await _refuse(
                send,
                429,
                "rate_limited",
                "too many requests from this address: try again later",
                None,
                [(b"retry-after", str(wait).encode())],
            )
            return
        if scope["path"].endswith("/attachments"):
            limit = scope["app"].state.services.settings.widget_max_upload_bytes
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit + UPLOAD_OVERHEAD:
                await _refuse(
                    send, 413, "file_too_large", f"the file is larger than {limit} bytes", "file", []
                )
                return
            receive = _bounded(receive, limit + UPLOAD_OVERHEAD, limit)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ANSWER_CORS]
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _bounded(receive: Receive, body_limit: int, file_limit: int) -> Receive:
    """A body longer than declared (or not declared) stops being read at the limit: the handler
    gets file_too_large (a domain error, so it is answered 413) and nothing is stored."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > body_limit:
            raise TooLarge(f"the file is larger than {file_limit} bytes", field="file", code="file_too_large")
        return message

    return limited
