"""Test connection in a real browser: an administrator edits an API inbox whose receiver (the
fake provider) first refuses the signature, then accepts it."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import World
from tests.fakes import Answer, FakeProvider


async def test_admin_tests_an_inbox_connection(world: World, fake_provider: FakeProvider) -> None:
    hook = fake_provider.url_for("/hook")
    r = await world.http.patch(
        world.api(f"/inboxes/{world.inbox.id}"),
        headers=world.admin.headers,
        json={"settings": {"webhook_url": hook}},
    )
    assert r.status_code == 200, r.text
    fake_provider.script("/hook", Answer(401, b"signature mismatch"))
    page = await world.page_for(world.admin)
    await page.get_by_test_id("nav-admin").click()
    await page.get_by_test_id("admin-nav-inboxes").click()
    await (
        page.locator(f'[data-testid="inbox-row"][data-id="{world.inbox.id}"]')
        .get_by_test_id("inbox-edit")
        .click()
    )
    check = page.get_by_test_id("connection-check")
    await check.get_by_test_id("test-connection").click()
    result = check.get_by_test_id("test-connection-result")
    await expect(result).to_have_attribute("data-ok", "false")
    await expect(result).to_contain_text("The provider refused the credentials.")
    await expect(check.get_by_test_id("test-connection-detail")).to_contain_text("signature mismatch")

    await check.get_by_test_id("test-connection").click()
    await expect(result).to_have_attribute("data-ok", "true")
    await expect(result).to_contain_text("The connection works.")
    pings = fake_provider.calls_to("/hook")
    assert [p.json() for p in pings] == [{"event": "ping"}, {"event": "ping"}]
