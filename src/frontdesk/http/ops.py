"""Operations: /healthz (the process is up), /readyz (it can reach its database and, when one is
configured, Redis), /metrics (for Prometheus: behind FRONTDESK_METRICS_TOKEN, or open in dev mode
only; docs/decisions/0019)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from frontdesk.http.deps import Svc
from frontdesk.http.openapi import answers
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
    "description": (
        "The database cannot be reached ({status: unavailable, reason: <the error's class>}), or the "
        "bus to the other processes is lost ({status: unavailable, reason: redis})."
    ),
    "content": {"application/json": {"schema": _READINESS}},
}


@router.get("/readyz", responses={503: _UNAVAILABLE})
async def readyz(svc: Svc, response: Response) -> dict[str, str]:
    """503 while the database cannot be reached, or while the bus to the other processes (Redis)
    is lost: sockets opened here then would miss events, so a load balancer should look elsewhere."""
    try:
        await ping(svc.db)
    except Exception as exc:
        response.status_code = 503
        return {"status": "unavailable", "reason": type(exc).__name__}
    if not svc.bus.up:
        response.status_code = 503
        return {"status": "unavailable", "reason": "redis"}
    return {"status": "ok"}


def _check_metrics_access(svc: Svc, request: Request) -> None:
    token = svc.settings.metrics_token
    if not token:
        if svc.settings.dev_mode:
            return
        raise HTTPException(404, "metrics are off: set FRONTDESK_METRICS_TOKEN to turn them on")
    given = request.headers.get("authorization", "").encode()
    if not hmac.compare_digest(given, f"Bearer {token}".encode()):
        raise HTTPException(
            401,
            "send the metrics token: Authorization: Bearer <FRONTDESK_METRICS_TOKEN>",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


@router.get("/metrics", response_class=PlainTextResponse, responses=answers(401, 404))
async def metrics(svc: Svc, request: Request) -> Response:
    _check_metrics_access(svc, request)
    depth, age = await queue_stats(svc.db)
    QUEUE_DEPTH.set(depth)
    QUEUE_AGE.set(age)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
