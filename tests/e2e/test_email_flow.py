"""The email channel end to end (issue 5, first slice): a customer's mail reaches Frontdesk's own
SMTP listener at the inbox's hosted address, the agent answers it in the dashboard in real
Chromium, the reply leaves through a capturing relay threaded on the customer's mail, and the
customer's answer to that reply joins the same conversation."""

from __future__ import annotations

import email.utils

import pytest
from playwright.async_api import expect

from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_fixture,
    relay_settings,
)
from tests.e2e.conftest import World

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT, LISTEN_PORT)
pytestmark = pytest.mark.parametrize("server", [SETTINGS], indirect=True)


relay = relay_fixture(RELAY_PORT)


async def test_customer_mail_is_answered_from_the_dashboard_and_the_answer_threads(
    world: World, relay: Relay
) -> None:
    inbox = await make_email_inbox(world.http, world.admin, world.workspace_id, local_part="support")
    m = await world.http.put(
        world.api(f"/inboxes/{inbox['id']}/members"),
        headers=world.admin.headers,
        json={"user_ids": [world.agent1.user_id]},
    )
    assert m.status_code == 204, m.text
    address = f"support@acme.{MAIL_DOMAIN}"
    agent = await world.page_for(world.agent1)

    first_id = email.utils.make_msgid(domain="customer.test")
    refused = await deliver(
        LISTEN_PORT,
        [address],
        mail(address, "Sipariş nerede?", "Merhaba, 1042 numaralı siparişim gelmedi.", message_id=first_id),
    )
    assert refused == {}
    row = agent.get_by_test_id("conversation-row").filter(has_text="Ali Yılmaz")
    await expect(row).to_be_visible()
    await row.click()
    thread = agent.get_by_test_id("thread")
    await expect(thread).to_contain_text("siparişim gelmedi")

    composer = agent.get_by_test_id("composer-input")
    await composer.fill("Kargonuz yolda, yarın elinizde.")
    await composer.press("Enter")
    [reply] = await relay.wait(1)
    assert email.utils.parseaddr(str(reply["To"]))[1] == "ali@customer.test"
    assert reply["Subject"] == "Re: Sipariş nerede?"
    assert reply["In-Reply-To"] == first_id
    assert str(reply["Reply-To"]).startswith("reply+")
    body = reply.get_body(preferencelist=("plain",))
    assert body is not None and "Kargonuz yolda" in body.get_content()

    # The customer answers the reply from their mail client: it joins the open conversation.
    answer = mail(
        address,
        "Re: Re: Sipariş nerede?",
        "Teşekkürler!",
        headers={"In-Reply-To": str(reply["Message-ID"]), "References": f"{first_id} {reply['Message-ID']}"},
    )
    assert await deliver(LISTEN_PORT, [address], answer) == {}
    await expect(thread).to_contain_text("Teşekkürler!")
    await expect(agent.get_by_test_id("conversation-row").filter(has_text="Ali Yılmaz")).to_have_count(1)
