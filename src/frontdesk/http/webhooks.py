"""Inbound webhooks: verify, store, answer. The 200 is sent only after the commit."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import Counter
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.media import PENDING, do_queue_media, pending_media_entries
from frontdesk.actions.messages import do_receive_message, do_receive_status
from frontdesk.channels.base import ChannelAdapter, Installation, WebhookRejected, WebhookRequest
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.errors import DomainError, Gone, NotFound, Unauthenticated
from frontdesk.domain.inbound import InboundMessage
from frontdesk.domain.input import clean
from frontdesk.http.deps import Svc
from frontdesk.http.openapi import answers

log = logging.getLogger(__name__)


class WebhookAnswer(BaseModel):
    ok: bool
    # Per event: {"message_id", "conversation_id", "duplicate"} or {"status", "applied"}
    results: list[dict[str, Any]]


# The body is read by the channel (400), signed (401), limited (413); a disabled inbox answers 410.
router = APIRouter(tags=["webhooks"], responses=answers(400, 401, 410, 413))
INGESTED = Counter("frontdesk_ingest_total", "Inbound webhook events", ["channel", "outcome"])
ATTEMPTS = 3  # concurrent first messages of one contact may race on the unique keys


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
    # Customer content is never refused for a NUL: replaced before anything is stored.
    events = clean(adapter.parse(hook))
    files = _store_files(svc, events)
    try:
        for attempt in range(ATTEMPTS):
            try:
                result = await _store(svc, inbox, events, files)
                break
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
    except Exception:
        discard_files(svc.settings.attachments_dir, [f for group in files for f in group])
        raise
    # A repeated delivery stored nothing new: its copies of the files go too.
    for group, answer in zip(files, result["results"], strict=True):
        if answer.get("duplicate"):
            discard_files(svc.settings.attachments_dir, group)
    INGESTED.labels(channel_type, "stored").inc(len(events))
    # Serialised here rather than by the response model: this is the hottest endpoint.
    return Response(orjson.dumps(result), media_type="application/json")


def _adapter(svc: Svc, channel_type: str, inbox: Any, secrets: Any) -> ChannelAdapter:
    cls = adapter_class(channel_type)
    if not cls.takes_webhooks:
        raise NotFound(f"the {channel_type} channel takes no webhooks", field="inbox")
    installation = Installation(settings=svc.settings, public_url=svc.settings.effective_public_url)
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


def _store_files(svc: Svc, events: list[Any]) -> list[list[StoredFile]]:
    """Check and write each message's files before the transaction (one group per event)."""
    root, limit = svc.settings.attachments_dir, svc.settings.max_attachment_bytes
    groups: list[list[StoredFile]] = []
    try:
        for event in events:
            group: list[StoredFile] = []
            groups.append(group)
            for index, file in enumerate(getattr(event, "files", ())):
                try:
                    group.append(store_file(root, file.file_name, file.content_type, file.content, limit))
                except DomainError as exc:
                    exc.field = f"attachments.{index}"
                    raise
    except Exception:
        discard_files(root, [f for group in groups for f in group])
        raise
    return groups


async def _store(svc: Svc, inbox: Any, events: list[Any], files: list[list[StoredFile]]) -> dict[str, Any]:
    stored: list[dict[str, Any]] = []
    async with svc.db.write() as tx:
        for event, event_files in zip(events, files, strict=True):
            if isinstance(event, InboundMessage):
                # Files still at the provider: listed on the message and fetched by a job
                # committed with it. (Moves into the one ingest action, issue 12 item 3.)
                if event.media:
                    event = dataclasses.replace(
                        event, data={**event.data, PENDING: pending_media_entries(event.media)}
                    )
                r = await do_receive_message(tx, inbox, event, event_files)
                if event.media and not r.duplicate:
                    await do_queue_media(tx, r.message_id, len(event.media))
                stored.append(
                    {
                        "message_id": r.message_id,
                        "conversation_id": r.conversation_id,
                        "duplicate": r.duplicate,
                    }
                )
            else:
                known = await do_receive_status(tx, inbox, event)
                stored.append({"status": event.status.value, "applied": known})
    return {"ok": True, "results": stored}
