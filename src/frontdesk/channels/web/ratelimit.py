"""The website widget's rate limits (docs/channels/web-widget-protocol.md, "Rate limits").

Held in this process's memory (one WidgetLimits per app, made on first use): with several web
processes each limits on its own, so a client spread over N processes may get up to N times the
limit. Buckets of idle keys are dropped (domain/ratelimit.py), so memory stays bounded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from frontdesk.domain.errors import RateLimited
from frontdesk.domain.ratelimit import Buckets, Rate, retry_after_seconds

VISITOR_MESSAGES = Rate(per_window=20, window_seconds=60, burst=8)  # socket, HTTP and files together
IP_SESSIONS = Rate(per_window=30, window_seconds=60, burst=30)
# Generous: an office or a mobile carrier puts many visitors behind one address.
IP_REQUESTS = Rate(per_window=600, window_seconds=60, burst=200)  # every widget request and socket


@dataclass
class WidgetLimits:
    messages: Buckets = field(default_factory=lambda: Buckets(VISITOR_MESSAGES))
    sessions: Buckets = field(default_factory=lambda: Buckets(IP_SESSIONS))
    requests: Buckets = field(default_factory=lambda: Buckets(IP_REQUESTS))

    def message(self, inbox_id: int, visitor: str) -> None:
        _take(self.messages, f"{inbox_id}:{visitor}", "too many messages: wait a moment before sending more")

    def session(self, ip: str) -> None:
        _take(self.sessions, ip, "too many new chat sessions from this address: try again later")

    def request_wait(self, ip: str) -> int:
        """0 when allowed, else the seconds to wait (the middleware answers 429 itself)."""
        wait = self.requests.take(ip, time.monotonic())
        return retry_after_seconds(wait) if wait else 0


def _take(buckets: Buckets, key: str, message: str) -> None:
    wait = buckets.take(key, time.monotonic())
    if wait:
        raise RateLimited(message, retry_after=retry_after_seconds(wait))


def limits_of(app: Any) -> WidgetLimits:
    """The app's limits (the Starlette app from scope["app"] or request.app)."""
    state = app.state
    limits: WidgetLimits | None = getattr(state, "widget_limits", None)
    if limits is None:
        limits = state.widget_limits = WidgetLimits()
    return limits


def client_ip(scope: Any) -> str:
    """The peer address; uvicorn has already replaced it by X-Forwarded-For when the peer is a
    trusted proxy (FORWARDED_ALLOW_IPS, default 127.0.0.1)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
