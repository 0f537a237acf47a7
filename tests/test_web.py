"""The built dashboard as the server hands it out: app routes survive a reload, assets are
cached for good, junk paths are 404 and nothing outside the build folder is reachable."""

from __future__ import annotations

import httpx
import pytest

from frontdesk.http.web import DASHBOARD_DIR
from tests.conftest import Server

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built (make web)"
)


async def test_dashboard_routes_get_the_app_and_junk_is_404(server: Server, http: httpx.AsyncClient) -> None:
    for path in (
        "/",
        "/inbox",
        "/mine/12",
        "/settings/profile",
        "/admin/inboxes",
        "/visitors",
        "/reset-password",
    ):
        r = await http.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-cache"
        assert '<div id="app">' in r.text
    for path in ("/nothing-here", "/inboxes", "/assets/missing.js", "/api/v1/nope", "/etc/passwd"):
        assert (await http.get(path)).status_code == 404, path


async def test_assets_are_immutable_and_confined_to_the_build(
    server: Server, http: httpx.AsyncClient
) -> None:
    asset = next((DASHBOARD_DIR / "assets").glob("*.js"))
    r = await http.get(f"/assets/{asset.name}")
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]
    for path in ("/assets/..%2F..%2F__init__.py", "/assets/%2e%2e/%2e%2e/app.py"):
        assert (await http.get(path)).status_code == 404, path
