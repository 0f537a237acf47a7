"""Serves the built dashboard (frontend/dashboard → src/frontdesk/web/dashboard).

The dashboard's own routes (/inbox/12, /settings/profile, /login…) get index.html, so a reload or a
shared link lands on the right screen; built files are served as they are; anything else is 404.
Hashed assets are cached for a year; index.html is never cached, so a new build shows at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "web" / "dashboard"
# The first path segments of the dashboard's routes (frontend/dashboard/src/router.ts).
APP_ROUTES = frozenset(
    {
        "inbox",
        "mine",
        "unassigned",
        "archive",
        "settings",
        "admin",
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


def _index() -> Response:
    index = DASHBOARD_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(_NOT_BUILT, status_code=503)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


@router.get("/")
async def dashboard_root() -> Response:
    return _index()


@router.get("/{path:path}")
async def dashboard_path(path: str) -> Response:
    if path.split("/", 1)[0] in APP_ROUTES:
        return _index()
    candidate = (DASHBOARD_DIR / path).resolve()
    if candidate.is_relative_to(DASHBOARD_DIR) and candidate.is_file():
        cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
        return FileResponse(candidate, headers={"Cache-Control": cache})
    raise HTTPException(404)
