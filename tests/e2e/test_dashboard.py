"""The agent dashboard in a real Chromium against a real server: what an agent does all day."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from playwright.async_api import Page, expect

from tests.e2e.conftest import World
from tests.factories import receive

Shot = Callable[[Page, str], Awaitable[None]]


async def appears_within_a_second(page: Page, testid: str, text: str) -> None:
    """Checked on every animation frame, so the second is the page's, not the test's polling step."""
    await page.wait_for_function(
        "([id, text]) => [...document.querySelectorAll(`[data-testid='${id}']`)]"
        ".some((el) => el.textContent.includes(text))",
        arg=[testid, text],
        polling="raf",
        timeout=1_000,
    )


def row(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("conversation-row").filter(has_text=text)


def bubble(page: Page, text: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("thread").get_by_test_id("message").filter(has_text=text)


async def test_wrong_password_is_refused_with_a_message(world: World) -> None:
    context = await world.browser.new_context(base_url=world.server.url)
    world.contexts.append(context)
    page = await context.new_page()
    await page.goto("/inbox")
    await expect(page).to_have_url(f"{world.server.url}/login?next=/inbox")
    await page.get_by_test_id("login-email").fill(world.agent1.email)
    await page.get_by_test_id("login-password").fill("not the password")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("login-error")).to_be_visible()


async def test_incoming_message_appears_live_and_the_reply_is_delivered(world: World) -> None:
    page = await world.page_for(world.agent1)
    await receive(world.http, world.inbox, "m-1", "c-1", "Hello from the API channel")
    # Within a second, with no reload: the websocket carries it to the list.
    await appears_within_a_second(page, "conversation-row", "Hello from the API channel")
    await row(page, "Hello from the API channel").click()
    await expect(bubble(page, "Hello from the API channel")).to_be_visible()

    await receive(world.http, world.inbox, "m-2", "c-1", "Are you there?")
    await appears_within_a_second(page, "message", "Are you there?")
    await expect(bubble(page, "Are you there?")).to_be_visible()

    await page.get_by_test_id("composer-input").fill("Yes, looking at it now")
    await page.get_by_test_id("composer-send").click()
    reply = bubble(page, "Yes, looking at it now")
    # The worker delivers it to the receiver (signed), and the mark turns to sent.
    await expect(reply).to_have_attribute("data-status", "sent", timeout=5_000)
    texts = [d.json["message"]["text"] for d in world.receiver.deliveries]
    assert "Yes, looking at it now" in texts
    await expect(page.get_by_test_id("composer-input")).to_have_value("")


async def test_private_note_with_mention_notifies_the_mentioned_agent(world: World) -> None:
    await receive(world.http, world.inbox, "m-1", "c-1", "My parcel never arrived")
    first = await world.page_for(world.agent1)
    second = await world.page_for(world.agent2)
    await row(first, "My parcel never arrived").click()
    await first.get_by_test_id("composer-mode-note").click()
    handle = world.agent2.email.split("@")[0]
    await first.get_by_test_id("composer-input").fill(f"@{handle} can you check the courier?")
    await first.get_by_test_id("composer-send").click()
    note = first.get_by_test_id("note-bubble").filter(has_text="can you check the courier?")
    await expect(note).to_be_visible()
    # The note never leaves through the channel.
    assert all("courier" not in d.body.decode() for d in world.receiver.deliveries)
    toast = second.locator('[data-testid="toast"][data-kind="mention"]')
    await expect(toast).to_be_visible(timeout=2_000)
    await expect(toast).to_contain_text("can you check the courier?")


async def test_transfer_with_comment_moves_it_to_the_other_agents_mine_view_live(world: World) -> None:
    await receive(world.http, world.inbox, "m-1", "c-1", "I want to change my plan")
    first = await world.page_for(world.agent1)
    second = await world.page_for(world.agent2)
    await second.goto("/mine")
    await expect(second.get_by_test_id("conversation-list")).to_be_visible()
    await expect(row(second, "I want to change my plan")).to_have_count(0)

    await row(first, "I want to change my plan").click()
    await first.get_by_test_id("action-assign").click()
    dialog = first.get_by_test_id("assign-dialog")
    await dialog.get_by_test_id(f"assign-agent-{world.agent2.user_id}").click()
    await dialog.get_by_test_id("assign-comment").fill("Billing question, over to you")
    await dialog.get_by_test_id("assign-submit").click()

    await expect(row(second, "I want to change my plan")).to_be_visible(timeout=2_000)
    activity = first.get_by_test_id("activity-line").filter(has_text="Billing question, over to you")
    await expect(activity).to_be_visible()


async def test_canned_reply_is_found_by_slash_and_its_short_code(world: World) -> None:
    r = await world.http.post(
        world.api("/canned-responses"),
        headers=world.admin.headers,
        json={"short_code": "thanks", "text": "Thank you for writing to us!"},
    )
    assert r.status_code == 201, r.text
    await receive(world.http, world.inbox, "m-1", "c-1", "Just saying hi")
    page = await world.page_for(world.agent1)
    await row(page, "Just saying hi").click()
    composer = page.get_by_test_id("composer-input")
    await composer.click()
    await composer.press_sequentially("/tha")
    popup = page.get_by_test_id("canned-popup")
    await expect(popup.get_by_test_id("canned-option")).to_have_count(1)
    await composer.press("Enter")
    await expect(composer).to_have_value("Thank you for writing to us!")
    await expect(popup).to_be_hidden()


async def test_draft_stays_with_its_conversation_across_switching_and_reload(world: World) -> None:
    await receive(world.http, world.inbox, "m-1", "c-1", "First customer here")
    await receive(world.http, world.inbox, "m-2", "c-2", "Second customer here")
    page = await world.page_for(world.agent1)
    composer = page.get_by_test_id("composer-input")
    await row(page, "First customer here").click()
    await composer.fill("Half-written answer for the first")
    await row(page, "Second customer here").click()
    await expect(bubble(page, "Second customer here")).to_be_visible()
    await expect(composer).to_have_value("")
    await row(page, "First customer here").click()
    await expect(composer).to_have_value("Half-written answer for the first")
    await page.reload()
    await expect(page.get_by_test_id("composer-input")).to_have_value("Half-written answer for the first")


async def test_later_offers_the_chat_to_another_online_agent(world: World) -> None:
    first = await world.page_for(world.agent1)
    second = await world.page_for(world.agent2)
    await receive(world.http, world.inbox, "m-1", "c-9", "Is anyone available?")
    toast = first.locator('[data-testid="toast"]').filter(has_text="Is anyone available?")
    await expect(toast).to_be_visible(timeout=2_000)
    await toast.get_by_test_id("toast-later").click()
    await expect(toast).to_be_hidden()
    offered = second.locator('[data-testid="toast"][data-kind="offered"]')
    await expect(offered).to_be_visible(timeout=2_000)
    await expect(offered).to_contain_text("Is anyone available?")
    # The second agent takes it from the notification.
    await offered.get_by_test_id("toast-chat").click()
    await expect(bubble(second, "Is anyone available?")).to_be_visible()


async def test_quick_reply_answers_from_the_notification(world: World) -> None:
    page = await world.page_for(world.agent1)
    await receive(world.http, world.inbox, "m-1", "c-5", "Quick question about hours")
    toast = page.locator('[data-testid="toast"]').filter(has_text="Quick question about hours")
    await expect(toast).to_be_visible(timeout=2_000)
    await toast.get_by_test_id("toast-quick-reply").click()
    await toast.get_by_test_id("toast-quick-input").fill("We are open 9 to 18")
    await toast.get_by_test_id("toast-quick-send").click()
    await expect(page).to_have_url(f"{world.server.url}/inbox")  # never left the current screen
    for _ in range(50):
        if any(d.json["message"]["text"] == "We are open 9 to 18" for d in world.receiver.deliveries):
            break
        await page.wait_for_timeout(100)
    else:
        raise AssertionError("the quick reply was not delivered")


async def test_persian_interface_is_right_to_left(world: World, screenshot: Shot) -> None:
    r = await world.http.patch("/api/v1/me", headers=world.agent1.headers, json={"locale": "fa"})
    assert r.status_code == 200, r.text
    await receive(world.http, world.inbox, "m-1", "c-1", "سلام، سفارش من کجاست؟ order #1234")
    page = await world.page_for(world.agent1, locale="fa-IR")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("html")).to_have_attribute("lang", "fa")
    await row(page, "سفارش من کجاست").click()
    await expect(bubble(page, "سفارش من کجاست")).to_be_visible()
    # Mirrored: the list sits on the right-hand side of the screen.
    box = await page.get_by_test_id("conversation-list").bounding_box()
    assert box is not None and box["x"] > 600, box
    await screenshot(page, "rtl-fa-conversation")


async def test_markup_in_messages_and_names_renders_as_text(world: World) -> None:
    payload = {
        "type": "message",
        "source_id": "x-1",
        "text": '<img src=x onerror="window.__xss=1"><b>bold?</b><script>window.__xss=2</script>',
        "contact": {"source_id": "evil", "name": '<svg onload="window.__xss=3">Mallory'},
    }
    from tests.factories import post_inbound

    assert (await post_inbound(world.http, world.inbox, payload)).status_code == 200
    page = await world.page_for(world.agent1)
    r = row(page, "Mallory")
    await expect(r).to_contain_text('<svg onload="window.__xss=3">Mallory')
    await r.click()
    await expect(bubble(page, "bold?")).to_contain_text("<b>bold?</b>")
    assert await page.evaluate("window.__xss") is None
    assert await page.get_by_test_id("thread").locator("b, img[src='x'], script").count() == 0


async def test_an_api_token_is_made_shown_once_used_and_revoked(world: World) -> None:
    """Settings → API tokens: the token works at once, is never shown again, and stops working
    the moment it is revoked."""
    page = await world.page_for(world.agent1)
    await page.goto("/settings/tokens")
    await page.get_by_test_id("token-name").fill("Order system")
    await page.get_by_test_id("token-create").click()
    token = (await page.get_by_test_id("token-value").inner_text()).strip()
    assert token.startswith("fdt_"), token
    me = await world.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["email"] == world.agent1.email
    # The test's own API token (the factory's) is listed too.
    ours = page.get_by_test_id("token-row").filter(has_text="Order system")
    await expect(ours).to_have_count(1)
    # Shown once: a reload lists the token by name only.
    await page.reload()
    await expect(ours).to_have_count(1)
    await expect(page.get_by_test_id("token-value")).to_have_count(0)
    assert token not in await page.content()

    await ours.get_by_test_id("token-revoke").click()
    await ours.get_by_test_id("token-revoke-confirm").click()
    await expect(page.get_by_test_id("token-revoked")).to_be_visible()
    await expect(ours).to_have_count(0)
    gone = await world.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert gone.status_code == 401, gone.text
