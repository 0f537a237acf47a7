"""An agent writes first to a customer by email from the conversation list, in real Chromium:
the New email dialog refuses a mistyped address in the server's words, then sends; the mail
reaches a real SMTP relay on 127.0.0.1 and the new conversation opens (issue 5)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.channels.email.email_support import (
    Relay,
    make_email_inbox,
    new_port,
    relay_fixture,
    relay_settings,
)
from tests.e2e.conftest import World

RELAY_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT)
pytestmark = pytest.mark.parametrize("server", [SETTINGS], indirect=True)


relay = relay_fixture(RELAY_PORT)


async def test_an_agent_starts_an_email_conversation(world: World, relay: Relay) -> None:
    inbox = await make_email_inbox(world.http, world.admin, world.workspace_id, from_name="Acme Destek")
    members = await world.http.put(
        world.api(f"/inboxes/{inbox['id']}/members"),
        headers=world.admin.headers,
        json={"user_ids": [world.agent1.user_id]},
    )
    assert members.status_code == 204, members.text
    page = await world.page_for(world.agent1)
    await page.get_by_test_id("new-email").click()
    dialog = page.get_by_test_id("new-email-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_test_id("new-email-to")).to_be_focused()
    await dialog.get_by_test_id("new-email-to").fill("ayse@localhost")
    await dialog.get_by_test_id("new-email-name").fill("Ayşe Kaya")
    await dialog.get_by_test_id("new-email-subject").fill("Siparişiniz hakkında")
    await dialog.get_by_test_id("new-email-text").fill("Merhaba Ayşe, siparişiniz yarın çıkıyor.")
    await dialog.get_by_test_id("new-email-send").click()
    await expect(dialog.get_by_test_id("new-email-error-to")).to_contain_text("is not an email address")

    await dialog.get_by_test_id("new-email-to").fill("ayse@customer.test")
    await dialog.get_by_test_id("new-email-send").click()
    await expect(dialog).to_have_count(0)
    [sent] = await relay.wait(1)
    assert str(sent["To"]) == "Ayşe Kaya <ayse@customer.test>"
    assert str(sent["Subject"]) == "Siparişiniz hakkında"
    # The new conversation is open, with the mail in it, and listed under the agent's own.
    await expect(page.get_by_test_id("thread")).to_contain_text("siparişiniz yarın çıkıyor")
    await expect(page.get_by_test_id("thread").get_by_test_id("email-subject")).to_have_text(
        "Siparişiniz hakkında"
    )
    await expect(page.get_by_test_id("conversation-row").filter(has_text="Ayşe Kaya")).to_be_visible()
