"""Setting a Telegram inbox up: saving registers the webhook with a generated secret token and
the update kinds we handle (idempotent, pending updates kept); Test connection says who the bot
is and where and how Telegram delivers; the t.me deep link with its QR code."""

from __future__ import annotations

import string

import httpx

from tests.channels.telegram.conftest import make_telegram_inbox
from tests.conftest import Server
from tests.factories import make_admin
from tests.fakes import FakeProvider
from tests.fakes import telegram as tg

SECRET_CHARS = set(string.ascii_letters + string.digits + "_-")


async def test_saving_registers_the_webhook_with_a_secret_token(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    assert inbox.setup_warning is None
    assert 1 <= len(inbox.secret) <= 256 and set(inbox.secret) <= SECRET_CHARS
    [registered] = bot_api.calls_to(tg.path("setWebhook"))
    public = server.services.settings.effective_public_url.rstrip("/")
    assert registered.json() == {
        "url": f"{public}/webhooks/telegram/{inbox.uid}",
        "secret_token": inbox.secret,
        "allowed_updates": ["message", "edited_message", "callback_query", "my_chat_member"],
        "drop_pending_updates": False,
    }
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}"
    saved = await http.patch(url, headers=admin.headers, json={"name": "Renamed"})
    assert saved.status_code == 200 and saved.json()["setup_warning"] is None
    again = bot_api.calls_to(tg.path("setWebhook"))
    assert len(again) == 2 and again[1].json() == registered.json()  # the same call: idempotent


async def test_a_refused_registration_is_a_warning_in_telegrams_words(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    bot_api.answer(
        tg.path("setWebhook"), tg.error(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
    )
    inbox = await make_telegram_inbox(http, admin, ws)
    assert inbox.setup_warning is not None
    assert inbox.setup_warning.startswith("provider_rejected:") and "HTTPS URL" in inbox.setup_warning
    bot_api.answer("/bot1:wrong/setWebhook", tg.error(401, "Unauthorized"))
    bad = await make_telegram_inbox(http, admin, ws, token="1:wrong")
    assert bad.setup_warning is not None and bad.setup_warning.startswith("auth_failed:")
    assert "1:wrong" not in bad.setup_warning


async def test_check_connection_says_who_the_bot_is_and_where_telegram_delivers(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    public = server.services.settings.effective_public_url.rstrip("/")
    ours = f"{public}/webhooks/telegram/{inbox.uid}"
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/check-connection"

    async def check() -> dict[str, object]:
        return dict((await http.post(url, headers=admin.headers)).json())

    bot_api.answer(tg.path("getWebhookInfo"), tg.webhook_info(ours))
    assert await check() == {
        "ok": True,
        "detail": f"signed in as @shop_bot; updates are delivered to {ours}",
        "code": None,
    }

    bot_api.answer(tg.path("getWebhookInfo"), tg.webhook_info("https://elsewhere.example/hook"))
    moved = await check()
    assert moved["ok"] is False and moved["code"] == "misconfigured"
    assert "https://elsewhere.example/hook" in str(moved["detail"]) and "not to this Frontdesk" in str(
        moved["detail"]
    )

    bot_api.answer(tg.path("getWebhookInfo"), tg.webhook_info(""))
    none = await check()
    assert none["ok"] is False and "no webhook is registered" in str(none["detail"])

    failing = tg.webhook_info(
        ours,
        last_error_date=1_767_225_600,
        last_error_message="Wrong response from the webhook: 502",
        pending_update_count=7,
    )
    bot_api.answer(tg.path("getWebhookInfo"), failing)
    stuck = await check()
    assert stuck["ok"] is False and stuck["code"] == "provider_rejected"
    assert "Wrong response from the webhook: 502" in str(stuck["detail"]) and "2026-01-01 00:00 UTC" in str(
        stuck["detail"]
    )
    assert "7 updates waiting" in str(stuck["detail"])

    bot_api.answer(tg.path("getMe"), tg.error(401, "Unauthorized"))
    refused = await check()
    assert (
        refused["ok"] is False
        and refused["code"] == "auth_failed"
        and "Unauthorized" in str(refused["detail"])
    )


async def test_the_deep_link_opens_the_bot_with_the_inbox_as_start_parameter(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    # No username given: the one getMe gave when the inbox was saved.
    bare = await make_telegram_inbox(http, admin, ws)
    base = f"/api/v1/workspaces/{ws}/inboxes/{bare.id}/entry-points"
    [learned] = (await http.get(base, headers=admin.headers)).json()
    assert learned["url"] == f"https://t.me/shop_bot?start={bare.uid}"
    # getMe refused at save time: no link rather than a guessed one.
    bot_api.answer(tg.path("getMe"), tg.error(401, "Unauthorized"))
    unknown = await make_telegram_inbox(http, admin, ws)
    assert unknown.setup_warning is not None and "Unauthorized" in unknown.setup_warning
    base = f"/api/v1/workspaces/{ws}/inboxes/{unknown.id}/entry-points"
    assert (await http.get(base, headers=admin.headers)).json() == []
    bot_api.answer(tg.path("getMe"), tg.ok(tg.BOT))
    named = await make_telegram_inbox(http, admin, ws, bot_username="@shop_bot")
    base = f"/api/v1/workspaces/{ws}/inboxes/{named.id}/entry-points"
    [point] = (await http.get(base, headers=admin.headers)).json()
    assert point["kind"] == "deep_link" and point["url"] == f"https://t.me/shop_bot?start={named.uid}"
    png = await http.get(point["qr_png_url"], headers=admin.headers)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


async def test_a_username_of_another_bot_is_a_warning(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws, bot_username="other_bot")
    assert inbox.setup_warning is not None and "belongs to @shop_bot, not @other_bot" in inbox.setup_warning


async def test_the_secret_token_is_not_rotated_behind_telegrams_back(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    r = await http.post(f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}/secrets/rotate", headers=admin.headers)
    assert r.status_code in (400, 422)
    assert (await inbox.post(http, tg.update())).status_code == 200


async def test_a_new_secret_or_token_given_by_patch_is_registered_at_once(
    server: Server, http: httpx.AsyncClient, bot_api: FakeProvider
) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_telegram_inbox(http, admin, ws)
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox.id}"
    fresh = "New_secret-0123456789"
    r = await http.patch(url, headers=admin.headers, json={"secrets": {"webhook_secret": fresh}})
    assert r.status_code == 200 and r.json()["setup_warning"] is None, r.text
    assert bot_api.calls_to(tg.path("setWebhook"))[-1].json()["secret_token"] == fresh
    assert (await inbox.post(http, tg.update())).status_code == 401  # the old secret
    assert (await inbox.post(http, tg.update(), secret=fresh)).status_code == 200

    bot_api.answer("/bot42:other/setWebhook", tg.ok(True))
    bot_api.answer("/bot42:other/getMe", tg.ok({**tg.BOT, "id": 42, "username": "other_bot"}))
    r = await http.patch(url, headers=admin.headers, json={"secrets": {"bot_token": "42:other"}})
    assert r.status_code == 200 and r.json()["setup_warning"] is None, r.text
    [moved] = bot_api.calls_to("/bot42:other/setWebhook")
    assert moved.json()["secret_token"] == fresh
    # The t.me link follows the new bot.
    [point] = (await http.get(f"{url}/entry-points", headers=admin.headers)).json()
    assert point["url"] == f"https://t.me/other_bot?start={inbox.uid}"
