"""End-to-end fixtures: the built dashboard served by a real `frontdesk serve` app (SQLite, worker
on), driven by Debian's Chromium through Playwright. Playwright never downloads a browser here.

Screenshots go to test-artifacts/screenshots/ (not committed)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from frontdesk.http.web import DASHBOARD_DIR
from tests.conftest import BACKEND, Server
from tests.factories import PASSWORD, Agent, Inbox, make_admin, make_inbox, make_member
from tests.receiver import Receiver

CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Without the background-networking switches Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The browser suite proves the dashboard once, on the embedded database (what `make demo` runs);
# the PostgreSQL pass covers the same API through the rest of the suite.
if BACKEND != "sqlite":
    collect_ignore_glob = ["test_*.py"]

expect.set_options(timeout=5_000)


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("FRONTDESK_E2E_REQUIRED") == "1":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    _require(Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: run scripts/browser-up")
    _require((DASHBOARD_DIR / "index.html").is_file(), "the dashboard is not built: run make web")
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@dataclass
class World:
    """A workspace with an administrator, two agents, and an API inbox whose replies go to a
    local webhook receiver."""

    server: Server
    http: httpx.AsyncClient
    browser: Browser
    receiver: Receiver
    admin: Agent
    agent1: Agent
    agent2: Agent
    workspace_id: int
    inbox: Inbox
    contexts: list[BrowserContext]

    async def page_for(self, agent: Agent, *, locale: str = "en-GB") -> Page:
        context = await self.browser.new_context(
            base_url=self.server.url, locale=locale, viewport={"width": 1400, "height": 900}
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(5_000)
        await page.goto("/login")
        await page.get_by_test_id("login-email").fill(agent.email)
        await page.get_by_test_id("login-password").fill(PASSWORD)
        await page.get_by_test_id("login-submit").click()
        await expect(page.get_by_test_id("conversation-list")).to_be_visible()
        return page

    def api(self, path: str) -> str:
        return f"/api/v1/workspaces/{self.workspace_id}{path}"


@pytest.fixture
async def world(
    server: Server, http: httpx.AsyncClient, browser: Browser, receiver: Receiver
) -> AsyncIterator[World]:
    admin, ws = await make_admin(server, http)
    agent1 = await make_member(server, http, ws, name="Aylin Demir")
    agent2 = await make_member(server, http, ws, name="Bahram Karimi")
    inbox = await make_inbox(
        http, admin, ws, webhook_url=receiver.url, members=[agent1.user_id, agent2.user_id]
    )
    receiver.secret = inbox.secret
    w = World(server, http, browser, receiver, admin, agent1, agent2, ws, inbox, [])
    yield w
    for context in w.contexts:
        await context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Awaitable[None]]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    async def take(page: Page, name: str) -> None:
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    return take
