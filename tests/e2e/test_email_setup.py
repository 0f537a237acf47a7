"""The email channel's other two ways, set up by an administrator in the dashboard in real
Chromium (issue 5, E2 and E3):

- your own mail server: the IMAP and SMTP fields appear for that choice; Test connection with a
  wrong password names the failing stage in Dovecot's words; with the right one every stage
  passes; after saving, a customer's mail put on the real Dovecot appears in the inbox and the
  agent's reply leaves through the company's SMTP server (login over TLS);
- your own address: after saving, the DNS records appear; Check DNS against a real DNS server on
  127.0.0.1 says which are right and which are wrong, and the fixed record is then right.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from playwright.async_api import Page, expect

from frontdesk.store import tables as t
from tests.channels.email.dns_server import dns_server
from tests.channels.email.dovecot import PASSWORD, SHARED_CERT, USER, Dovecot, dovecot_fixture  # noqa: F401 (a fixture)
from tests.channels.email.email_support import MAIL_DOMAIN, mail, new_port
from tests.channels.email.test_email_own_smtp import PASSWORD as SMTP_PASSWORD
from tests.channels.email.test_email_own_smtp import USER as SMTP_USER
from tests.channels.email.test_email_own_smtp import own_smtp
from tests.e2e.conftest import World

SMTP_PORT = new_port()
DNS_PORT = new_port()
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "mail_ca_file": SHARED_CERT.ca_file,
    "imap_poll_seconds": 300.0,  # only IDLE brings the mail within the waits
    "dns_servers": f"127.0.0.1:{DNS_PORT}",
}
pytestmark = [
    pytest.mark.parametrize("server", [SETTINGS], indirect=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


async def import_state(world: World) -> list[dict[str, Any]]:
    """What the importer recorded: shown when the imported mail does not appear."""
    async with world.server.services.db.read() as conn:
        rows = (await conn.execute(sa.select(t.imap_states))).mappings().all()
        return [dict(r) for r in rows]


async def open_new_email_inbox(page: Page, name: str, mode: str) -> None:
    await page.get_by_test_id("nav-admin").click()
    await page.get_by_test_id("admin-nav-inboxes").click()
    await page.get_by_test_id("inbox-add").click()
    editor = page.get_by_test_id("inbox-editor")
    # The channel picker works from the keyboard: the cards are radio buttons (api, email, web).
    await editor.get_by_test_id("inbox-type-api").locator("input").focus()
    await page.keyboard.press("ArrowRight")
    await expect(editor.get_by_test_id("inbox-type-email").locator("input")).to_be_checked()
    await editor.get_by_test_id("inbox-name").fill(name)
    await expect(editor.get_by_test_id("inbox-setting-imap_host")).to_have_count(0)
    await editor.get_by_test_id("inbox-setting-address_mode").select_option(mode)


async def test_admin_sets_up_an_inbox_on_the_company_mail_server(world: World, dovecot: Dovecot) -> None:
    page = await world.page_for(world.admin)
    await open_new_email_inbox(page, "Shop mail", "own_server")
    editor = page.get_by_test_id("inbox-editor")
    await editor.get_by_test_id("inbox-setting-own_address").fill("help@shop.example")
    await editor.get_by_test_id("inbox-setting-imap_host").fill("127.0.0.1")
    await editor.get_by_test_id("inbox-setting-imap_port").fill(str(dovecot.imaps_port))
    await editor.get_by_test_id("inbox-setting-imap_username").fill(USER)
    await editor.get_by_test_id("inbox-setting-smtp_host").fill("127.0.0.1")
    await editor.get_by_test_id("inbox-setting-smtp_port").fill(str(SMTP_PORT))
    await editor.get_by_test_id("inbox-setting-smtp_security").select_option("ssl")
    await editor.get_by_test_id("inbox-setting-smtp_username").fill(SMTP_USER)
    await editor.get_by_test_id("inbox-secret-imap_password").fill("not the password")
    await editor.get_by_test_id("inbox-secret-smtp_password").fill(SMTP_PASSWORD)
    # The DKIM key is Frontdesk's business in "own address" mode only.
    await expect(editor.get_by_test_id("inbox-secret-dkim_private_key")).to_have_count(0)

    with own_smtp("ssl", cert=SHARED_CERT, port=SMTP_PORT) as smtp:
        check = editor.get_by_test_id("email-server-check")
        await check.get_by_test_id("email-test-connection").click()
        imap = check.get_by_test_id("email-test-imap")
        await expect(imap).to_have_attribute("data-ok", "false", timeout=25_000)
        await expect(imap.locator('[data-stage="login"]')).to_have_attribute("data-state", "failed")
        await expect(imap.locator('[data-stage="tls"]')).to_have_attribute("data-state", "ok")
        await expect(check.get_by_test_id("email-test-imap-detail")).to_contain_text("Authentication failed")
        await expect(check.get_by_test_id("email-test-smtp")).to_have_attribute("data-ok", "true")

        await editor.get_by_test_id("inbox-secret-imap_password").fill(PASSWORD)
        await check.get_by_test_id("email-test-connection").click()
        # Dovecot slows the next login from an address that just failed one.
        await expect(imap).to_have_attribute("data-ok", "true", timeout=25_000)
        await expect(imap.locator('[data-state="ok"]')).to_have_count(5)

        await (
            page.get_by_test_id("inbox-editor").get_by_test_id(f"inbox-member-{world.agent1.user_id}").check()
        )
        await editor.get_by_test_id("inbox-save").click()
        await expect(page.get_by_test_id("inbox-created")).to_be_visible()

        dovecot.append(
            mail("help@shop.example", "Kargo", "Merhaba, kargom nerede?", message_id="<k1@customer.test>")
        )
        agent = await world.page_for(world.agent1)
        row = agent.get_by_test_id("conversation-row").filter(has_text="Ali Yılmaz")
        # The save wakes the import at once; 45 s leaves room for a missed wake-up (30 s scan).
        try:
            await expect(row).to_be_visible(timeout=45_000)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nimport state: {await import_state(world)}") from None
        await row.click()
        composer = agent.get_by_test_id("composer-input")
        await composer.fill("Yarın teslim edilecek.")
        await composer.press("Enter")
        [sent] = await smtp.wait(1)
    assert str(sent["From"]) == "help@shop.example"
    assert sent["In-Reply-To"] == "<k1@customer.test>"
    body = sent.get_body(preferencelist=("plain",))
    assert body is not None and "Yarın teslim edilecek." in body.get_content()


async def test_admin_adds_an_own_address_and_checks_its_dns(world: World) -> None:
    page = await world.page_for(world.admin)
    await open_new_email_inbox(page, "Help mail", "own_address")
    editor = page.get_by_test_id("inbox-editor")
    await expect(editor.get_by_test_id("inbox-secret-imap_password")).to_have_count(0)
    await editor.get_by_test_id("inbox-setting-own_address").fill("help@shop.test")
    await editor.get_by_test_id("inbox-save").click()
    await expect(page.get_by_test_id("inbox-saved")).to_have_text("Saved “Help mail”.")
    created = page.get_by_test_id("inbox-created")
    await expect(created.get_by_test_id("email-forward-to")).to_have_text(f"support@acme.{MAIL_DOMAIN}")

    records = created.get_by_test_id("email-dns-record")
    await expect(records).to_have_count(5)
    dkim = created.locator('[data-testid="email-dns-record"][data-kind="dkim"]')
    await expect(dkim).to_contain_text("frontdesk._domainkey.shop.test")
    dkim_value = (await dkim.locator("code").nth(2).inner_text()).strip()
    assert dkim_value.startswith("v=DKIM1; k=rsa; p="), dkim_value

    with dns_server(DNS_PORT) as dns:
        # SPF without our include, the right DKIM key, no DMARC, MX elsewhere.
        dns.zone.add_txt("shop.test", "v=spf1 include:_spf.google.com ~all")
        dns.zone.add_mx("shop.test", "aspmx.l.google.com")
        dns.zone.add_txt("frontdesk._domainkey.shop.test", dkim_value)
        await created.get_by_test_id("email-dns-check").click()
        spf = created.locator('[data-testid="email-dns-record"][data-kind="spf"]')
        await expect(spf).to_have_attribute("data-status", "wrong")
        await expect(spf.get_by_test_id("email-dns-reason")).to_have_text(
            "The SPF record does not include Frontdesk: add the include shown to it."
        )
        await expect(dkim).to_have_attribute("data-status", "ok")
        await expect(created.locator('[data-kind="dmarc"]')).to_have_attribute("data-status", "missing")
        await expect(created.locator('[data-kind="forward"]')).to_have_attribute("data-status", "manual")
        await expect(created.get_by_test_id("email-dns-ready")).to_contain_text("not ready")

        # The admin fixes the SPF record: checked again, replies are ready to pass SPF and DKIM.
        dns.zone.txt.clear()
        dns.zone.add_txt("shop.test", f"v=spf1 include:_spf.google.com include:_spf.{MAIL_DOMAIN} ~all")
        dns.zone.add_txt("frontdesk._domainkey.shop.test", dkim_value)
        await created.get_by_test_id("email-dns-check").click()
        await expect(spf).to_have_attribute("data-status", "ok")
        await expect(created.get_by_test_id("email-dns-ready")).to_contain_text("SPF and DKIM are right")
