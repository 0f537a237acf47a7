"""Reply windows in real Chromium (decision 0039): an API inbox with a 3-hour window. The
composer counts down from the customer's timestamp, turns amber in the last hour, and once the
window is closed offers exactly the ways on (here: the contact's email inbox, which opens the
New email dialog filled in and sends through a real SMTP relay); the API refuses the reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from frontdesk.actions.messages import do_add_identity
from frontdesk.store import tables as t
from tests.channels.email.email_support import (
    Relay,
    make_email_inbox,
    new_port,
    relay_fixture,
    relay_settings,
    rows,
)
from tests.e2e.conftest import World
from tests.e2e.test_dashboard import Shot
from tests.factories import make_inbox, message, post_inbound

RELAY_PORT = new_port()
pytestmark = pytest.mark.parametrize("server", [relay_settings(RELAY_PORT)], indirect=True)

relay = relay_fixture(RELAY_PORT)


async def open_conversation(page: Page, text: str) -> None:
    await page.get_by_test_id("conversation-row").filter(has_text=text).click()
    await expect(page.get_by_test_id("thread")).to_contain_text(text)


async def test_the_composer_counts_down_and_offers_the_ways_on_once_closed(
    world: World, relay: Relay, screenshot: Shot
) -> None:
    inbox = await make_inbox(
        world.http, world.admin, world.workspace_id, members=[world.agent1.user_id], reply_window_hours=3
    )
    now = datetime.now(UTC).replace(microsecond=0)

    async def customer(source_id: str, contact: str, text: str, sent: datetime) -> int:
        payload = message(source_id, contact, text, name=contact.title(), email=f"{contact}@customer.test")
        payload["timestamp"] = sent.isoformat().replace("+00:00", "Z")
        r = await post_inbound(world.http, inbox, payload)
        assert r.status_code == 200, r.text
        conversation_id: int = r.json()["results"][0]["conversation_id"]
        return conversation_id

    await customer("m-1", "ada", "Ada writes ten minutes ago", now - timedelta(minutes=10))
    await customer("m-2", "bea", "Bea writes two and a half hours ago", now - timedelta(hours=2, minutes=30))
    late = await customer("m-3", "cem", "Cem writes four hours ago", now - timedelta(hours=4))
    mail = await make_email_inbox(world.http, world.admin, world.workspace_id, from_name="Acme")
    put = await world.http.put(
        world.api(f"/inboxes/{mail['id']}/members"),
        headers=world.admin.headers,
        json={"user_ids": [world.agent1.user_id]},
    )
    assert put.status_code == 204, put.text
    [conv] = await rows(world.server, t.conversations, t.conversations.c.id == late)
    async with world.server.services.db.write() as tx:
        await do_add_identity(tx, mail["id"], "cem@customer.test", conv["contact_id"], datetime.now(UTC))

    page = await world.page_for(world.agent1)
    bar = page.get_by_test_id("reply-window")

    # Open: the countdown from the customer's own time.
    await open_conversation(page, "Ada writes ten minutes ago")
    await expect(bar).to_have_attribute("data-state", "open")
    await expect(page.get_by_test_id("reply-window-countdown")).to_have_text("Window closes in 2 h 50 min")
    await expect(page.get_by_test_id("composer-input")).to_be_enabled()

    # The last hour: amber.
    await open_conversation(page, "Bea writes two and a half hours ago")
    await expect(bar).to_have_attribute("data-state", "closing")
    await expect(page.get_by_test_id("reply-window-countdown")).to_have_text("Window closes in 0 h 30 min")
    color = await bar.evaluate("el => getComputedStyle(el).borderTopColor")
    away = await page.evaluate(
        "() => { const d = document.createElement('div'); d.style.color = 'var(--away)';"
        " document.body.append(d); const c = getComputedStyle(d).color; d.remove(); return c; }"
    )
    assert color == away, (color, away)
    await screenshot(page, "reply-window-closing")

    # Closed: free text off; the one way on is the contact's email inbox.
    await open_conversation(page, "Cem writes four hours ago")
    await expect(bar).to_have_attribute("data-state", "closed")
    await expect(page.get_by_test_id("reply-window-closed")).to_be_visible()
    await expect(page.get_by_test_id("composer-input")).to_be_disabled()
    await expect(page.get_by_test_id("composer-send")).to_be_disabled()
    await expect(page.get_by_test_id("way-template")).to_have_count(0)
    await expect(page.get_by_test_id("way-tagged")).to_have_count(0)
    await screenshot(page, "reply-window-closed")

    # The API refuses the reply all the same, and stores nothing.
    before = await rows(world.server, t.messages)
    refused = await world.http.post(
        world.api(f"/conversations/{late}/messages"), headers=world.agent1.headers, json={"text": "Hello?"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "reply_window_closed"
    assert refused.json()["error"]["details"] == {"allowed": ["other_inbox"]}
    assert await rows(world.server, t.messages) == before

    # Write by email instead: the New email dialog, on the email inbox, to the contact's address.
    await page.get_by_test_id("way-other-inbox").click()
    dialog = page.get_by_test_id("new-email-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("new-email-to")).to_have_value("cem@customer.test")
    await dialog.get_by_test_id("new-email-subject").fill("Your question")
    await dialog.get_by_test_id("new-email-text").fill("Hello Cem, answering by email.")
    await dialog.get_by_test_id("new-email-send").click()
    await expect(dialog).to_have_count(0)
    [sent] = await relay.wait(1)
    assert "cem@customer.test" in str(sent["To"])
    await expect(page.get_by_test_id("thread")).to_contain_text("answering by email")
    # The email conversation has no window: the composer is free.
    await expect(bar).to_have_count(0)
    await expect(page.get_by_test_id("composer-input")).to_be_enabled()
