"""The demo's customer page in Chromium beside the dashboard, for each simulated channel: the
customer writes on /demo/customer, the message appears live in the agent's list (the simulated
provider called the inbox's real webhook), the agent's reply typed in the composer reaches the
simulated provider and shows in the customer's chat (decision 0045)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from playwright.async_api import Browser, Page, expect

from tests.conftest import Server
from tests.factories import PASSWORD, Agent, make_admin
from tests.test_demo_simulated_channels import BOT_TOKEN, sim_http, sim_server

__all__ = ["sim_http", "sim_server"]  # the fixtures, used here by name
Shot = Callable[[Page, str], Awaitable[None]]


async def tab(browser: Browser, server: Server) -> Page:
    context = await browser.new_context(
        base_url=server.url, locale="en-GB", viewport={"width": 1400, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(5_000)
    return page


async def signed_in(browser: Browser, server: Server, agent: Agent) -> Page:
    page = await tab(browser, server)
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(agent.email)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("conversation-list")).to_be_visible()
    return page


async def test_telegram_customer_and_agent_talk_through_the_simulator(
    sim_server: Server, sim_http: httpx.AsyncClient, browser: Browser, screenshot: Shot
) -> None:
    admin, ws = await make_admin(sim_server, sim_http)
    made = await sim_http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=admin.headers,
        json={
            "name": "Telegram (simulated)",
            "channel_type": "telegram",
            "secrets": {"bot_token": BOT_TOKEN},
        },
    )
    assert made.status_code == 201 and made.json()["setup_warning"] is None, made.text
    agent = await signed_in(browser, sim_server, admin)

    customer = await tab(browser, sim_server)
    await customer.goto("/demo/customer")
    await expect(customer.get_by_test_id("demo-inbox")).to_contain_text("Telegram (simulated)")
    await customer.get_by_test_id("demo-name").fill("Ali Veli")
    await customer.get_by_test_id("demo-text").fill("Merhaba, kargom nerede?")
    await customer.get_by_test_id("demo-send").click()
    await expect(customer.get_by_test_id("demo-line-customer")).to_contain_text("Merhaba, kargom nerede?")

    # Live in the agent's list, no reload.
    row = agent.get_by_test_id("conversation-row").filter(has_text="Merhaba, kargom nerede?")
    await expect(row).to_be_visible()
    await row.click()
    await agent.get_by_test_id("composer-input").fill("Bugün kargoda, Ali.")
    await agent.get_by_test_id("composer-send").click()
    reply = agent.get_by_test_id("thread").get_by_test_id("message").filter(has_text="Bugün kargoda, Ali.")
    await expect(reply).to_have_attribute("data-status", "sent")

    # The simulated Bot API took the sendMessage; the customer's chat shows it.
    await expect(customer.get_by_test_id("demo-line-business")).to_contain_text("Bugün kargoda, Ali.")
    await screenshot(customer, "demo-customer-telegram")

    # A file from the page's picker goes too (base64 in the page's request, getFile at arrival).
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    await customer.get_by_test_id("demo-file").set_input_files(
        files=[{"name": "mug.png", "mimeType": "image/png", "buffer": png}]
    )
    await customer.get_by_test_id("demo-send").click()
    await expect(customer.get_by_test_id("demo-line-customer").last).to_contain_text("mug.png")
    # Fetched from the simulator by the media job, then shown inline to the agent.
    await expect(agent.get_by_test_id("thread").locator('img[alt="mug.png"]')).to_be_visible()
    for page in (agent, customer):
        await page.context.close()
