"""/widget.js as a customer's site loads it: JavaScript, cached for five minutes and revalidated
by ETag (304), readable from any origin, a new build noticed at once, and a clear 404 when the
widget has not been built. The last test checks the real build, when there is one."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import httpx
import pytest

from frontdesk.channels.web import widget_asset
from tests.conftest import Server


@pytest.fixture
def widget_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A widget build of our own, so these tests neither need nor disturb the real one."""
    path = tmp_path / "widget" / "widget.js"
    path.parent.mkdir()
    path.write_text('(()=>{"use strict";window.Frontdesk={};})();\n')
    monkeypatch.setattr(widget_asset, "WIDGET_FILE", path)
    return path


async def test_widget_is_served_as_cacheable_javascript(
    server: Server, http: httpx.AsyncClient, widget_file: Path
) -> None:
    r = await http.get("/widget.js", headers={"Origin": "https://shop.example.com"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.content == widget_file.read_bytes()
    assert r.headers["etag"].startswith('"') and len(r.headers["etag"]) > 10


async def test_matching_etag_is_304_without_a_body(
    server: Server, http: httpx.AsyncClient, widget_file: Path
) -> None:
    etag = (await http.get("/widget.js")).headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        r = await http.get("/widget.js", headers={"If-None-Match": header})
        assert r.status_code == 304, header
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["cache-control"] == "public, max-age=300"
    stale = await http.get("/widget.js", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert stale.content == widget_file.read_bytes()


async def test_a_rebuilt_widget_gets_a_new_etag_at_once(
    server: Server, http: httpx.AsyncClient, widget_file: Path
) -> None:
    first = await http.get("/widget.js")
    widget_file.write_text('(()=>{"use strict";window.Frontdesk={v:2};})();\n')
    # Same second, same size is possible on a fast rebuild: move the modification time on.
    stat = widget_file.stat()
    os.utime(widget_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    r = await http.get("/widget.js", headers={"If-None-Match": first.headers["etag"]})
    assert r.status_code == 200
    assert r.headers["etag"] != first.headers["etag"]
    assert b"v:2" in r.content


async def test_missing_build_is_a_clear_404(
    server: Server, http: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_asset, "WIDGET_FILE", tmp_path / "nowhere" / "widget.js")
    r = await http.get("/widget.js")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/javascript")
    assert "has not been built" in r.text
    assert "scripts/web-build" in r.text
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.skipif(
    not widget_asset.WIDGET_FILE.is_file(), reason="the widget is not built (scripts/web-build)"
)
async def test_the_real_build_is_one_small_script(server: Server, http: httpx.AsyncClient) -> None:
    r = await http.get("/widget.js")
    assert r.status_code == 200
    body = r.content
    assert body == widget_asset.WIDGET_FILE.read_bytes()
    # One self-contained IIFE that claims no global but window.Frontdesk.
    assert body.removeprefix(b'"use strict";').startswith(b"(()=>{")
    assert b"import " not in body[:200]
    assert len(gzip.compress(body, compresslevel=9)) <= 30 * 1024
