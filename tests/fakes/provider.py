"""TEST EQUIPMENT: a fake provider, a real HTTP server on 127.0.0.1 that records every call and
answers as each test scripts it (rate limits, outages, permanent refusals, expiring media).

It runs uvicorn in a thread of its own, on its own event loop, so one server can serve a whole
test session whatever loop each test runs on, and a test's loop never serves its own requests
(as with a real provider, a blocked test loop cannot fake a fast answer). Each test gets it
reset: no calls, no scripts, no media (tests/conftest.py `fake_provider`).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass(frozen=True)
class Call:
    """One request as the provider saw it (header names lower-case)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    time: float  # time.monotonic() at arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: Mapping[str, str] = field(default_factory=lambda: {"content-type": "application/json"})
    delay: float = 0.0  # seconds before answering (to exceed a client's timeout)


def _json(status: int, payload: Any, **headers: str) -> Answer:
    return Answer(status, json.dumps(payload).encode(), {"content-type": "application/json", **headers})


def rate_limited(retry_after: int = 1) -> Answer:
    """429 with Retry-After in seconds, as Telegram, Meta and LINE answer a burst."""
    error = {"error": {"code": 429, "message": "Too Many Requests"}}
    return _json(429, error, **{"retry-after": str(retry_after)})


def unavailable(status: int = 503) -> Answer:
    return _json(status, {"error": {"code": status, "message": "Service Unavailable"}})


def rejected(status: int = 400, code: int = 100, message: str = "Invalid parameter") -> Answer:
    """A permanent refusal with a provider-style error body (Graph API's shape)."""
    return _json(status, {"error": {"message": message, "type": "OAuthException", "code": code}})


def expired(status: int = 404) -> Answer:
    """What a media URL answers once the provider let it lapse (404 or 410)."""
    return _json(status, {"error": {"code": status, "message": "media url expired"}})


def media(content: bytes, content_type: str) -> Answer:
    return Answer(200, content, {"content-type": content_type})


@dataclass
class _Media:
    content: bytes
    content_type: str
    expires_at: float | None
    expired_status: int


class FakeProvider:
    """Scripted per path: `script(path, a, b)` gives a then b, then the path's default answer
    (`answer(path, …)`), else 200 {}. `serve_media` serves bytes until they expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._scripts: dict[str, deque[Answer]] = defaultdict(deque)
        self._defaults: dict[str, Answer] = {}
        self._media: dict[str, _Media] = {}
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- running ---

    def start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, log_level="warning", lifespan="off", interface="asgi3")
        server = self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(server.serve(sockets=[sock])), name="fake-provider", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake provider did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._scripts.clear()
            self._defaults.clear()
            self._media.clear()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    # --- scripting ---

    def script(self, path: str, *answers: Answer) -> None:
        with self._lock:
            self._scripts[path].extend(answers)

    def answer(self, path: str, answer: Answer) -> None:
        with self._lock:
            self._defaults[path] = answer

    def serve_media(
        self,
        path: str,
        content: bytes,
        content_type: str,
        *,
        expires_in: float | None = None,
        expired_status: int = 404,
    ) -> str:
        """Serve `content` at `path` (after any scripted answers) until `expires_in` seconds
        from now; then `expired_status`, as a provider's short-lived media URL does."""
        expires_at = None if expires_in is None else time.monotonic() + expires_in
        with self._lock:
            self._media[path] = _Media(content, content_type, expires_at, expired_status)
        return self.url_for(path)

    def expire(self, path: str) -> None:
        with self._lock:
            self._media[path].expires_at = time.monotonic() - 1

    # --- looking ---

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """The calls to `path` once there are `count`; fails the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while len(found := self.calls_to(path)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(found)} of {count} calls to {path} after {timeout}s")
            await asyncio.sleep(0.01)
        return found

    # --- serving ---

    def _next(self, path: str) -> Answer:
        with self._lock:
            queued = self._scripts.get(path)
            if queued:
                return queued.popleft()
            file = self._media.get(path)
            if file is not None:
                if file.expires_at is not None and time.monotonic() >= file.expires_at:
                    return expired(file.expired_status)
                return media(file.content, file.content_type)
            return self._defaults.get(path, Answer())

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        call = Call(
            method=scope["method"],
            path=scope["path"],
            query=dict(
                part.split("=", 1) if "=" in part else (part, "")
                for part in scope["query_string"].decode().split("&")
                if part
            ),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
            body=body,
            time=time.monotonic(),
        )
        with self._lock:
            self._calls.append(call)
        answer = self._next(call.path)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        headers = [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if call.method == "HEAD" else answer.body})
