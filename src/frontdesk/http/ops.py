"""Operations: /healthz (the process is up), /readyz (it can reach its database), /metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from frontdesk.http.deps import Svc
from frontdesk.jobs.queue import queue_stats
from frontdesk.store.db import ping

router = APIRouter(tags=["operations"])
QUEUE_DEPTH = Gauge("frontdesk_queue_depth", "Jobs due and not yet claimed")
QUEUE_AGE = Gauge("frontdesk_queue_oldest_seconds", "Age of the oldest due job")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_READINESS = {"type": "object", "additionalProperties": {"type": "string"}}
_UNAVAILABLE = {
    "description": "The database cannot be reached: {status: unavailable, reason: <the error's class>}.",
    "content": {"application/json": {"schema": _READINESS}},
}


@router.get("/readyz", responses={503: _UNAVAILABLE})
async def readyz(svc: Svc, response: Response) -> dict[str, str]:
    try:
        await ping(svc.db)
    except Exception as exc:
        response.status_code = 503
        return {"status": "unavailable", "reason": type(exc).__name__}
    return {"status": "ok"}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(svc: Svc) -> Response:
    depth, age = await queue_stats(svc.db)
    QUEUE_DEPTH.set(depth)
    QUEUE_AGE.set(age)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
