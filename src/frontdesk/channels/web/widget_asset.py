"""/widget.js: the built chat widget (frontend/widget → src/frontdesk/web/widget/widget.js), as a
customer's site loads it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

WIDGET_FILE = Path(__file__).resolve().parents[2] / "web" / "widget" / "widget.js"

router = APIRouter(include_in_schema=False)

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
