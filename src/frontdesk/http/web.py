"""Serves the built dashboard (frontend/dashboard → src/frontdesk/web/dashboard) and the chat widget
(frontend/widget → src/frontdesk/web/widget/widget.js, at /widget.js).

The dashboard's own routes (/inbox/12, /settings/profile, /login…) get index.html, so a reload or a
shared link lands on the right screen; built files are served as they are; anything else is 404.
The API's and the webhooks' paths are not the dashboard's: the catch-all does not match them, so
a wrong method there is answered by the router with 405 and an Allow header (a GET catch-all
matching them answered a GET on a POST-only path with 404).
Hashed assets are cached for a year; index.html is never cached, so a new build shows at once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.convertors import Convertor, register_url_convertor

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "web" / "dashboard"
WIDGET_FILE = Path(__file__).resolve().parent.parent / "web" / "widget" / "widget.js"
# The first path segments of the dashboard's routes (frontend/dashboard/src/router.ts).
APP_ROUTES = frozenset(
    {
        "inbox",
        "mine",
        "unassigned",
        "archive",
        "settings",
        "admin",
        "visitors",
        "login",
        "forgot-password",
        "reset-password",
        "accept-invitation",
    }
)
_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Frontdesk</title>
<p>The dashboard has not been built. Run <code>make web</code> (needs Node.js 20), or use the API at
<a href="/api/docs">/api/docs</a>.</p>"""

router = APIRouter(include_in_schema=False)


class DashboardPath(Convertor[str]):
    """Any path but the API's (/api/…) and the webhooks' (/webhooks/…)."""

    regex = r"(?!(?:api|webhooks)(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("dashboard_path", DashboardPath())

# The snippet's URL has no version in it (site owners paste it once), so the widget is cached
# briefly and revalidated by ETag: a new release reaches every site within five minutes.
_WIDGET_HEADERS = {
    "Cache-Control": "public, max-age=300",
    "Access-Control-Allow-Origin": "*",
    "X-Content-Type-Options": "nosniff",
}
_WIDGET_NOT_BUILT = (
    "// The Frontdesk chat widget has not been built on this server:\n"
    "// run scripts/web-build (needs Node.js 20), then reload.\n"
)
_widget_cache: tuple[int, int, str, bytes] | None = None  # (mtime_ns, size, etag, body)


def _widget() -> tuple[str, bytes] | None:
    """The built widget and its ETag, read again only when the file changes (a rebuild)."""
    global _widget_cache
    try:
        stat = WIDGET_FILE.stat()
    except FileNotFoundError:
        return None
    cached = _widget_cache
    if cached is None or cached[:2] != (stat.st_mtime_ns, stat.st_size):
        body = WIDGET_FILE.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        cached = _widget_cache = (stat.st_mtime_ns, stat.st_size, etag, body)
    return cached[2], cached[3]


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags


@router.get("/widget.js")
async def widget_script(request: Request) -> Response:
    found = _widget()
    if found is None:
        return PlainTextResponse(
            _WIDGET_NOT_BUILT,
            status_code=404,
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
        )
    etag, body = found
    headers = {**_WIDGET_HEADERS, "ETag": etag}
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def _index() -> Response:
    index = DASHBOARD_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(_NOT_BUILT, status_code=503)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


@router.get("/")
async def dashboard_root() -> Response:
    return _index()


@router.get("/{path:dashboard_path}")
async def dashboard_path(path: str) -> Response:
    if path.split("/", 1)[0] in APP_ROUTES:
        return _index()
    candidate = (DASHBOARD_DIR / path).resolve()
    if candidate.is_relative_to(DASHBOARD_DIR) and candidate.is_file():
        cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
        return FileResponse(candidate, headers={"Cache-Control": cache})
    raise HTTPException(404)
