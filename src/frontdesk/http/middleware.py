"""ASGI middleware: refuse oversize bodies before reading them; count requests for /metrics."""

from __future__ import annotations

import time
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("frontdesk_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "frontdesk_http_request_seconds",
    "HTTP request duration",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)


# The labelled children, by (method, route, status): `labels()` takes a lock and builds a key on
# every call, and this runs on every request.
_counters: dict[tuple[str, str, int], Any] = {}
_timers: dict[str, Any] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    counter = _counters.get((method, route, status))
    if counter is None:
        counter = _counters[(method, route, status)] = REQUESTS.labels(method, route, str(status))
    timer = _timers.get(route)
    if timer is None:
        timer = _timers[route] = LATENCY.labels(route)
    counter.inc()
    timer.observe(seconds)


def declared_length(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    found = None  # the last one, as dict(headers) would give
    for name, value in headers:
        if name == b"content-length":
            found = value
    return found


class _TooLarge(Exception):
    pass


async def send_413(send: Send, limit: int) -> None:
    body = orjson.dumps(
        {"error": {"code": "too_large", "message": f"the body is larger than {limit} bytes", "field": "body"}}
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitAndMetrics:
    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # File uploads have their own, larger limit (the handler applies each file's own);
        # every other body the small one.
        limit = (
            self.max_upload
            if scope["path"].endswith(("/attachments", "/me/avatar", "/header-image"))
            else self.max_body
        )
        declared = declared_length(scope["headers"])
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_413(send, limit)
            return
        received = 0
        status: dict[str, Any] = {"code": 500, "started": False}

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not status["started"]:
                await send_413(send, limit)
            status["code"] = 413
        route = getattr(scope.get("route"), "path", "unmatched")
        count_request(scope["method"], route, status["code"], time.perf_counter() - started)
