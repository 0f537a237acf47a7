"""A wrong method on an API or webhook path is 405 with an Allow header and the API's error
shape, not the dashboard catch-all's 404; a path nothing serves stays 404."""

from __future__ import annotations

import httpx

from tests.conftest import Server
from tests.factories import make_admin, make_inbox


def _assert_405(r: httpx.Response, allow: str) -> None:
    assert r.status_code == 405, (r.request.method, r.request.url, r.text)
    assert r.headers["allow"] == allow
    assert r.json()["error"]["code"] == "method_not_allowed"


async def test_a_get_on_a_post_only_path_is_405(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    r = await http.get("/api/v1/auth/login")
    _assert_405(r, "POST")
    assert "GET is not allowed on /api/v1/auth/login" in r.json()["error"]["message"]
    _assert_405(await http.get(inbox.webhook_path), "POST")
    head = await http.head("/api/v1/auth/login")  # the same answer, without its body
    assert head.status_code == 405 and head.headers["allow"] == "POST"


async def test_other_wrong_methods_are_405_too(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    _assert_405(await http.delete(inbox.webhook_path), "POST")
    _assert_405(await http.put("/api/v1/auth/login", json={}), "POST")
    r = await http.patch(f"/api/v1/workspaces/{ws}/search", headers=admin.headers)
    assert r.status_code == 405 and "GET" in r.headers["allow"]


async def test_unknown_api_paths_stay_404(http: httpx.AsyncClient) -> None:
    for path in ("/api/v1/nope", "/webhooks", "/api/v1/auth/login/extra"):
        r = await http.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"
