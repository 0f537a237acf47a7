"""Auto-replies and bounces to our mail, sent byte for byte to the real SMTP listener after an
agent's reply went out through a real relay: they join the conversation they answer without
reopening it or marking it unread, a bounce makes no contact for the mail system, shows its
explanation and its failed recipients, and one that threads nowhere is stored resolved."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from frontdesk.domain.arrival import arrival_of, joins_resolved
from frontdesk.mail.dsn import RecipientStatus, read_report, summary
from frontdesk.store import tables as t
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_fixture,
    relay_settings,
    rows,
)
from tests.conftest import Server
from tests.factories import Agent, make_admin

RELAY_PORT = new_port()
LISTEN_PORT = new_port()
with_relay = pytest.mark.parametrize("server", [relay_settings(RELAY_PORT, LISTEN_PORT)], indirect=True)
relay = relay_fixture(RELAY_PORT)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"


async def answered_and_resolved(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> tuple[Agent, str, str]:
    """A customer's mail, an agent's reply that left through the relay, the conversation then
    resolved: the admin, the conversation's URL and the reply's Message-ID."""
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id, local_part="support")
    first = mail(
        ADDRESS, "Order 1042", sender="Ali Yılmaz <ali@customer.test>", message_id="<q1@customer.test>"
    )
    assert await deliver(LISTEN_PORT, [ADDRESS], first) == {}
    [conversation] = (
        await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)
    ).json()["conversations"]
    url = f"/api/v1/workspaces/{ws_id}/conversations/{conversation['id']}"
    r = await http.post(f"{url}/messages", headers=admin.headers, json={"text": "It ships today."})
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    # The reply's Message-ID is stored when the worker records it as sent, just after the relay
    # took it: until then nothing could thread onto it.
    async with asyncio.timeout(10):
        while [
            m["delivery_status"]
            for m in (await http.get(f"{url}/messages", headers=admin.headers)).json()["messages"]
            if m["kind"] == "outgoing"
        ] != ["sent"]:
            await asyncio.sleep(0.02)
    r = await http.patch(url, headers=admin.headers, json={"status": "resolved"})
    assert r.status_code == 200 and r.json()["unread_count"] == 0, r.text
    return admin, url, str(sent["Message-ID"])


def delivery_report(reply_id: str, message_id: str) -> bytes:
    """A bounce in the Exchange manner: the explanation, then the returned mail's headers, then
    the administrators' diagnostic (which folding took for quoted history), then the report."""
    return "\r\n".join(
        [
            "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>",
            f"To: {ADDRESS}",
            "Subject: Undeliverable: Re: Order 1042",
            f"Message-ID: {message_id}",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            'Content-Type: multipart/report; report-type=delivery-status; boundary="r1"',
            "",
            "--r1",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Delivery has failed to these recipients or groups:",
            "",
            "ali@customer.test",
            "",
            "Original message headers:",
            "",
            f"From: Acme <{ADDRESS}>",
            "To: ali@customer.test",
            "Subject: Re: Order 1042",
            "Date: Mon, 7 Dec 2026 08:00:00 +0000",
            "",
            "Diagnostic information for administrators:",
            "Remote server returned: recipient reached disk quota",
            "",
            "--r1",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.customer.test",
            "",
            "Final-Recipient: rfc822; ali@customer.test",
            "Action: failed",
            "Status: 5.2.2",
            "Diagnostic-Code: smtp; 552 5.2.2 <ali@customer.test>: recipient",
            " reached disk quota",
            "",
            "--r1",
            "Content-Type: text/rfc822-headers",
            "",
            f"From: {ADDRESS}",
            "To: ali@customer.test",
            f"Message-ID: {reply_id}",
            "",
            "--r1--",
            "",
        ]
    ).encode()


@with_relay
async def test_a_bounce_joins_its_conversation_without_a_contact_and_shows_why(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, url, reply_id = await answered_and_resolved(server, http, relay)
    raw = delivery_report(reply_id, "<bounce-1@mx.customer.test>")
    assert await deliver(LISTEN_PORT, [ADDRESS], raw, sender="") == {}
    conversation = (await http.get(url, headers=admin.headers)).json()
    assert (conversation["status"], conversation["unread_count"]) == ("resolved", 0)
    bounce = (await http.get(f"{url}/messages", headers=admin.headers)).json()["messages"][-1]
    assert (bounce["kind"], bounce["sender_type"], bounce["sender_id"]) == ("incoming", "system", None)
    # The explanation whole, then the report's recipient: nothing folded away.
    assert "Remote server returned: recipient reached disk quota" in bounce["text"]
    assert bounce["text"].endswith(
        "ali@customer.test: 5.2.2 failed — 552 5.2.2 <ali@customer.test>: recipient reached disk quota"
    )
    email = bounce["data"]["email"]
    assert email["kind"] == "bounce" and email["quoted"] == ""
    assert email["delivery"] == [
        {
            "recipient": "ali@customer.test",
            "action": "failed",
            "status": "5.2.2",
            "diagnostic": "552 5.2.2 <ali@customer.test>: recipient reached disk quota",
        }
    ]
    # The customer is the only contact; the mail system got neither contact nor identity.
    assert [c["email"] for c in await rows(server, t.contacts)] == ["ali@customer.test"]
    assert [i["source_id"] for i in await rows(server, t.contact_identities)] == ["ali@customer.test"]


@with_relay
async def test_an_auto_reply_neither_reopens_nor_marks_unread(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, url, reply_id = await answered_and_resolved(server, http, relay)
    for n, headers in enumerate(
        ({"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "auto_reply"})
    ):
        raw = mail(
            ADDRESS,
            "Out of office: Re: Order 1042",
            "I am away until Monday.",
            sender="Ali Yılmaz <ali@customer.test>",
            message_id=f"<ooo-{n}@customer.test>",
            headers={"In-Reply-To": reply_id, **headers},
        )
        assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    conversation = (await http.get(url, headers=admin.headers)).json()
    assert (conversation["status"], conversation["unread_count"]) == ("resolved", 0)
    assert conversation["last_message_preview"] == "I am away until Monday."
    messages = (await http.get(f"{url}/messages", headers=admin.headers)).json()["messages"]
    assert [m["data"]["email"]["kind"] for m in messages[-3:]] == ["auto_reply"] * 3
    # A person writing again does reopen it.
    again = mail(
        ADDRESS,
        "Re: Order 1042",
        "Still waiting.",
        sender="ali@customer.test",
        headers={"In-Reply-To": reply_id},
    )
    assert await deliver(LISTEN_PORT, [ADDRESS], again) == {}
    conversation = (await http.get(url, headers=admin.headers)).json()
    assert (conversation["status"], conversation["unread_count"]) == ("open", 1)


@with_relay
async def test_automatic_mail_that_threads_nowhere_is_stored_resolved(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id, local_part="support")
    auto = mail(
        ADDRESS, "Automatic reply", "Thank you for your mail.", headers={"Auto-Submitted": "auto-replied"}
    )
    # Sent with the null return path and no marks: a bounce all the same.
    plain_bounce = mail(
        ADDRESS, "Returned mail", "Your mail to bob@customer.test failed.", sender="mail@mx.test"
    )
    assert await deliver(LISTEN_PORT, [ADDRESS], auto) == {}
    assert await deliver(LISTEN_PORT, [ADDRESS], plain_bounce, sender="") == {}
    conversations = await rows(server, t.conversations)
    assert [(c["status"], c["unread_count"], c["waiting_since"]) for c in conversations] == [
        ("resolved", 0, None),
        ("resolved", 0, None),
    ]
    kinds = [m["data"]["email"]["kind"] for m in await rows(server, t.messages)]
    assert kinds == ["auto_reply", "bounce"]


def test_the_arrival_rule() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    earlier = datetime(2026, 12, 6, tzinfo=UTC)
    person = arrival_of(automatic=False, new_conversation=False, now=now)
    assert person.changes(2, earlier) == {
        "status": "open",
        "snoozed_until": None,
        "unread_count": 3,
        "waiting_since": earlier,
    }
    assert (
        arrival_of(automatic=False, new_conversation=True, now=now).changes(0, None)["waiting_since"] == now
    )
    assert arrival_of(automatic=True, new_conversation=False, now=now).changes(2, earlier) == {}
    assert arrival_of(automatic=True, new_conversation=True, now=now).changes(0, None) == {
        "status": "resolved"
    }
    assert joins_resolved(automatic=True, reopen_resolved=False)
    assert not joins_resolved(automatic=False, reopen_resolved=False)


def test_a_delivery_report_with_several_recipients() -> None:
    report = (
        b"Reporting-MTA: dns; mx.test\r\n\r\n"
        b"Final-Recipient: RFC822; a@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Original-Recipient: rfc822;b@x.test\nAction: Delayed\nStatus: 4.4.1\n"
        b"Diagnostic-Code: X-Postfix; connect to mx.x.test timed out\n"
    )
    assert read_report(report) == (
        RecipientStatus("a@x.test", "failed", "5.1.1", ""),
        RecipientStatus("b@x.test", "delayed", "4.4.1", "connect to mx.x.test timed out"),
    )
    assert summary(read_report(report)) == (
        "a@x.test: 5.1.1 failed\nb@x.test: 4.4.1 delayed — connect to mx.x.test timed out"
    )
    assert read_report(b"not a report at all") == ()
