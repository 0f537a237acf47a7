"""Inbound webhooks: verify, parse, ingest (actions/ingest.py), answer. The 200 is sent only
after the commit."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from frontdesk.actions.ingest import INGESTED, FileRules, ingest
from frontdesk.channels.base import ChannelAdapter, Installation, WebhookRejected, WebhookRequest
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.errors import Gone, NotFound, Unauthenticated
from frontdesk.http.deps import Svc
from frontdesk.http.openapi import answers
from frontdesk.store.channel_state import InboxState

log = logging.getLogger(__name__)


class WebhookAnswer(BaseModel):
    ok: bool
    # Per event (IngestResult.answer): {"message_id", "conversation_id", "duplicate"} for a
    # message, {"status", "applied"} for a receipt, {"event", "outcome", "message_id"} otherwise.
    results: list[dict[str, Any]]


# The body is read by the channel (400), signed (401), limited (413); a disabled inbox answers 410.
router = APIRouter(tags=["webhooks"], responses=answers(400, 401, 410, 413))


@router.post("/webhooks/{channel_type}/{inbox_uid}", response_model=WebhookAnswer)
async def receive(channel_type: str, inbox_uid: str, request: Request, svc: Svc) -> Response:
    """Verify, store, answer: 200 only after the events are committed. Provider-specific
    formats and signatures are described per channel in docs/channels/."""
    body = await request.body()
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
    hook = _hook(request, body)
    try:
        adapter.verify(hook)
    except WebhookRejected as exc:
        INGESTED.labels(channel_type, "rejected").inc()
        log.warning(
            "webhook refused",
            extra={
                "inbox_id": inbox["id"],
                "reason": str(exc),
                "client": request.client.host if request.client else None,
            },
        )
        raise Unauthenticated(str(exc), field="signature") from None
    rules = FileRules(svc.settings.attachments_dir, svc.settings.max_attachment_bytes)
    # ingest replaces NUL in customer content (never refused for it) and counts each event.
    results = await ingest(svc.db, rules, inbox, adapter.parse(hook))
    answer_body = adapter.webhook_answer(hook)
    if answer_body is not None:  # the provider's own acknowledgement (WeChat: "success")
        return Response(answer_body.body, media_type=answer_body.media_type)
    answer = {"ok": True, "results": [r.answer() for r in results]}
    # Serialised here rather than by the response model: this is the hottest endpoint.
    return Response(orjson.dumps(answer), media_type="application/json")


def _adapter(svc: Svc, channel_type: str, inbox: Any, secrets: Any) -> ChannelAdapter:
    cls = adapter_class(channel_type)
    if not cls.takes_webhooks:
        raise NotFound(f"the {channel_type} channel takes no webhooks", field="inbox")
    installation = Installation(
        settings=svc.settings,
        public_url=svc.settings.effective_public_url,
        state=InboxState(svc.db, svc.box, inbox["id"]),
    )
    return cls(inbox["settings"], secrets, svc.http, installation)


def _hook(request: Request, body: bytes) -> WebhookRequest:
    return WebhookRequest(
        method=request.method,
        headers={k.lower(): v for k, v in request.headers.items()},
        query=dict(request.query_params),
        body=body,
    )


@router.get(
    "/webhooks/{channel_type}/{inbox_uid}", response_class=PlainTextResponse, responses=answers(404, 405)
)
async def handshake(channel_type: str, inbox_uid: str, request: Request, svc: Svc) -> Response:
    """The provider's GET verification when the webhook is registered (Meta's hub.challenge,
    WeChat's echostr): answered by the channel, refused (401) unless genuine."""
    cached = await svc.inboxes.get(channel_type, inbox_uid)
    if cached is None:
        raise NotFound("no inbox at this address", field="inbox")
    adapter = _adapter(svc, channel_type, cached.row, cached.secrets)
    try:
        reply = adapter.handshake(_hook(request, b""))
    except WebhookRejected as exc:
        INGESTED.labels(channel_type, "rejected").inc()
        raise Unauthenticated(str(exc), field="signature") from None
    if reply is None:
        raise HTTPException(405, headers={"Allow": "POST"})
    return Response(reply.body, media_type=reply.media_type)
