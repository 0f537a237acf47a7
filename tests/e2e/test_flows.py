"""Whole flows in a real Chromium against a real server, each driven through the dashboard (the
API only sets up data): password reset by email, invitations, inbox administration, presence,
resolve and snooze, retrying a failed reply, the Turkish interface and the dark theme."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from playwright.async_api import Browser, Page, expect

from frontdesk.app import create_app
from frontdesk.services import Services
from frontdesk.store import tables as t
from tests.conftest import QueryCounter, Server, free_port, make_settings
from tests.e2e.conftest import World
from tests.e2e.smtp import Mailbox, find_link, plain_text, smtp_server
from tests.factories import PASSWORD, Inbox, make_admin, message, post_inbound, receive

TURKISH_MONTHS = [
    *("Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran"),
    *("Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"),
]


Shot = Callable[[Page, str], Awaitable[None]]


def row(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("conversation-row").filter(has_text=text)


def bubble(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("thread").get_by_test_id("message").filter(has_text=text)


async def new_page(world: World) -> Page:
    """A tab of a fresh browser profile: nobody signed in."""
    context = await world.browser.new_context(
        base_url=world.server.url, locale="en-GB", viewport={"width": 1400, "height": 900}
    )
    world.contexts.append(context)
    page = await context.new_page()
    page.set_default_timeout(5_000)
    return page


# --- forgotten password, through a real SMTP server -------------------------------------------


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
async def mailing_server(database_url: str, tmp_path: Path, mailbox: Mailbox) -> AsyncIterator[Server]:
    """Like the `server` fixture, but its port is chosen first so that the links in its emails
    (built from public_url) lead back to it, as they would in production."""
    port = free_port()
    settings = make_settings(
        database_url,
        tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_starttls=False,
        mail_from="Desk <desk@example.com>",
        public_url=f"http://127.0.0.1:{port}",
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="websockets-sansio"
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(500):
        if uv.started:
            break
        await asyncio.sleep(0.01)
    services: Services = app.state.services
    try:
        yield Server(url=f"http://127.0.0.1:{port}", services=services, counter=QueryCounter())
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_forgotten_password_is_reset_from_the_emailed_link(
    mailing_server: Server, mailbox: Mailbox, browser: Browser
) -> None:
    server = mailing_server
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        admin, _ = await make_admin(server, http)
    context = await browser.new_context(base_url=server.url, locale="en-GB")
    try:
        page = await context.new_page()
        page.set_default_timeout(5_000)
        await page.goto("/login")
        await page.get_by_role("link", name="Forgot your password?").click()
        await expect(page).to_have_url(f"{server.url}/forgot-password")
        await page.get_by_test_id("forgot-email").fill(admin.email)
        await page.get_by_test_id("forgot-submit").click()
        await expect(page.get_by_test_id("forgot-done")).to_contain_text(admin.email)

        [mail] = await mailbox.wait(1)
        assert mail["To"] == admin.email
        link = find_link(plain_text(mail), server.url, "reset-password")
        await page.goto(link)
        await page.get_by_test_id("reset-password").fill("a-brand-new-secret")
        await page.get_by_test_id("reset-password2").fill("a-brand-new-secret")
        await page.get_by_test_id("reset-submit").click()
        await expect(page.get_by_test_id("reset-done")).to_be_visible()

        await page.get_by_test_id("reset-sign-in").click()
        await expect(page).to_have_url(f"{server.url}/login")
        await page.get_by_test_id("login-email").fill(admin.email)
        await page.get_by_test_id("login-password").fill(PASSWORD)  # the old one no longer works
        await page.get_by_test_id("login-submit").click()
        await expect(page.get_by_test_id("login-error")).to_be_visible()
        await page.get_by_test_id("login-password").fill("a-brand-new-secret")
        await page.get_by_test_id("login-submit").click()
        await expect(page.get_by_test_id("conversation-list")).to_be_visible()
        # The link was for one use only.
        await page.goto(link)
        await page.get_by_test_id("reset-password").fill("yet-another-secret")
        await page.get_by_test_id("reset-password2").fill("yet-another-secret")
        await page.get_by_test_id("reset-submit").click()
        await expect(page.get_by_test_id("reset-error")).to_be_visible()
    finally:
        await context.close()


# --- invitation -------------------------------------------------------------------------------


async def test_invited_person_accepts_and_lands_signed_in(world: World) -> None:
    admin = await world.page_for(world.admin)
    await admin.get_by_test_id("nav-admin").click()
    await admin.get_by_test_id("admin-nav-agents").click()
    await admin.get_by_test_id("invite-email").fill("newcomer@example.com")
    await admin.get_by_test_id("invite-role").select_option("supervisor")
    await admin.get_by_test_id("invite-submit").click()
    link = await admin.get_by_test_id("invite-link").input_value()
    assert link.startswith(f"{world.server.url}/accept-invitation?token="), link

    page = await new_page(world)
    await page.goto(link)
    await expect(page.get_by_test_id("accept-email")).to_have_value("newcomer@example.com")
    await expect(page.get_by_test_id("accept-workspace")).to_have_text("Acme")
    await page.get_by_test_id("accept-name").fill("Nour Newcomer")
    await page.get_by_test_id("accept-password").fill("newcomer-password")
    await page.get_by_test_id("accept-submit").click()
    await expect(page).to_have_url(f"{world.server.url}/inbox")
    await expect(page.get_by_test_id("conversation-list")).to_be_visible()

    members = await world.http.get(world.api("/members"), headers=world.admin.headers)
    joined = [m for m in members.json() if m["email"] == "newcomer@example.com"]
    assert [(m["name"], m["role"]) for m in joined] == [("Nour Newcomer", "supervisor")]
    # The same link cannot be used twice.
    again = await new_page(world)
    await again.goto(link)
    await expect(again.get_by_test_id("accept-invalid")).to_be_visible()


# --- inbox administration ---------------------------------------------------------------------


async def stored_messages(world: World, inbox_id: int) -> int:
    async with world.server.services.db.read() as conn:
        count = await conn.execute(
            sa.select(sa.func.count()).select_from(t.messages).where(t.messages.c.inbox_id == inbox_id)
        )
        return int(count.scalar_one())


async def test_admin_creates_an_api_inbox_then_disables_it(world: World, screenshot: Shot) -> None:
    page = await world.page_for(world.admin)
    await page.get_by_test_id("nav-admin").click()
    await page.get_by_test_id("admin-nav-inboxes").click()
    await page.get_by_test_id("inbox-add").click()
    editor = page.get_by_test_id("inbox-editor")
    await editor.get_by_test_id("inbox-type-api").click()
    await editor.get_by_test_id("inbox-name").fill("Mobile app")
    await editor.get_by_test_id("inbox-setting-webhook_url").fill(world.receiver.url)
    await editor.get_by_test_id("inbox-save").click()

    created = page.get_by_test_id("inbox-created")
    await expect(created).to_be_visible()
    await screenshot(page, "admin-inbox-created")
    webhook_url = await created.get_by_test_id("inbox-webhook-url").inner_text()
    secret = await created.get_by_test_id("inbox-created-secret-hmac_secret").inner_text()
    assert webhook_url.startswith(f"{world.server.url}/webhooks/api/"), webhook_url
    assert len(secret) >= 16, secret
    new_row = page.get_by_test_id("inbox-row").filter(has_text="Mobile app")
    inbox_id = int(await new_row.get_attribute("data-id") or "0")
    inbox = Inbox(inbox_id, webhook_url.removeprefix(world.server.url), secret)
    detail = await world.http.get(world.api(f"/inboxes/{inbox_id}"), headers=world.admin.headers)
    assert detail.json()["settings"]["webhook_url"] == world.receiver.url

    # The secret shown is the one that signs: a customer message is accepted while enabled.
    assert (await post_inbound(world.http, inbox, message("before"))).status_code == 200
    await created.get_by_test_id("inbox-created-close").click()
    await expect(created).to_be_hidden()
    await page.reload()
    await expect(page.get_by_test_id("inbox-row").filter(has_text="Mobile app")).to_be_visible()
    assert secret not in await page.content()  # shown once, never again

    toggle = page.get_by_test_id("inbox-row").filter(has_text="Mobile app").get_by_test_id("inbox-toggle")
    await expect(toggle).to_be_checked()
    await toggle.click()
    await expect(toggle).not_to_be_checked()
    await expect(toggle).to_be_enabled()  # the PATCH has been answered
    detail = await world.http.get(world.api(f"/inboxes/{inbox_id}"), headers=world.admin.headers)
    assert detail.json()["is_enabled"] is False

    refused = await post_inbound(world.http, inbox, message("after", text="Anyone there?"))
    assert refused.status_code == 410, refused.text
    assert refused.json()["error"]["code"] == "inbox_disabled"
    assert await stored_messages(world, inbox_id) == 1
    # Still disabled after a reload: the state came from the server.
    await page.reload()
    await expect(
        page.get_by_test_id("inbox-row").filter(has_text="Mobile app").get_by_test_id("inbox-toggle")
    ).not_to_be_checked()


# --- presence ---------------------------------------------------------------------------------


async def test_away_shows_live_on_the_admins_agents_page(world: World) -> None:
    agent = await world.page_for(world.agent1)
    admin = await world.page_for(world.admin)
    await admin.get_by_test_id("nav-admin").click()
    await admin.get_by_test_id("admin-nav-agents").click()
    dot = admin.locator(f'[data-testid="agent-row"][data-id="{world.agent1.user_id}"]').get_by_test_id(
        "agent-presence"
    )
    await expect(dot).to_have_attribute("data-status", "online")

    await agent.get_by_test_id("presence-switch").click()
    await agent.get_by_test_id("presence-option-away").click()
    await expect(agent.get_by_test_id("presence-switch")).to_have_attribute("data-status", "away")
    await expect(dot).to_have_attribute("data-status", "away", timeout=2_000)
    # Away means "no new chats": a new unassigned chat raises no pop-up for this agent.
    await receive(world.http, world.inbox, "m-away", "c-away", "Anyone there while you are away?")
    await expect(row(agent, "Anyone there while you are away?")).to_be_visible(timeout=2_000)
    await agent.wait_for_timeout(300)  # the stream's events are applied; a toast would be up now
    await expect(agent.get_by_test_id("toast")).to_have_count(0)

    await agent.get_by_test_id("presence-switch").click()
    await agent.get_by_test_id("presence-option-online").click()
    await expect(dot).to_have_attribute("data-status", "online", timeout=2_000)
    await receive(world.http, world.inbox, "m-back", "c-back", "And now that you are back?")
    toast = agent.get_by_test_id("toast").filter(has_text="And now that you are back?")
    await expect(toast).to_be_visible(timeout=2_000)


# --- resolve and snooze -----------------------------------------------------------------------


async def test_resolve_moves_it_to_archive_and_snooze_sets_snoozed(world: World) -> None:
    first = await receive(world.http, world.inbox, "m-1", "c-1", "Please close my ticket")
    second = await receive(world.http, world.inbox, "m-2", "c-2", "Remind me tomorrow")
    page = await world.page_for(world.agent1)
    # A teammate watching the same inbox sees it leave through the stream, without reloading.
    teammate = await world.page_for(world.agent2)
    await expect(row(teammate, "Please close my ticket")).to_be_visible()
    await row(page, "Please close my ticket").click()
    await page.get_by_test_id("action-resolve").click()
    await expect(page.get_by_test_id("conversation-status")).to_have_attribute("data-status", "resolved")
    await expect(row(page, "Please close my ticket")).to_have_count(0, timeout=2_000)
    await expect(row(teammate, "Please close my ticket")).to_have_count(0, timeout=2_000)
    await expect(row(teammate, "Remind me tomorrow")).to_be_visible()
    await expect(row(page, "Remind me tomorrow")).to_be_visible()
    await page.get_by_test_id("view-tab-archive").click()
    await expect(row(page, "Please close my ticket").get_by_test_id("row-status")).to_have_text("Resolved")

    await page.get_by_test_id("view-tab-inbox").click()
    await row(page, "Remind me tomorrow").click()
    await page.get_by_test_id("action-snooze").click()
    await page.get_by_test_id("snooze-option-hour").click()
    await expect(page.get_by_test_id("conversation-status")).to_have_attribute("data-status", "snoozed")
    # The Inbox view lists open conversations only.
    await expect(row(page, "Remind me tomorrow")).to_have_count(0, timeout=2_000)
    await expect(row(teammate, "Remind me tomorrow")).to_have_count(0, timeout=2_000)

    for result, status in ((first, "resolved"), (second, "snoozed")):
        r = await world.http.get(
            world.api(f"/conversations/{result['conversation_id']}"), headers=world.agent1.headers
        )
        assert r.json()["status"] == status, r.text
    snoozed = await world.http.get(
        world.api(f"/conversations/{second['conversation_id']}"), headers=world.agent1.headers
    )
    until = datetime.fromisoformat(snoozed.json()["snoozed_until"])
    minutes = (until - datetime.now(until.tzinfo)).total_seconds() / 60
    assert 55 < minutes <= 60, until


# --- retrying a failed reply ------------------------------------------------------------------


async def test_failed_reply_shows_the_reason_and_is_retried(world: World) -> None:
    await receive(world.http, world.inbox, "m-1", "c-1", "Did my refund go through?")
    world.receiver.status = 400  # a final refusal: the queue does not try again by itself
    page = await world.page_for(world.agent1)
    await row(page, "Did my refund go through?").click()
    await page.get_by_test_id("composer-input").fill("Yes, it was sent on Monday")
    await page.get_by_test_id("composer-send").click()
    reply = bubble(page, "Yes, it was sent on Monday")
    await expect(reply).to_have_attribute("data-status", "failed", timeout=5_000)
    # The reason in the agent's language; the receiver's own words beneath it, as they were.
    await expect(reply.get_by_test_id("failure-reason")).to_have_text("The provider refused the reply.")
    await expect(reply.get_by_test_id("failure-detail")).to_contain_text("webhook receiver answered HTTP 400")
    assert [d.status for d in world.receiver.deliveries] == [400]

    world.receiver.status = 200
    await reply.get_by_test_id("message-retry").click()
    await expect(reply).to_have_attribute("data-status", "sent", timeout=5_000)
    await expect(reply.get_by_test_id("failure-reason")).to_have_count(0)
    assert [d.status for d in world.receiver.deliveries] == [400, 200]
    assert len(world.receiver.delivered) == 1


# --- Turkish interface ------------------------------------------------------------------------


async def test_turkish_interface_texts_and_dates(world: World, screenshot: Shot) -> None:
    r = await world.http.patch("/api/v1/me", headers=world.agent1.headers, json={"locale": "tr"})
    assert r.status_code == 200, r.text
    await receive(world.http, world.inbox, "m-1", "c-1", "Siparişim nerede?")
    # The browser itself says English: the agent's saved language wins.
    page = await world.page_for(world.agent1, locale="en-GB")
    await expect(page.locator("html")).to_have_attribute("lang", "tr")
    await expect(page.get_by_test_id("nav-conversations")).to_have_attribute("title", "Konuşmalar")
    await expect(page.get_by_test_id("nav-settings")).to_have_attribute("title", "Ayarlar")
    await expect(page.get_by_test_id("view-tab-inbox")).to_contain_text("Gelen kutusu")
    await expect(page.get_by_test_id("view-tab-archive")).to_contain_text("Arşiv")

    await row(page, "Siparişim nerede?").click()
    composer = page.get_by_test_id("composer-input")
    await expect(composer).to_have_attribute("placeholder", "Yanıtınızı yazın… (hazır yanıtlar için / yazın)")
    await expect(page.get_by_test_id("composer-send")).to_contain_text("Gönder")
    await expect(page.get_by_test_id("conversation-status")).to_contain_text("Açık")
    # The day above the message is written the Turkish way, e.g. "24 Kasım 2026 Salı".
    day = await page.get_by_test_id("day-separator").first.inner_text()
    assert TURKISH_MONTHS[datetime.now().month - 1] in day, day
    await screenshot(page, "tr-conversation")


# --- dark theme -------------------------------------------------------------------------------


async def test_dark_theme_is_saved_and_survives_reload(world: World, screenshot: Shot) -> None:
    page = await world.page_for(world.agent1)
    html = page.locator("html")
    await expect(html).to_have_attribute("data-theme", "light")
    await page.get_by_test_id("nav-settings").click()
    await page.get_by_test_id("settings-nav-preferences").click()
    await page.get_by_test_id("pref-theme-dark").click()
    await page.get_by_test_id("prefs-save").click()
    await expect(page.get_by_test_id("prefs-saved")).to_be_visible()
    await expect(html).to_have_attribute("data-theme", "dark")

    await page.reload()
    await expect(page.get_by_test_id("pref-theme")).to_have_attribute("data-value", "dark")
    await expect(html).to_have_attribute("data-theme", "dark")
    await page.get_by_test_id("nav-conversations").click()  # and on every other screen
    await expect(page.get_by_test_id("conversation-list")).to_be_visible()
    await expect(html).to_have_attribute("data-theme", "dark")
    await screenshot(page, "dark-inbox")
    me = await world.http.get("/api/v1/me", headers=world.agent1.headers)
    assert me.json()["preferences"]["theme"] == "dark"
