"""Screenshots of the main screens in English, Turkish and Persian (test-artifacts/screenshots/,
not committed; the README shows one committed overview). Each screen must also render its
language: the page's lang attribute and a translated navigation label are checked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import World
from tests.factories import message, post_inbound

Shot = Callable[[Page, str], Awaitable[None]]

SETTINGS_LABEL = {"en": "Settings", "tr": "Ayarlar", "fa": "تنظیمات"}
BROWSER_LOCALE = {"en": "en-GB", "tr": "tr-TR", "fa": "fa-IR"}
MESSAGES = [
    ("c-1", "Ann Customer", "Hello, my order #1042 has not arrived yet."),
    ("c-2", "Mehmet Yılmaz", "Merhaba, faturamı nasıl indirebilirim?"),
    ("c-3", "سارا احمدی", "سلام، چطور می‌توانم رمز عبورم را تغییر دهم؟"),
]


@pytest.mark.parametrize("lang", ["en", "tr", "fa"])
async def test_main_screens(world: World, screenshot: Shot, lang: str) -> None:
    for i, (contact, name, text) in enumerate(MESSAGES):
        r = await post_inbound(world.http, world.inbox, message(f"m-{i}", contact, text, name=name))
        assert r.status_code == 200, r.text
    r = await world.http.patch("/api/v1/me", headers=world.admin.headers, json={"locale": lang})
    assert r.status_code == 200, r.text

    page = await world.page_for(world.admin, locale=BROWSER_LOCALE[lang])
    await expect(page.locator("html")).to_have_attribute("lang", lang)
    await expect(page.get_by_test_id("nav-settings")).to_contain_text(SETTINGS_LABEL[lang])
    await expect(page.get_by_test_id("conversation-row")).to_have_count(3)
    await page.get_by_test_id("conversation-row").first.click()
    await expect(page.get_by_test_id("thread")).to_be_visible()
    await page.get_by_test_id("composer-input").fill("…")
    await screenshot(page, f"{lang}-inbox")
    await page.goto("/settings/preferences")
    await expect(page.get_by_test_id("pref-language")).to_be_visible()
    await screenshot(page, f"{lang}-settings")
    await page.goto("/admin")
    await expect(page.get_by_test_id("admin-nav-inboxes")).to_be_visible()
    await screenshot(page, f"{lang}-admin")
