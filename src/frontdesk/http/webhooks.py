"""Inbound webhooks: verify, parse, ingest (actions/ingest.py), answer. The 200 is sent only
after the commit."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.actions.ingest import INGESTED, FileRules, ingest
from frontdesk.channels.base import ChannelAdapter, WebhookRejected, WebhookRequest
from frontdesk.channels.registry import adapter_class, installation_for
from frontdesk.domain.errors import DomainError, Gone, NotFound, Unauthenticated
from frontdesk.http import errors
from frontdesk.http.deps import Svc
from frontdesk.http.middleware import count_request, declared_length, send_413
from frontdesk.http.openapi import answers
from frontdesk.http.url_guard import nul_refusal

if TYPE_CHECKING:
    from frontdesk.services import Services

log = logging.getLogger(__name__)


class WebhookAnswer(BaseModel):
    ok: bool
    # Per event (IngestResult.answer): {"message_id", "conversation_id", "duplicate"} for a
    # message, {"status", "applied"} for a receipt, {"event", "outcome", "message_id"} otherwise.
    results: list[dict[str, Any]]


# The body is read by the channel (400), signed (401), limited (413); a disabled inbox answers 410.
router = APIRouter(tags=["webhooks"], responses=answers(400, 401, 410, 413))


ROUTE = "/webhooks/{channel_type}/{inbox_uid}"
# What serve_post takes: a POST to exactly ROUTE (anything else goes through the full app).
PATH = re.compile(r"/webhooks/(?P<channel_type>[^/\x00]+)/(?P<inbox_uid>[^/\x00]+)")


@router.post(ROUTE, response_model=WebhookAnswer)
async def receive(channel_type: str, inbox_uid: str, request: Request, svc: Svc) -> Response:
    """Verify, store, answer: 200 only after the events are committed. Provider-specific
    formats and signatures are described per channel in docs/channels/.

    Served by serve_post before the middleware stack; this route documents it (OpenAPI) and
    serves a request only if that path is bypassed."""
    client = request.client.host if request.client else None
    hook = _hook(request.method, request.headers.items(), request.url.query, await request.body())
    return await ingest_webhook(svc, channel_type, inbox_uid, hook, client)


async def ingest_webhook(
    svc: Services, channel_type: str, inbox_uid: str, hook: WebhookRequest, client: str | None
) -> Response:
    """The webhook's work, whichever way the request came in: the answer, or a DomainError."""
    cached = await svc.inboxes.get(channel_type, inbox_uid)
    if cached is None:
        raise NotFound("no inbox at this address", field="inbox")
    inbox = cached.row
    if not inbox["is_enabled"]:
        INGESTED.labels(channel_type, "disabled").inc()
        raise Gone(
            "this inbox is disabled: nothing was stored; an administrator can enable it again",
            field="inbox",
            code="inbox_disabled",
        )
    adapter = _adapter(svc, channel_type, inbox, cached.secrets)
    try:
        adapter.verify(hook)
    except WebhookRejected as exc:
        INGESTED.labels(channel_type, "rejected").inc()
        log.warning("webhook refused", extra={"inbox_id": inbox["id"], "reason": str(exc), "client": client})
        raise Unauthenticated(str(exc), field="signature") from None
    rules = FileRules(svc.settings.attachments_dir, svc.settings.max_attachment_bytes)
    # ingest replaces NUL in customer content (never refused for it) and counts each event.
    results = await ingest(svc.db, rules, inbox, adapter.parse(hook))
    answer_body = adapter.webhook_answer(hook)
    if answer_body is not None:  # the provider's own acknowledgement (WeChat: "success")
        return Response(answer_body.body, media_type=answer_body.media_type)
    answer = {"ok": True, "results": [r.answer() for r in results]}
    # Serialised here rather than by a response model: this is the hottest endpoint.
    return Response(orjson.dumps(answer), media_type="application/json")


async def serve_post(
    svc: Services, scope: Scope, receive: Receive, send: Send, channel_type: str, inbox_uid: str
) -> None:
    """A provider's POST, served before the middleware stack and the router (app.py): of the
    layers there it needs only what is done here (the body limit, the NUL check, the request
    metrics, errors as JSON), and on the hottest path their frames and dependency solving cost
    a sixth of a message's time (bench/RESULTS.md, ingest)."""
    started = time.perf_counter()
    answer: ASGIApp
    try:
        answer = nul_refusal(scope) or await _answer(svc, scope, receive, channel_type, inbox_uid)
    except ClientDisconnect:
        return  # the provider gave up before sending the whole body: nothing was stored
    except _BodyTooLarge:
        answer = _too_large(svc.settings.max_body_bytes)
    except DomainError as exc:
        answer = errors.domain_response(exc)
    except Exception:
        log.exception("webhook failed", extra={"channel_type": channel_type})
        answer = errors.error_response(500, "internal_error", "the server failed; nothing was stored")
    await answer(scope, receive, send)
    status = answer.status_code if isinstance(answer, Response) else 413
    count_request("POST", ROUTE, status, time.perf_counter() - started)


class _BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send_413(send, limit)

    return app


async def _answer(
    svc: Services, scope: Scope, receive: Receive, channel_type: str, inbox_uid: str
) -> Response:
    limit = svc.settings.max_body_bytes
    declared = declared_length(scope["headers"])
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    headers = ((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    hook = _hook("POST", headers, scope.get("query_string", b"").decode("latin-1"), b"".join(chunks))
    client = scope.get("client")
    return await ingest_webhook(svc, channel_type, inbox_uid, hook, client[0] if client else None)


def _adapter(svc: Services, channel_type: str, inbox: Any, secrets: Any) -> ChannelAdapter:
    cls = adapter_class(channel_type)
    if not cls.takes_webhooks:
        raise NotFound(f"the {channel_type} channel takes no webhooks", field="inbox")
    installation = installation_for(svc.settings, svc.db, svc.box, inbox["id"])
    return cls(inbox["settings"], secrets, svc.http, installation)


def _hook(method: str, headers: Iterable[tuple[str, str]], query: str, body: bytes) -> WebhookRequest:
    return WebhookRequest(
        method=method,
        headers={k.lower(): v for k, v in headers},
        query=dict(parse_qsl(query, keep_blank_values=True)),
        body=body,
    )


@router.get(ROUTE, response_class=PlainTextResponse, responses=answers(404, 405))
async def handshake(channel_type: str, inbox_uid: str, request: Request, svc: Svc) -> Response:
    """The provider's GET verification when the webhook is registered (Meta's hub.challenge,
    WeChat's echostr): answered by the channel, refused (401) unless genuine."""
    cached = await svc.inboxes.get(channel_type, inbox_uid)
    if cached is None:
        raise NotFound("no inbox at this address", field="inbox")
    adapter = _adapter(svc, channel_type, cached.row, cached.secrets)
    try:
        reply = adapter.handshake(_hook(request.method, request.headers.items(), request.url.query, b""))
    except WebhookRejected as exc:
        INGESTED.labels(channel_type, "rejected").inc()
        raise Unauthenticated(str(exc), field="signature") from None
    if reply is None:
        raise HTTPException(405, headers={"Allow": "POST"})
    return Response(reply.body, media_type=reply.media_type)
