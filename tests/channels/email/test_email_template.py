"""The email template (E5): the API the dashboard's editor uses, the renderer's escaping and
direction, and a reply through a real SMTP relay on 127.0.0.1 wrapped in exactly the preview."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from frontdesk.domain.email.template import EmailTemplate, template_from_stored
from frontdesk.domain.enums import Role
from frontdesk.mail.template import detect_locale, render
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
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT, LISTEN_PORT)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

FULL = {
    "subject": "Your answer from Acme",
    "heading": "Hello from <b>Acme</b>",
    "body_text": "We are here 9–17 on weekdays.",
    "footnote": "Acme & Co. <script>alert(1)</script>",
    "website_url": "https://acme.test/?a=1&b=2",
    "app_store_url": "https://apps.apple.com/app/acme",
    "google_play_url": None,
    "terms_url": "https://acme.test/terms",
    "privacy_url": "https://acme.test/privacy",
    "show_header_image": True,
}


relay = relay_fixture(RELAY_PORT)


async def email_inbox(server: Server, http: httpx.AsyncClient) -> tuple[Agent, int, str]:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    inbox = await make_email_inbox(http, admin, ws_id, from_name="Acme Support")
    return admin, ws_id, f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/email-template"


async def test_defaults_before_any_save(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    r = await http.get(url, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "subject": "",
        "heading": "",
        "body_text": "",
        "footnote": "",
        "website_url": None,
        "app_store_url": None,
        "google_play_url": None,
        "terms_url": None,
        "privacy_url": None,
        "show_header_image": False,
        "header_image_url": None,
        "updated_at": None,
    }


async def test_only_email_inboxes_have_a_template(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    api = await make_inbox(http, admin, ws_id)
    r = await http.get(f"/api/v1/workspaces/{ws_id}/inboxes/{api.id}/email-template", headers=admin.headers)
    assert r.status_code == 404


async def test_save_and_read_back(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    r = await http.put(url, headers=admin.headers, json=FULL)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert {k: saved[k] for k in FULL} == FULL
    assert saved["updated_at"] is not None
    assert (await http.get(url, headers=admin.headers)).json() == saved
    # A second save updates the same row.
    again = await http.put(url, headers=admin.headers, json={**FULL, "heading": "Hi", "website_url": ""})
    assert again.json()["heading"] == "Hi" and again.json()["website_url"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"website_url": "javascript:alert(1)"}, "website_url"),
        ({"terms_url": "ftp://acme.test/terms"}, "terms_url"),
        ({"privacy_url": "https://"}, "privacy_url"),
        ({"subject": "s" * 201}, "subject"),
        ({"heading": "h" * 201}, "heading"),
        ({"body_text": "b" * 2001}, "body_text"),
        ({"footnote": "f" * 1001}, "footnote"),
    ],
)
async def test_bad_values_are_refused_naming_the_field(
    server: Server, http: httpx.AsyncClient, change: dict[str, Any], field: str
) -> None:
    admin, _, url = await email_inbox(server, http)
    await http.put(url, headers=admin.headers, json=FULL)
    r = await http.put(url, headers=admin.headers, json={**FULL, **change})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    # Nothing changed.
    assert (await http.get(url, headers=admin.headers)).json()["heading"] == FULL["heading"]


async def test_agents_read_but_do_not_save(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id, url = await email_inbox(server, http)
    agent = await make_member(server, http, ws_id, Role.AGENT)
    inbox_id = int(url.split("/")[-2])
    r = await http.put(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox_id}/members",
        headers=admin.headers,
        json={"user_ids": [agent.user_id]},
    )
    assert r.status_code == 204, r.text
    assert (await http.get(url, headers=agent.headers)).status_code == 200
    # An agent outside the inbox does not learn it exists.
    outsider = await make_member(server, http, ws_id, Role.AGENT)
    assert (await http.get(url, headers=outsider.headers)).status_code == 404
    assert (await http.post(url + "/preview", headers=outsider.headers, json=FULL)).status_code == 404
    assert (await http.put(url, headers=agent.headers, json=FULL)).status_code == 403
    upload = await http.post(url + "/header-image", headers=agent.headers, files={"file": ("h.png", PNG)})
    assert upload.status_code == 403
    assert (await http.get(url, headers=admin.headers)).json()["updated_at"] is None
    preview = await http.post(url + "/preview", headers=agent.headers, json=FULL)
    assert preview.status_code == 200, preview.text


async def test_header_image_upload(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    r = await http.post(
        url + "/header-image", headers=admin.headers, files={"file": ("h.png", PNG, "image/png")}
    )
    assert r.status_code == 200, r.text
    image_url = r.json()["header_image_url"]
    assert image_url.startswith("/files/email-headers/")
    got = await http.get(image_url)  # public: mail clients fetch it without signing in
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    # Replaced by a new one: the old address stops working.
    r2 = await http.post(url + "/header-image", headers=admin.headers, files={"file": ("h.png", PNG)})
    assert r2.json()["header_image_url"] != image_url
    assert (await http.get(image_url)).status_code == 404


async def test_header_image_type_and_size_are_checked(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    fake = await http.post(
        url + "/header-image",
        headers=admin.headers,
        files={"file": ("h.png", b"<svg onload=x>", "image/png")},
    )
    assert fake.status_code == 422 and fake.json()["error"]["field"] == "file"
    assert "PNG, JPEG, WebP or GIF" in fake.json()["error"]["message"]
    big = await http.post(
        url + "/header-image", headers=admin.headers, files={"file": ("h.png", PNG + b"\x00" * 1_048_576)}
    )
    assert big.status_code == 413, big.text
    assert (await http.get(url, headers=admin.headers)).json()["header_image_url"] is None


async def test_preview_escapes_everything(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    await http.post(url + "/header-image", headers=admin.headers, files={"file": ("h.png", PNG)})
    r = await http.post(
        url + "/preview",
        headers=admin.headers,
        json={**FULL, "reply_text": "Line one <img src=x onerror=alert(1)>\nline two", "locale": "en"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    page = body["html"]
    assert body["subject"] == "Your answer from Acme"
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert "Hello from &lt;b&gt;Acme&lt;/b&gt;" in page
    assert "Acme &amp; Co. &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Line one &lt;img src=x onerror=alert(1)&gt;<br>line two" in page
    assert 'href="https://acme.test/?a=1&amp;b=2"' in page and ">Website</a>" in page
    assert ">App Store</a>" in page and "Google Play" not in page  # only the links that are set
    assert ">Terms</a>" in page and ">Privacy</a>" in page
    assert f'src="{server.services.settings.effective_public_url}/files/email-headers/' in page
    assert 'dir="ltr"' in page and "max-width:600px" in page
    assert "Website: https://acme.test/?a=1&b=2" in body["text"]
    # The unsaved form is previewed; nothing is saved by it.
    assert (await http.get(url, headers=admin.headers)).json()["heading"] == ""
    # A preview with a bad URL is refused like a save.
    bad = await http.post(url + "/preview", headers=admin.headers, json={"website_url": "javascript:x"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "website_url"


async def test_persian_preview_reads_right_to_left(server: Server, http: httpx.AsyncClient) -> None:
    admin, _, url = await email_inbox(server, http)
    r = await http.post(url + "/preview", headers=admin.headers, json={**FULL, "locale": "fa"})
    page = r.json()["html"]
    assert '<html lang="fa" dir="rtl">' in page
    assert '<table role="presentation" dir="rtl"' in page and "text-align:right" in page
    assert ">شرایط استفاده</a>" in page and ">حریم خصوصی</a>" in page
    assert "از پیام شما سپاسگزاریم" in page  # the sample reply, in Persian
    turkish = (await http.post(url + "/preview", headers=admin.headers, json={**FULL, "locale": "tr"})).json()
    assert ">Kullanım Koşulları</a>" in turkish["html"] and 'dir="ltr"' in turkish["html"]


def test_each_paragraph_keeps_its_own_direction_in_a_persian_mail() -> None:
    # An English sentence in a Persian mail is laid out left to right, so its full stop stays at
    # its end; a Persian one in an English mail the other way. Written as dir="ltr"/"rtl" (what
    # Outlook understands), by the paragraph's first strong letter.
    template = EmailTemplate(heading="Order #42 shipped.", body_text="Thanks for your order.\n\nبا سپاس.")
    page = render(template, "سلام، سفارش شما ارسال شد.\n\n«Tracking» number: 123.", "fa", None).html
    assert '<p dir="rtl" style="margin:0 0 16px 0;' in page and "سلام، سفارش شما ارسال شد.</p>" in page
    assert '<p dir="ltr" style="margin:0 0 16px 0;' in page
    assert page.count('<p dir="ltr"') == 2  # the reply's English line and the body text's
    assert '<h1 dir="ltr"' in page
    english = render(EmailTemplate(body_text="۱۲۳ تومان."), "Hello.", "en", None).html
    assert '<p dir="rtl"' in english and '<p dir="ltr"' in english


@pytest.mark.parametrize("server", [SETTINGS], indirect=True)
async def test_a_reply_is_sent_exactly_as_previewed(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, url = await email_inbox(server, http)
    await http.post(url + "/header-image", headers=admin.headers, files={"file": ("h.png", PNG)})
    assert (await http.put(url, headers=admin.headers, json=FULL)).status_code == 200
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS, "Sipariş nerede?")) == {}
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    [conversation] = page["conversations"]
    text = "سلام علی،\n\nسفارش شما <امروز> ارسال می‌شود."
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/conversations/{conversation['id']}/messages",
        headers=admin.headers,
        json={"text": text},
    )
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    preview = (
        await http.post(url + "/preview", headers=admin.headers, json={**FULL, "reply_text": text})
    ).json()
    html_part = sent.get_body(preferencelist=("html",))
    plain_part = sent.get_body(preferencelist=("plain",))
    assert html_part is not None and plain_part is not None
    # Identical but for the line ends, which SMTP carries as CRLF.
    assert html_part.get_content().replace("\r\n", "\n") == preview["html"]
    assert plain_part.get_content().replace("\r\n", "\n") == preview["text"]
    assert 'dir="rtl"' in preview["html"]  # a Persian reply reads right to left
    # A reply to the customer's mail keeps threading on their subject, not the template's.
    assert str(sent["Subject"]) == "Re: Sipariş nerede?"


@pytest.mark.parametrize("server", [SETTINGS], indirect=True)
async def test_without_a_template_replies_keep_the_simple_html(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, _ = await email_inbox(server, http)
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS)) == {}
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    [conversation] = page["conversations"]
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/conversations/{conversation['id']}/messages",
        headers=admin.headers,
        json={"text": "Hello"},
    )
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    html_part = sent.get_body(preferencelist=("html",))
    assert html_part is not None
    assert 'role="presentation"' not in html_part.get_content() and "Hello" in html_part.get_content()


# --- the renderer and the rules, without a server ------------------------------------------------


def test_stored_values_that_no_longer_pass_fall_back_to_defaults() -> None:
    stored = {**FULL, "website_url": "javascript:alert(1)", "heading": "h" * 500, "old_field": 1}
    template = template_from_stored(stored)
    assert template.website_url is None and template.heading == ""
    assert template.terms_url == FULL["terms_url"]


def test_the_renderer_never_links_anything_but_http() -> None:
    # Built directly, past the rules: the renderer checks link targets itself.
    template = EmailTemplate(heading="x", website_url="javascript:alert(1)", terms_url="data:text/html,x")
    page = render(template, "hi", "en", "javascript:alert(2)").html
    assert "javascript:" not in page and "data:" not in page and "<img" not in page
    assert "Website" not in page and "Terms" not in page


def test_header_image_only_when_switched_on() -> None:
    on = render(EmailTemplate(show_header_image=True), "hi", "en", "https://x.test/i.png").html
    off = render(EmailTemplate(show_header_image=False), "hi", "en", "https://x.test/i.png").html
    assert '<img src="https://x.test/i.png"' in on and "<img" not in off


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Hello, your order ships today.", "en"),
        ("Siparişiniz bugün yola çıkıyor.", "tr"),
        ("سفارش شما امروز ارسال می‌شود. Order 1042", "fa"),
    ],
)
def test_the_language_of_a_reply_is_read_from_its_text(text: str, locale: str) -> None:
    assert detect_locale(text) == locale
    page = render(EmailTemplate(terms_url="https://x.test/t"), text, None, None).html
    assert f'lang="{locale}" dir="{"rtl" if locale == "fa" else "ltr"}"' in page
