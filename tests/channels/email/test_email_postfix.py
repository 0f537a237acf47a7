"""Mail through a real MTA (Postfix, tests/channels/email/postfix.py) on both sides of Frontdesk:

- inbound: the customer's mail goes to Postfix, which relays it to Frontdesk's SMTP listener;
  a mail for an address Frontdesk does not host is refused at RCPT and Postfix bounces it;
- outbound: an own_server inbox's SMTP server is Postfix, which relays the reply on to the
  customer's server (a capturing aiosmtpd).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.channels.email.smtp_check import check_smtp
from frontdesk.mail.outbound import Security
from frontdesk.store import tables as t
from tests.channels.email.cert_authority import make_server_cert
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_on,
)
from tests.channels.email.postfix import Postfix, running_postfix
from tests.channels.email.test_email_replies import reply, wait_for_status
from tests.conftest import Server
from tests.factories import Agent, make_admin

LISTEN_PORT = new_port()
CUSTOMER_PORT = new_port()  # the customer's own mail server: where bounces and replies arrive
CLOSED_PORT = new_port()
CUSTOMER_DOMAIN = "customer.test"
# Postfix offers STARTTLS with this certificate; Frontdesk trusts its CA (made at import: the
# server's settings are fixed when tests are collected).
CERT = make_server_cert(Path(tempfile.mkdtemp(prefix="frontdesk-postfix-cert-")))
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "smtp_listen_port": LISTEN_PORT,
    "smtp_host": "",
    "mail_ca_file": CERT.ca_file,
}
with_server = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
HOSTED = f"support@acme.{MAIL_DOMAIN}"


@pytest.fixture
def customer() -> Iterator[Relay]:
    with relay_on(CUSTOMER_PORT) as server:
        yield server


@pytest.fixture
def postfix(customer: Relay) -> Iterator[Postfix]:
    routes = {MAIL_DOMAIN: LISTEN_PORT, CUSTOMER_DOMAIN: CUSTOMER_PORT}
    with running_postfix(routes, tls=CERT) as instance:
        yield instance


async def conversations(http: httpx.AsyncClient, admin: Agent, ws_id: int) -> list[dict[str, Any]]:
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    found: list[dict[str, Any]] = page["conversations"]
    return found


async def wait_for_conversation(http: httpx.AsyncClient, admin: Agent, ws_id: int) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while not (found := await conversations(http, admin, ws_id)):
            await asyncio.sleep(0.1)
    [only] = found
    return only


@with_server
async def test_mail_relayed_by_postfix_becomes_a_conversation(
    server: Server, http: httpx.AsyncClient, postfix: Postfix
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id)
    raw = mail(HOSTED, "Through Postfix", "Hello from behind an MTA.", message_id="<pf1@customer.test>")
    assert await deliver(postfix.port, [HOSTED], raw) == {}
    found = await wait_for_conversation(http, admin, ws_id)
    base = f"/api/v1/workspaces/{ws_id}/conversations/{found['id']}/messages"
    [message] = (await http.get(base, headers=admin.headers)).json()["messages"]
    assert message["text"].strip() == "Hello from behind an MTA."
    assert message["source_id"] == "pf1@customer.test"
    # Postfix handed it to our listener, which took it (250 after the commit).
    await postfix.wait_for_log(
        rf"to=<{HOSTED}>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{LISTEN_PORT},.*status=sent \(250 "
    )


@with_server
async def test_mail_for_an_unknown_address_is_refused_and_bounced_by_postfix(
    server: Server, http: httpx.AsyncClient, postfix: Postfix, customer: Relay
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id)
    nobody = f"nobody@acme.{MAIL_DOMAIN}"
    raw = mail(nobody, "Anyone there?", sender=f"Ali <ali@{CUSTOMER_DOMAIN}>")
    # Postfix takes it (it only relays) and learns at our RCPT that nobody lives there.
    assert await deliver(postfix.port, [nobody], raw, sender=f"ali@{CUSTOMER_DOMAIN}") == {}
    bounced = await postfix.wait_for_log(rf"to=<{nobody}>,.*status=bounced \((.*)\)")
    assert f"said: 550 5.1.1 No such mailbox here: {nobody} (in reply to RCPT TO command)" in bounced.group(1)
    # The bounce goes back to the sender's server, naming our refusal.
    [notice] = await customer.wait(1, timeout=20)
    assert customer.envelopes[0] == ("<>", [f"ali@{CUSTOMER_DOMAIN}"])  # a bounce has no sender
    assert "Undelivered Mail Returned to Sender" in str(notice["Subject"])
    assert "No such mailbox here" in notice.as_string()
    # Nothing was stored for it.
    assert await conversations(http, admin, ws_id) == []
    async with server.services.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.messages))).scalar_one() == 0


@with_server
async def test_a_reply_leaves_through_postfix_as_the_inbox_s_own_smtp_server(
    server: Server, http: httpx.AsyncClient, postfix: Postfix, customer: Relay
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(
        http,
        admin,
        ws_id,
        address_mode="own_server",
        own_address=f"help@{CUSTOMER_DOMAIN}",
        from_name="Shop Help",
        imap_host="127.0.0.1",
        imap_port=CLOSED_PORT,  # nothing there: the IMAP import records an error, no more
        imap_security="none",
        imap_username="help",
        smtp_host="127.0.0.1",
        smtp_port=postfix.port,
        smtp_security="starttls",  # no login: Postfix relays for 127.0.0.0/8 (mynetworks)
    )
    raw = mail(HOSTED, "Order 7", sender=f"Ali <ali@{CUSTOMER_DOMAIN}>", message_id="<o7@customer.test>")
    assert await deliver(LISTEN_PORT, [HOSTED], raw) == {}
    found = await wait_for_conversation(http, admin, ws_id)
    base = f"/api/v1/workspaces/{ws_id}/conversations/{found['id']}/messages"
    sent = await reply(http, admin, base, "Shipped today.")
    [delivered] = await customer.wait(1, timeout=20)
    await wait_for_status(http, admin, base, sent["id"], "sent")
    assert str(delivered["From"]) == f"Shop Help <help@{CUSTOMER_DOMAIN}>"
    assert delivered["In-Reply-To"] == "<o7@customer.test>"
    assert customer.envelopes[0] == (f"help@{CUSTOMER_DOMAIN}", [f"ali@{CUSTOMER_DOMAIN}"])
    # It really passed through Postfix: its Received line is on top.
    received = delivered.get_all("Received") or []
    assert received and "by postfix.test (Postfix)" in str(received[0])
    assert "with ESMTPS" in str(received[0])  # RFC 3848: taken over TLS (our STARTTLS)
    await postfix.wait_for_log(r"disconnect from .* starttls=1 mail=1 rcpt=1 data=1")


@dataclass(frozen=True)
class Form:
    smtp_host: str | None
    smtp_port: int
    smtp_security: Security
    smtp_username: str | None


async def test_the_smtp_check_passes_against_postfix(postfix: Postfix) -> None:
    report = await check_smtp(Form("127.0.0.1", postfix.port, "starttls", None), None, CERT.ca_file, 5)
    assert report.ok, report
    assert report.passed == ("dns", "connect", "tls")  # no user name: no login stage
    untrusted = await check_smtp(Form("127.0.0.1", postfix.port, "starttls", None), None, None, 5)
    assert (untrusted.ok, untrusted.stage) == (False, "tls")
    assert "not trusted" in untrusted.detail
