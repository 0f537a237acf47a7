"""The widget preview page: a stand-in site that embeds a website inbox's snippet, in the
browser's language."""

from __future__ import annotations

import httpx

from tests.channels.web.test_web_channel import make_web_inbox
from tests.conftest import Server
from tests.factories import make_admin


async def test_preview_embeds_the_inbox_snippet_in_the_browsers_language(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_web_inbox(http, admin, ws)

    english = await http.get(f"/widget/preview/{inbox.uid}")
    assert english.status_code == 200
    assert f'<script async src="/widget.js" data-inbox="{inbox.uid}"></script>' in english.text
    assert 'dir="ltr"' in english.text and "Chat widget preview: Website" in english.text

    persian = await http.get(f"/widget/preview/{inbox.uid}", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert 'lang="fa" dir="rtl"' in persian.text and "پیش‌نمایش" in persian.text
    turkish = await http.get(f"/widget/preview/{inbox.uid}", headers={"Accept-Language": "de-DE, tr;q=0.8"})
    assert 'lang="tr"' in turkish.text


async def test_preview_of_an_unknown_inbox_is_404(server: Server, http: httpx.AsyncClient) -> None:
    r = await http.get("/widget/preview/no-such-inbox")
    assert r.status_code == 404
    assert r.json()["error"]["field"] == "inbox"
