"""The website widget end to end (issue 4): a customer's site on another origin embeds the
snippet; a visitor chats in real Chromium; agents answer from the dashboard in another browser
profile. The visitor's address is 203.0.113.9 (sent as X-Forwarded-For from the loopback proxy
Frontdesk trusts), which the test geo-IP database places in Istanbul."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from playwright.async_api import BrowserContext, Locator, Page, Route, expect

from frontdesk.store import tables as t
from tests.e2e.conftest import World
from tests.e2e.host_site import HostSite, host_site
from tests.geo_fixture import write_test_geoip_db

VISITOR_IP = "203.0.113.9"
GEO_DB = Path(tempfile.mkdtemp(prefix="frontdesk-geo-")) / "test-city.mmdb"
UTM = "?utm_source=newsletter&utm_medium=email&utm_campaign=november"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201ffa0a6c1a40000000049454e44ae426082"
)

pytestmark = pytest.mark.parametrize("server", [{"geoip_db": GEO_DB}], indirect=True)


@pytest.fixture(autouse=True, scope="module")
def _geo_db() -> None:
    write_test_geoip_db(GEO_DB)


@dataclass
class Site:
    world: World
    host: HostSite
    inbox_id: int
    inbox_uid: str

    async def visitor(self, *, locale: str = "en-US", path: str = "/") -> Page:
        context: BrowserContext = await self.world.browser.new_context(
            locale=locale,
            viewport={"width": 1280, "height": 860},
            extra_http_headers={"X-Forwarded-For": VISITOR_IP},
        )
        self.world.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(5_000)
        # Shown by pytest when a test fails: what the widget said in the console.
        page.on("console", lambda m: print(f"[visitor console] {m.type}: {m.text}"))
        page.on("pageerror", lambda e: print(f"[visitor page error] {e}"))
        await page.goto(self.host.url + path)
        return page

    async def patch_settings(self, **settings: Any) -> None:
        r = await self.world.http.patch(
            self.world.api(f"/inboxes/{self.inbox_id}"),
            headers=self.world.admin.headers,
            json={"settings": settings},
        )
        assert r.status_code == 200, r.text


@pytest.fixture
async def site(world: World) -> AsyncIterator[Site]:
    http: httpx.AsyncClient = world.http
    r = await http.post(
        world.api("/inboxes"),
        headers=world.admin.headers,
        json={
            "name": "Shop website",
            "channel_type": "web",
            "settings": {
                "prechat_enabled": True,
                "prechat_fields": ["name", "email"],
                "greeting": "Hello from the shop",
            },
        },
    )
    assert r.status_code == 201, r.text
    inbox = r.json()
    m = await http.put(
        world.api(f"/inboxes/{inbox['id']}/members"),
        headers=world.admin.headers,
        json={"user_ids": [world.agent1.user_id, world.agent2.user_id]},
    )
    assert m.status_code == 204, m.text
    async with host_site(world.server.url, inbox["uid"]) as host:
        yield Site(world, host, inbox["id"], inbox["uid"])


def fd(page: Page, hook: str) -> Locator:
    """A widget part by its test hook; Playwright's CSS engine looks inside the open shadow root."""
    return page.locator(f'[data-fd="{hook}"]')


def widget_message(page: Page, text: str) -> Locator:
    return fd(page, "message").filter(has_text=text)


def bubble(page: Page, text: str) -> Locator:
    return page.get_by_test_id("thread").get_by_test_id("message").filter(has_text=text)


def row(page: Page, text: str) -> Locator:
    return page.get_by_test_id("conversation-row").filter(has_text=text)


async def start_chat(
    visitor: Page, text: str, *, name: str = "Deniz Kaya", email: str = "deniz@example.com"
) -> None:
    await fd(visitor, "launcher").click()
    await expect(fd(visitor, "panel")).to_be_visible()
    await fd(visitor, "prechat-name").fill(name)
    await fd(visitor, "prechat-email").fill(email)
    await fd(visitor, "prechat-submit").click()
    await fd(visitor, "composer").fill(text)
    await fd(visitor, "send").click()
    await expect(widget_message(visitor, text)).to_be_visible()


async def test_visitor_and_agent_talk_with_visitor_details_and_navigation(site: Site) -> None:
    agent = await site.world.page_for(site.world.agent1)
    visitor = await site.visitor(path="/" + UTM)
    await expect(fd(visitor, "launcher")).to_be_visible()

    await start_chat(visitor, "Do you have size 44?")

    # The agent sees it live, with the visitor's details beside it.
    await expect(row(agent, "Deniz Kaya")).to_be_visible()
    await row(agent, "Deniz Kaya").click()
    await expect(bubble(agent, "Do you have size 44?")).to_be_visible()
    details = agent.get_by_test_id("visitor-section")
    await expect(details).to_contain_text("Istanbul")
    await expect(details).to_contain_text("newsletter")
    await expect(details).to_contain_text("Shop home")
    await expect(details).to_contain_text(VISITOR_IP)

    # Typing shows on the visitor's side, then the reply arrives.
    composer = agent.get_by_test_id("composer-input")
    await composer.press_sequentially("Yes, we")
    await expect(fd(visitor, "typing")).to_be_visible()
    await composer.fill("Yes, we have size 44 in black.")
    await composer.press("Enter")
    await expect(widget_message(visitor, "Yes, we have size 44 in black.")).to_be_visible()
    await expect(fd(visitor, "typing")).to_be_hidden()

    # Visitor typing shows to the agent.
    await fd(visitor, "composer").press_sequentially("Great")
    await expect(agent.get_by_test_id("typing-indicator")).to_be_visible()

    # Navigating keeps the conversation; the agent sees the new page.
    await visitor.click("#to-shoes")
    await visitor.wait_for_url("**/shoes")
    await expect(fd(visitor, "panel")).to_be_visible()  # it stays open across pages
    await expect(widget_message(visitor, "Do you have size 44?")).to_be_visible()
    await expect(widget_message(visitor, "Yes, we have size 44 in black.")).to_be_visible()
    await expect(details).to_contain_text("Shoes")
    await fd(visitor, "composer").fill("I will take them")
    await fd(visitor, "send").click()
    await expect(bubble(agent, "I will take them")).to_be_visible()


async def test_files_travel_both_ways(site: Site, tmp_path: Path) -> None:
    agent = await site.world.page_for(site.world.agent1)
    visitor = await site.visitor()
    await start_chat(visitor, "Here is a photo")
    photo = tmp_path / "shoe.png"
    photo.write_bytes(PNG)
    await fd(visitor, "file-input").set_input_files(str(photo))
    await expect(fd(visitor, "message").filter(has=visitor.locator("img"))).to_be_visible()

    await row(agent, "Deniz Kaya").click()
    await expect(agent.get_by_test_id("thread").locator('img[alt="shoe.png"]')).to_be_visible()

    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4\n%test\n")
    await agent.get_by_test_id("attach-input").set_input_files(str(receipt))
    await agent.get_by_test_id("composer-input").fill("Your receipt")
    await agent.get_by_test_id("composer-input").press("Enter")
    await expect(widget_message(visitor, "receipt.pdf")).to_be_visible()


async def test_oversize_upload_is_refused_with_a_clear_message(site: Site, tmp_path: Path) -> None:
    await site.world.page_for(site.world.agent1)
    visitor = await site.visitor()
    await start_chat(visitor, "A big file follows")
    big = tmp_path / "huge.png"
    big.write_bytes(PNG + b"\0" * (10 * 1_048_576))
    await fd(visitor, "file-input").set_input_files(str(big))
    await expect(fd(visitor, "error")).to_be_visible()
    await expect(fd(visitor, "error")).to_contain_text("10")
    await expect(fd(visitor, "message").filter(has_text="huge.png")).to_have_count(0)


async def test_offline_form_when_no_agent_is_online(site: Site) -> None:
    visitor = await site.visitor()
    await fd(visitor, "launcher").click()
    await expect(fd(visitor, "offline-form")).to_be_visible()
    await fd(visitor, "offline-name").fill("Sara Ahmadi")
    await fd(visitor, "offline-email").fill("sara@example.com")
    await fd(visitor, "offline-text").fill("Please call me back about my order")
    await fd(visitor, "offline-submit").click()
    await expect(fd(visitor, "offline-form")).to_be_hidden()

    agent = await site.world.page_for(site.world.agent1)
    await row(agent, "Sara Ahmadi").click()
    await expect(bubble(agent, "Please call me back about my order")).to_be_visible()


async def test_blocked_visitor_can_no_longer_chat(site: Site) -> None:
    agent = await site.world.page_for(site.world.agent1)
    visitor = await site.visitor()
    await start_chat(visitor, "Spam spam spam")
    await row(agent, "Deniz Kaya").click()
    await agent.get_by_test_id("contact-block").click()
    await agent.get_by_test_id("contact-block-confirm").click()
    await expect(agent.get_by_test_id("contact-blocked")).to_be_visible()
    await expect(fd(visitor, "blocked")).to_be_visible()
    await visitor.reload()
    await expect(fd(visitor, "launcher")).to_be_visible()
    if not await fd(visitor, "panel").is_visible():  # the panel remembers being open
        await fd(visitor, "launcher").click()
    await expect(fd(visitor, "blocked")).to_be_visible()
    await expect(fd(visitor, "composer")).to_have_count(0)


async def test_live_visitors_page_lets_an_agent_start_the_chat(site: Site) -> None:
    agent = await site.world.page_for(site.world.agent1)
    visitor = await site.visitor(path="/shoes")
    await agent.goto("/visitors")
    visitor_row = agent.get_by_test_id("visitor-row").filter(has_text="Istanbul")
    await expect(visitor_row).to_be_visible()
    await expect(visitor_row).to_contain_text("Shoes")
    await visitor_row.get_by_test_id("visitor-start-chat").click()
    await agent.get_by_test_id("start-chat-text").fill("Can I help you pick a size?")
    await agent.get_by_test_id("start-chat-send").click()
    await expect(fd(visitor, "panel")).to_be_visible()
    await expect(widget_message(visitor, "Can I help you pick a size?")).to_be_visible()


async def test_rating_prompt_after_the_conversation_is_resolved(site: Site) -> None:
    agent = await site.world.page_for(site.world.agent1)
    visitor = await site.visitor()
    await start_chat(visitor, "Thanks for the help")
    await row(agent, "Deniz Kaya").click()
    await agent.get_by_test_id("action-resolve").click()
    await expect(fd(visitor, "csat")).to_be_visible()
    await fd(visitor, "csat-star-5").click()
    await fd(visitor, "csat-submit").click()
    await expect(fd(visitor, "csat")).to_be_hidden()
    await expect(agent.get_by_test_id("csat-line")).to_have_attribute("data-rating", "5")


async def test_persian_widget_is_right_to_left(site: Site) -> None:
    await site.world.page_for(site.world.agent1)
    visitor = await site.visitor(locale="fa-IR")
    await fd(visitor, "launcher").click()
    panel = fd(visitor, "panel")
    await expect(panel).to_be_visible()
    assert await panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
    await expect(fd(visitor, "prechat-submit")).not_to_have_text("")
    label = await fd(visitor, "prechat-submit").inner_text()
    assert any("\u0600" <= ch <= "\u06ff" for ch in label), label


async def test_host_page_css_does_not_change_the_widget(site: Site) -> None:
    await site.world.page_for(site.world.agent1)
    plain = await site.visitor(path="/")
    hostile = await site.visitor(path="/aggressive")

    async def measure(page: Page) -> dict[str, Any]:
        await expect(fd(page, "launcher")).to_be_visible()
        box = await fd(page, "launcher").bounding_box()
        await fd(page, "launcher").click()
        await expect(fd(page, "panel")).to_be_visible()
        panel = await fd(page, "panel").bounding_box()
        style = await fd(page, "prechat-submit").evaluate(
            "el => { const s = getComputedStyle(el);"
            " return [s.fontSize, s.color, s.fontFamily, s.borderTopStyle, s.transform]; }"
        )
        return {"launcher": box, "panel": panel, "style": style}

    assert await measure(hostile) == await measure(plain)


async def test_message_flood_is_refused_with_a_clear_message_and_others_still_chat(site: Site) -> None:
    agent = await site.world.page_for(site.world.agent1)
    flooder = await site.visitor()
    await start_chat(flooder, "spam 0")
    composer = fd(flooder, "composer")
    for n in range(1, 12):  # the burst is 8 messages; the rest wait for the bucket to refill
        await composer.fill(f"spam {n}")
        await composer.press("Enter")
        if await fd(flooder, "error").is_visible():
            break
    await expect(fd(flooder, "error")).to_contain_text("Too many messages")
    await expect(composer).not_to_have_value("")  # the refused text is kept for later

    other = await site.visitor()
    await start_chat(other, "I am a different visitor", name="Ece Arslan", email="ece@example.com")
    await expect(row(agent, "Ece Arslan")).to_be_visible()


async def test_pre_chat_sent_before_the_first_session_answers_stays_one_visitor(site: Site) -> None:
    """A slow network: the page load's session request is still in flight when the visitor
    submits the pre-chat form. The form must wait for it and reuse its visitor, not start a
    second contact (which would split the details from the messages)."""
    agent = await site.world.page_for(site.world.agent1)
    context = await site.world.browser.new_context(
        locale="en-US", extra_http_headers={"X-Forwarded-For": VISITOR_IP}
    )
    site.world.contexts.append(context)
    held = 0
    pending: list[asyncio.Task[None]] = []

    async def release_later(route: Route) -> None:
        await asyncio.sleep(1.5)
        await route.continue_()

    async def hold_first_session(route: Route) -> None:
        # Returns at once (Playwright calls handlers one after another): only the first request
        # is held, in a task of its own.
        nonlocal held
        if route.request.method != "POST":
            await route.continue_()
            return
        held += 1
        if held == 1:
            pending.append(asyncio.create_task(release_later(route)))
        else:
            await route.continue_()

    await context.route("**/widget/v1/*/sessions", hold_first_session)
    visitor = await context.new_page()
    visitor.set_default_timeout(5_000)
    await visitor.goto(site.host.url + "/")
    await start_chat(visitor, "Quick question", name="Selin Aydın", email="selin@example.com")
    await asyncio.gather(*pending)  # the slow answer arrives last
    assert held >= 2
    await fd(visitor, "composer").fill("And a second one")
    await fd(visitor, "send").click()
    await row(agent, "Selin Aydın").click()
    await expect(bubble(agent, "Quick question")).to_be_visible()
    await expect(bubble(agent, "And a second one")).to_be_visible()
    async with site.world.server.services.db.read() as conn:
        contacts = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.contact_identities)
                .where(t.contact_identities.c.inbox_id == site.inbox_id)
            )
        ).scalar_one()
    assert contacts == 1
