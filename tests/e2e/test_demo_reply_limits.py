"""The channels' limits in the composer, in Chromium, against the demo's simulated providers
(decision 0045): WeChat's 48-hour window and its five replies (the simulator keeps the same rule),
and LINE's monthly quota read from the simulator by the channel's real quota poller."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa
from playwright.async_api import Browser, expect

from frontdesk.channels.line.quota import read_all_quotas
from frontdesk.demo_sim.line import LineSimulator
from frontdesk.demo_sim.wechat import WechatSimulator
from frontdesk.store import tables as t
from tests.conftest import Server
from tests.e2e.test_demo_customer import Shot, signed_in
from tests.factories import make_admin
from tests.test_demo_simulated_channels import (
    as_customer,
    chat_lines,
    reply_to_only_conversation,
    sim_http,
    sim_server,
)
from tests.test_demo_simulated_line_wechat import LINE_SECRETS, WECHAT_SECRETS, make_inbox

__all__ = ["sim_http", "sim_server"]  # the fixtures, used here by name


async def customer_wrote(server: Server, ago: timedelta) -> None:
    """Move the only conversation's last customer message back in time, as if it were older."""
    c = t.conversations
    async with server.services.db.write() as tx:
        await tx.conn.execute(c.update().values(customer_last_at=datetime.now(UTC) - ago))


async def test_wechat_composer_shows_the_window_and_closes_after_five_replies(
    sim_server: Server, sim_http: httpx.AsyncClient, browser: Browser
) -> None:
    admin, ws = await make_admin(sim_server, sim_http)
    settings = {"app_id": "wxwindowtest1", "message_mode": "safe"}
    _, uid, _ = await make_inbox(sim_server, sim_http, admin, ws, WechatSimulator, settings, WECHAT_SECRETS)
    assert (await as_customer(sim_http, f"wechat/{uid}", "Li Wei", "还在吗？")).status_code == 200
    for n in range(4):
        await reply_to_only_conversation(sim_http, admin, ws, f"Reply {n + 1}")

    page = await signed_in(browser, sim_server, admin)
    await page.get_by_test_id("conversation-row").filter(has_text="Reply 4").click()
    bar = page.get_by_test_id("reply-window")
    await expect(bar).to_have_attribute("data-state", "open")
    await expect(page.get_by_test_id("reply-window-countdown")).to_have_text(
        re.compile(r"Window closes in (47 h 59|48 h 0) min")
    )
    await expect(page.get_by_test_id("reply-window-left")).to_contain_text("1 message left")

    # The fifth and last reply through the composer reaches the simulated WeChat.
    await page.get_by_test_id("composer-input").fill("Reply 5")
    await page.get_by_test_id("composer-send").click()
    sent = page.get_by_test_id("thread").get_by_test_id("message").filter(has_text="Reply 5")
    await expect(sent).to_have_attribute("data-status", "sent")
    business = [
        e["text"] for e in await chat_lines(sim_http, f"wechat/{uid}", "Li Wei") if e["side"] == "business"
    ]
    assert business == [f"Reply {n}" for n in range(1, 6)]
    await expect(bar).to_have_attribute("data-state", "closed")
    await expect(page.get_by_test_id("reply-window-closed")).to_contain_text("reply window is closed")
    await expect(page.get_by_test_id("composer-input")).to_be_disabled()
    await expect(page.get_by_test_id("composer-send")).to_be_disabled()
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await sim_http.get(base, headers=admin.headers)).json()["conversations"]
    refused = await sim_http.post(
        f"{base}/{conversation['id']}/messages", headers=admin.headers, json={"text": "Reply 6"}
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "reply_limit_reached"

    # The customer writes again: five more; 48 hours later the window is closed.
    assert (await as_customer(sim_http, f"wechat/{uid}", "Li Wei", "谢谢")).status_code == 200
    await expect(page.get_by_test_id("reply-window-left")).to_contain_text("5 messages left")
    await customer_wrote(sim_server, timedelta(hours=48, minutes=1))
    await page.reload()
    await expect(bar).to_have_attribute("data-state", "closed")
    await expect(page.get_by_test_id("composer-input")).to_be_disabled()
    await page.context.close()


async def test_line_quota_used_up_shows_in_the_composer_and_on_the_inbox_page(
    sim_server: Server, sim_http: httpx.AsyncClient, browser: Browser
) -> None:
    admin, ws = await make_admin(sim_server, sim_http)
    inbox_id, uid, sim = await make_inbox(
        sim_server, sim_http, admin, ws, LineSimulator, {"channel_id": "2000000077"}, LINE_SECRETS
    )
    assert (await as_customer(sim_http, f"line/{uid}", "Ayşe", "Merhaba?")).status_code == 200
    # The month's pushes are used up at LINE; the channel's poller reads it into the inbox.
    async with sim.store.edit("line") as state:
        state["accounts"][uid].update(quota=200, used=200)
    await read_all_quotas(sim_server.services)
    async with sim_server.services.db.read() as conn:
        kept = (
            await conn.execute(sa.select(t.inboxes.c.settings).where(t.inboxes.c.id == inbox_id))
        ).scalar_one()
    assert kept["quota"]["limit"] == 200 and kept["quota"]["used"] == 200
    # A minute later the customer's reply token is gone too: nothing can go.
    await customer_wrote(sim_server, timedelta(minutes=2))

    page = await signed_in(browser, sim_server, admin)
    await page.get_by_test_id("conversation-row").filter(has_text="Merhaba?").click()
    await expect(page.get_by_test_id("reply-window")).to_have_attribute("data-state", "closed")
    await expect(page.get_by_test_id("reply-window-closed")).to_contain_text(
        "monthly message quota is used up"
    )
    await expect(page.get_by_test_id("composer-input")).to_be_disabled()

    await page.get_by_test_id("nav-admin").click()
    await page.get_by_test_id("admin-nav-inboxes").click()
    await (
        page.locator(f'[data-testid="inbox-row"][data-id="{inbox_id}"]').get_by_test_id("inbox-edit").click()
    )
    quota = page.get_by_test_id("inbox-quota")
    await expect(quota).to_have_attribute("data-level", "full")
    await expect(quota).to_contain_text("Messages used this month: 200 of 200.")
    await expect(quota).to_contain_text("This month's messages are used up")
    await page.context.close()


async def test_administrators_see_the_quota_warning_arrive_live(
    sim_server: Server, sim_http: httpx.AsyncClient, browser: Browser, screenshot: Shot
) -> None:
    admin, ws = await make_admin(sim_server, sim_http)
    inbox_id, uid, sim = await make_inbox(
        sim_server, sim_http, admin, ws, LineSimulator, {"channel_id": "2000000078"}, LINE_SECRETS
    )
    page = await signed_in(browser, sim_server, admin)
    banner = page.locator(f'[data-testid="quota-banner"][data-inbox-id="{inbox_id}"]')
    await expect(banner).to_have_count(0)

    async def used(count: int) -> None:
        async with sim.store.edit("line") as state:
            state["accounts"][uid].update(quota=200, used=count)
        await read_all_quotas(sim_server.services)

    await used(170)  # past 80 %: the poller's event reaches the open dashboard
    await expect(banner).to_have_attribute("data-level", "high")
    await expect(banner).to_contain_text("line shop: 170 of this month's 200 messages are used.")
    await used(200)
    await expect(banner).to_have_attribute("data-level", "full")
    await expect(banner).to_contain_text("all 200 of this month's messages are used")
    await screenshot(page, "line-quota-banner")
    await banner.get_by_test_id("quota-banner-close").click()
    await expect(banner).to_have_count(0)
    # Kept with the inbox: after a reload the warning is there again.
    await page.reload()
    await expect(banner).to_have_attribute("data-level", "full")
    await page.context.close()
