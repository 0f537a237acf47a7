"""The demo's customer page in Chromium beside the dashboard, for each simulated channel: the
customer writes on /demo/customer, the message appears live in the agent's list (the simulated
provider called the inbox's real webhook), the agent's reply typed in the composer reaches the
simulated provider and shows in the customer's chat (decision 0045)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from frontdesk.demo_sim.base import Simulator
from frontdesk.demo_sim.line import LineSimulator
from frontdesk.demo_sim.wechat import WechatSimulator
from tests.conftest import Server
from tests.factories import PASSWORD, Agent, make_admin
from tests.test_demo_simulated_channels import BOT_TOKEN, sim_http, sim_server
from tests.test_demo_simulated_line_wechat import LINE_SECRETS, WECHAT_SECRETS, make_inbox

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


@pytest.mark.parametrize(
    ("simulator", "settings", "secrets", "customer_name", "text", "answer"),
    [
        (
            LineSimulator,
            {"channel_id": "2000000091"},
            LINE_SECRETS,
            "Ayşe Kaya",
            "Siparişim nerede?",
            "Yarın sizde.",
        ),
        (
            WechatSimulator,
            {"app_id": "wxcustomerpage1", "message_mode": "safe"},
            WECHAT_SECRETS,
            "Li Wei",
            "我的包裹在哪里？",
            "明天到。",
        ),
    ],
    ids=["line", "wechat"],
)
async def test_line_and_wechat_customer_and_agent_talk_through_the_simulator(
    sim_server: Server,
    sim_http: httpx.AsyncClient,
    browser: Browser,
    simulator: type[Simulator],
    settings: dict[str, Any],
    secrets: dict[str, str],
    customer_name: str,
    text: str,
    answer: str,
) -> None:
    admin, ws = await make_admin(sim_server, sim_http)
    await make_inbox(sim_server, sim_http, admin, ws, simulator, settings, secrets)
    agent = await signed_in(browser, sim_server, admin)

    customer = await tab(browser, sim_server)
    await customer.goto("/demo/customer")
    await expect(customer.get_by_test_id("demo-inbox")).to_contain_text(f"{simulator.channel_type} shop")
    await customer.get_by_test_id("demo-name").fill(customer_name)
    await customer.get_by_test_id("demo-text").fill(text)
    await customer.get_by_test_id("demo-send").click()
    await expect(customer.get_by_test_id("demo-line-customer")).to_contain_text(text)

    # Signed by the simulator as the provider signs (LINE's HMAC, WeChat's SHA-1 and AES), live
    # in the agent's list without a reload.
    row = agent.get_by_test_id("conversation-row").filter(has_text=text)
    await expect(row).to_be_visible()
    await row.click()
    await agent.get_by_test_id("composer-input").fill(answer)
    await agent.get_by_test_id("composer-send").click()
    reply = agent.get_by_test_id("thread").get_by_test_id("message").filter(has_text=answer)
    await expect(reply).to_have_attribute("data-status", "sent")

    # The simulated provider took the reply (LINE's reply API, WeChat's customer-service API).
    await expect(customer.get_by_test_id("demo-line-business")).to_contain_text(answer)
    if simulator is LineSimulator:  # the profile job copied the LINE picture; the panel shows ours
        avatar = agent.get_by_test_id("contact-panel").get_by_test_id("contact-avatar")
        await expect(avatar).to_have_attribute("src", re.compile(r"^/files/contact-avatars/"))
        assert await avatar.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64
    for page in (agent, customer):
        await page.context.close()
