"""A customer's website for the widget tests: a real HTTP server on another origin than Frontdesk
(http://localhost:<its port> against Frontdesk's http://127.0.0.1:<port>), whose pages embed the
snippet exactly as a site owner pastes it. `/aggressive` carries the kind of global CSS that
breaks badly isolated widgets."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.conftest import free_port

AGGRESSIVE_CSS = """
* { font-size: 40px !important; color: red !important; line-height: 3 !important;
    letter-spacing: 6px !important; font-family: 'Courier New', monospace !important;
    box-sizing: content-box !important; }
div, button, input, textarea, span, p { display: block !important; margin: 25px !important;
    padding: 30px !important; border: 9px dashed lime !important; background: yellow !important;
    width: auto !important; transform: rotate(3deg) !important; }
button { min-width: 400px !important; height: 200px !important; }
body { direction: rtl; text-align: right; }
"""


def _page(frontdesk_url: str, inbox_uid: str, title: str, body: str, head: str = "", attrs: str = "") -> str:
    snippet = (
        f'<script async src="{html.escape(frontdesk_url)}/widget.js" '
        f'data-inbox="{html.escape(inbox_uid)}"{attrs}></script>'
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"{head}</head><body><h1>{html.escape(title)}</h1>{body}{snippet}</body></html>"
    )


@dataclass
class HostSite:
    url: str
    frontdesk_url: str
    inbox_uid: str
    language: str | None = None  # data-language on the snippet, when set

    def _attrs(self) -> str:
        return f' data-language="{self.language}"' if self.language else ""

    def app(self) -> Starlette:
        def shop(request: Request) -> HTMLResponse:
            body = "<p>Welcome to the shop.</p><a id='to-shoes' href='/shoes'>Shoes</a>"
            return HTMLResponse(
                _page(self.frontdesk_url, self.inbox_uid, "Shop home", body, attrs=self._attrs())
            )

        def shoes(request: Request) -> HTMLResponse:
            body = "<p>All our shoes.</p><a id='to-home' href='/'>Home</a>"
            return HTMLResponse(_page(self.frontdesk_url, self.inbox_uid, "Shoes", body, attrs=self._attrs()))

        def aggressive(request: Request) -> HTMLResponse:
            head = f"<style>{AGGRESSIVE_CSS}</style>"
            body = "<div><p>A site with hostile global styles.</p></div>"
            return HTMLResponse(
                _page(self.frontdesk_url, self.inbox_uid, "Aggressive", body, head=head, attrs=self._attrs())
            )

        return Starlette(routes=[Route("/", shop), Route("/shoes", shoes), Route("/aggressive", aggressive)])


@asynccontextmanager
async def host_site(frontdesk_url: str, inbox_uid: str) -> AsyncIterator[HostSite]:
    port = free_port()
    # "localhost", not 127.0.0.1: another origin (and another site) than Frontdesk's.
    site = HostSite(url=f"http://localhost:{port}", frontdesk_url=frontdesk_url, inbox_uid=inbox_uid)
    config = uvicorn.Config(site.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield site
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
