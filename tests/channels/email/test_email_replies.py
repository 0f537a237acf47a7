"""Replies by email: an agent's reply through the API reaches a real SMTP relay on 127.0.0.1 as
threaded multipart mail; the relay's refusals become retries (4xx) or a failed message (5xx)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

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
from tests.factories import Agent, make_admin

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT, LISTEN_PORT)
with_relay = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"


relay = relay_fixture(RELAY_PORT)


async def conversation_from_mail(
    server: Server, http: httpx.AsyncClient, raw: bytes, **inbox_settings: Any
) -> tuple[Agent, str]:
    """An email inbox, a customer's mail to it, and the URL of its conversation's messages."""
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id, **{"from_name": "Acme Support", **inbox_settings})
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    [conversation] = page["conversations"]
    return admin, f"/api/v1/workspaces/{ws_id}/conversations/{conversation['id']}/messages"


async def reply(http: httpx.AsyncClient, admin: Agent, base: str, text: str, **extra: Any) -> dict[str, Any]:
    r = await http.post(base, headers=admin.headers, json={"text": text, **extra})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_for_status(
    http: httpx.AsyncClient, admin: Agent, base: str, message_id: int, status: str
) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            messages = (await http.get(base, headers=admin.headers)).json()["messages"]
            found = next(m for m in messages if m["id"] == message_id)
            if found["delivery_status"] == status:
                return dict(found)
            await asyncio.sleep(0.05)


@with_relay
async def test_a_reply_leaves_as_threaded_multipart_mail(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    raw = mail(
        ADDRESS,
        "Sipariş nerede?",
        sender="Ali Yılmaz <ali@customer.test>",
        message_id="<q1@customer.test>",
        headers={
            "Cc": "Ayşe <ayse@customer.test>, support@acme.mail.test",
            "Reply-To": "Ali at work <ali@work.test>",
            "References": "<older@customer.test>",
        },
    )
    admin, base = await conversation_from_mail(server, http, raw)
    sent_reply = await reply(http, admin, base, "Merhaba Ali,\n\nIt ships <today> & arrives Friday.")
    [sent] = await relay.wait(1)
    assert str(sent["From"]) == f"Acme Support <{ADDRESS}>"
    assert str(sent["To"]) == "Ali at work <ali@work.test>"  # their Reply-To wins over From
    assert str(sent["Cc"]) == "Ayşe <ayse@customer.test>"  # our own address is not copied
    assert str(sent["Subject"]) == "Re: Sipariş nerede?"
    assert sent["In-Reply-To"] == "<q1@customer.test>"
    assert sent["References"] == "<older@customer.test> <q1@customer.test>"
    assert str(sent["Reply-To"]).startswith("reply+") and str(sent["Reply-To"]).endswith(
        f"@acme.{MAIL_DOMAIN}"
    )
    message_id = sent["Message-ID"]
    assert message_id.endswith(f"@{MAIL_DOMAIN}>")
    assert sent.get_content_type() == "multipart/alternative"
    plain = sent.get_body(preferencelist=("plain",))
    html = sent.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "It ships <today> & arrives Friday." in plain.get_content()
    assert "It ships &lt;today&gt; &amp; arrives Friday." in html.get_content()
    assert "<today>" not in html.get_content()
    # Envelope: to the customer and the CC, from our address.
    mail_from, recipients = relay.envelopes[0]
    assert mail_from == ADDRESS
    assert sorted(recipients) == ["ali@work.test", "ayse@customer.test"]
    # The Message-ID is the reply's source_id: the customer's answer will name it.
    delivered = await wait_for_status(http, admin, base, sent_reply["id"], "sent")
    assert delivered["source_id"] == message_id.strip("<>")


@with_relay
async def test_attachments_travel_with_the_reply(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, base = await conversation_from_mail(server, http, mail(ADDRESS))
    upload = await http.post(
        base.rsplit("/", 1)[0] + "/attachments",
        headers=admin.headers,
        files={"file": ("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")},
        data={"text": "Your invoice."},
    )
    assert upload.status_code == 201, upload.text
    [sent] = await relay.wait(1)
    [attachment] = list(sent.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == b"%PDF-1.4 invoice"


@with_relay
async def test_own_address_mode_sends_from_the_own_address(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, base = await conversation_from_mail(
        server, http, mail(ADDRESS), address_mode="own_address", own_address="help@shop.example"
    )
    await reply(http, admin, base, "Hello")
    [sent] = await relay.wait(1)
    assert str(sent["From"]) == "Acme Support <help@shop.example>"
    assert str(sent["Reply-To"]).endswith(f"@acme.{MAIL_DOMAIN}")  # answers still come to us


@with_relay
@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("550 5.7.1 Relaying denied for this sender", "provider_rejected"),
        ("552 5.3.4 Message size exceeds fixed maximum message size", "too_large"),
    ],
)
async def test_a_5xx_answer_fails_the_message_with_the_servers_reason(
    server: Server, http: httpx.AsyncClient, relay: Relay, answer: str, code: str
) -> None:
    relay.answers = [answer]
    admin, base = await conversation_from_mail(server, http, mail(ADDRESS))
    sent = await reply(http, admin, base, "Hello")
    failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == code
    assert failed["failure_detail"] == f"SMTP {answer}"  # the server's own words, as they came
    assert relay.attempts == 1  # a permanent refusal is not retried


@with_relay
async def test_a_4xx_answer_is_retried_then_delivered(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    relay.answers = ["451 4.3.0 Try again later"]
    admin, base = await conversation_from_mail(server, http, mail(ADDRESS))
    sent = await reply(http, admin, base, "Hello")
    await wait_for_status(http, admin, base, sent["id"], "sent")
    assert relay.attempts == 2
    assert len(relay.messages) == 1


@pytest.mark.parametrize("server", [{**SETTINGS, "smtp_host": ""}], indirect=True)
async def test_no_relay_fails_the_message_clearly(server: Server, http: httpx.AsyncClient) -> None:
    admin, base = await conversation_from_mail(server, http, mail(ADDRESS))
    sent = await reply(http, admin, base, "Hello")
    failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "no_relay_configured"
    assert "no SMTP relay configured" in failed["failure_detail"]


async def test_inbox_settings_are_checked(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http)
    url = f"/api/v1/workspaces/{ws_id}/inboxes"
    cases = [
        (
            {"address_mode": "own_server"},
            "settings",
            "needs own_address, imap_host, imap_username, smtp_host",
        ),
        ({"imap_security": "tls"}, "imap_security", ""),
        ({"imap_port": 0}, "imap_port", ""),
        ({"address_mode": "own_address"}, "settings", "needs own_address"),
        ({"local_part": "Sales Team"}, "local_part", "lower-case"),
        ({"local_part": "reply"}, "local_part", "reply"),
        ({"own_address": "not-an-address"}, "own_address", ""),
        ({"signature": "x"}, "signature", ""),
    ]
    for settings, field, words in cases:
        r = await http.post(
            url, headers=admin.headers, json={"name": "Mail", "channel_type": "email", "settings": settings}
        )
        assert r.status_code == 422, (settings, r.text)
        error = r.json()["error"]
        assert field in (error["field"] or ""), (settings, error)
        assert words in error["message"], (settings, error)
    listed = (await http.get(url, headers=admin.headers)).json()
    assert listed == []


async def test_two_inboxes_of_a_workspace_cannot_share_a_local_part(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http)
    first = await make_email_inbox(http, admin, ws_id, local_part="support")
    second = await make_email_inbox(http, admin, ws_id, local_part="billing")
    url = f"/api/v1/workspaces/{ws_id}/inboxes"
    for attempt in (
        http.post(
            url,
            headers=admin.headers,
            json={"name": "Again", "channel_type": "email", "settings": {"local_part": "support"}},
        ),
        http.patch(
            f"{url}/{second['id']}", headers=admin.headers, json={"settings": {"local_part": "support"}}
        ),
    ):
        r = await attempt
        assert r.status_code == 409, r.text
        assert r.json()["error"]["field"] == "settings.local_part"
    # Keeping its own local part is no conflict; another workspace may use the same one.
    r = await http.patch(
        f"{url}/{first['id']}", headers=admin.headers, json={"settings": {"from_name": "Us"}}
    )
    assert r.status_code == 200, r.text
    other, other_ws = await make_admin(server, http, workspace="Other")
    await make_email_inbox(http, other, other_ws, local_part="support")


@with_relay
async def test_everyone_the_customer_copied_stays_copied_on_the_conversation(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    first = mail(
        f"{ADDRESS}, Mehmet <mehmet@customer.test>",
        "Fatura",
        message_id="<c1@customer.test>",
        headers={"Cc": "Ayşe <ayse@customer.test>"},
    )
    admin, base = await conversation_from_mail(server, http, first)
    # The customer answers only us: Ayşe and Mehmet are no longer on this mail.
    second = mail(ADDRESS, "Re: Fatura", "Bir şey daha.", headers={"In-Reply-To": "<c1@customer.test>"})
    assert await deliver(LISTEN_PORT, [ADDRESS], second) == {}
    async with asyncio.timeout(10):
        while len((await http.get(base, headers=admin.headers)).json()["messages"]) < 2:
            await asyncio.sleep(0.05)
    await reply(http, admin, base, "Tamam.")
    [sent] = await relay.wait(1)
    assert str(sent["To"]) == "Ali Yılmaz <ali@customer.test>"
    assert str(sent["Cc"]) == "Ayşe <ayse@customer.test>, Mehmet <mehmet@customer.test>"
    assert sorted(relay.envelopes[0][1]) == [
        "ali@customer.test",
        "ayse@customer.test",
        "mehmet@customer.test",
    ]
