"""ASGI middleware: refuse a URL whose path or query holds NUL (U+0000).

PostgreSQL can neither store nor compare text holding NUL, so such a value would fail deep in
a query (a 500) on one backend and match nothing on the other. Refusing it here covers every
path and query parameter of every route: 404 for a path (no object has such a name), 422
naming the query parameter. Bodies are checked by their models (http/api/models.py).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.http.errors import error_response

__all__ = ["RefuseNulInUrl", "nul_refusal"]


class RefuseNulInUrl:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            answer = nul_refusal(scope)
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def nul_refusal(scope: Scope) -> JSONResponse | None:
    if "\x00" in scope["path"]:
        return error_response(404, "not_found", "no such address: the path holds a NUL character")
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "\ufffd")
            return error_response(
                422, "invalid", f"{field}: must not contain the NUL character (U+0000)", field
            )
    return None
