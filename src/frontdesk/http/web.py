"""Serves the built dashboard (frontend/dashboard → src/frontdesk/web/dashboard); the chat widget's
script is the web channel's (channels/web/widget_asset.py).

The dashboard's own routes (/inbox/12, /settings/profile, /login…) get index.html, so a reload or a
shared link lands on the right screen; built files are served as they are; anything else is 404.
The API's and the webhooks' paths are not the dashboard's: the catch-all does not match them, so
a wrong method there is answered by the router with 405 and an Allow header (a GET catch-all
matching them answered a GET on a POST-only path with 404).
Hashed assets are cached for a year; index.html is never cached, so a new build shows at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor

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
