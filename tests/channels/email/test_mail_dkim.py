"""DKIM (E2): a reply from an own-address inbox reaches a real SMTP relay signed, and the bytes the
relay received verify with dkimpy against the record published on a real DNS server
(tests/channels/email/dns_server.py); a changed header fails; hosted replies are not signed; the key has its
own action and survives rotating the inbox's secrets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dkim
import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from frontdesk.store import tables as t
from tests.channels.email.dns_server import DnsServer, dns_server
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_settings,
)
from tests.conftest import Server
from tests.factories import Agent, make_admin

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
DNS_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT, LISTEN_PORT, dns_servers=f"127.0.0.1:{DNS_PORT}")
with_mail = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"
OWN = "help@shop.test"


class RawRelay(Relay):
    """Keeps the bytes exactly as they came over SMTP: the signature is over those."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay() -> Iterator[RawRelay]:
    relay = RawRelay(RELAY_PORT)
    controller = Controller(relay, hostname="127.0.0.1", port=RELAY_PORT)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    with dns_server(DNS_PORT) as server:
        yield server


async def inbox_with_conversation(
    server: Server, http: httpx.AsyncClient, **settings: Any
) -> tuple[Agent, int, int, str]:
    """An email inbox, a customer's mail to it (forwarded to the hosted address), the messages URL."""
    admin, ws = await make_admin(server, http, workspace="Acme")
    inbox = await make_email_inbox(http, admin, ws, **settings)
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS, "Sipariş nerede?")) == {}
    page = (await http.get(f"/api/v1/workspaces/{ws}/conversations", headers=admin.headers)).json()
    [conversation] = page["conversations"]
    return admin, ws, inbox["id"], f"/api/v1/workspaces/{ws}/conversations/{conversation['id']}/messages"


async def reply(http: httpx.AsyncClient, admin: Agent, base: str, text: str) -> None:
    r = await http.post(base, headers=admin.headers, json={"text": text})
    assert r.status_code == 201, r.text


async def publish_dkim(http: httpx.AsyncClient, admin: Agent, ws: int, inbox_id: int, dns: DnsServer) -> str:
    shown = (
        await http.get(f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}/email-dns", headers=admin.headers)
    ).json()
    [record] = [r for r in shown["records"] if r["kind"] == "dkim"]
    dns.zone.add_txt(record["name"], record["value"])
    return str(record["value"])


def verifies(raw: bytes, dns: DnsServer) -> bool:
    return bool(dkim.verify(raw, dnsfunc=dns.txt_lookup))


@with_mail
async def test_a_reply_from_the_own_address_is_signed_and_verifies(
    server: Server, http: httpx.AsyncClient, relay: RawRelay, dns: DnsServer
) -> None:
    admin, ws, inbox_id, base = await inbox_with_conversation(
        server, http, address_mode="own_address", own_address=OWN, from_name="Acme Destek"
    )
    await publish_dkim(http, admin, ws, inbox_id, dns)
    await reply(http, admin, base, "Merhaba Ali,\n\nŞu an yolda; cuma günü orada.")
    [sent] = await relay.wait(1)
    [raw] = relay.raw
    signature = str(sent["DKIM-Signature"])
    assert "d=shop.test" in signature and "s=frontdesk" in signature
    assert "c=relaxed/relaxed" in signature and "a=rsa-sha256" in signature
    signed = signature.split("h=", 1)[1].split(";", 1)[0].replace(" ", "").split(":")
    assert {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "reply-to"} <= set(
        signed
    )
    assert verifies(raw, dns)
    assert ("frontdesk._domainkey.shop.test", "TXT", "tcp") in dns.zone.questions
    # Anything a forger would change breaks it: a header, or the text.
    assert not verifies(raw.replace(b"Subject: Re: ", b"Subject: Fwd: ", 1), dns)
    assert not verifies(raw.replace(b"From: ", b"From: Evil ", 1), dns)
    body_start = raw.index(b"\r\n\r\n")
    tampered = raw[:body_start] + raw[body_start:].replace(
        b"Content-Type: text/plain", b"Content-Type: text/html", 1
    )
    assert not verifies(tampered, dns)


@with_mail
async def test_a_hosted_reply_is_not_signed(
    server: Server, http: httpx.AsyncClient, relay: RawRelay, dns: DnsServer
) -> None:
    admin, _, _, base = await inbox_with_conversation(server, http)
    await reply(http, admin, base, "Hello")
    [sent] = await relay.wait(1)
    assert sent["DKIM-Signature"] is None
    assert b"DKIM-Signature" not in relay.raw[0]


@with_mail
async def test_an_inbox_without_a_key_sends_unsigned_until_one_is_made(
    server: Server, http: httpx.AsyncClient, relay: RawRelay, dns: DnsServer
) -> None:
    admin, ws, inbox_id, base = await inbox_with_conversation(
        server, http, address_mode="own_address", own_address=OWN
    )
    # As an inbox made before DKIM keys were generated: its secrets have no key.
    box = server.services.box
    async with server.services.db.write() as tx:
        row = (await tx.conn.execute(sa.select(t.inboxes).where(t.inboxes.c.id == inbox_id))).mappings().one()
        secrets = {k: v for k, v in box.open(row["secrets_encrypted"]).items() if k != "dkim_private_key"}
        await tx.conn.execute(
            t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(secrets_encrypted=box.seal(secrets))
        )
    url = f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}/email-dns"
    shown = (await http.get(url, headers=admin.headers)).json()
    assert shown["dkim_key_present"] is False
    assert "dkim" not in {r["kind"] for r in shown["records"]}
    await reply(http, admin, base, "Unsigned")
    [first] = await relay.wait(1)
    assert first["DKIM-Signature"] is None

    made = await http.post(url + "/dkim-key", headers=admin.headers)
    assert made.status_code == 200, made.text
    assert made.json()["dkim_key_present"] is True
    [record] = [r for r in made.json()["records"] if r["kind"] == "dkim"]
    dns.zone.add_txt(record["name"], record["value"])
    await reply(http, admin, base, "Signed")
    await relay.wait(2)
    assert verifies(relay.raw[1], dns)
    a = t.audit_events
    async with server.services.db.read() as conn:
        data = (
            await conn.execute(
                sa.select(a.c.data).where(a.c.action == "inbox.secrets", a.c.target_id == inbox_id)
            )
        ).scalar_one()
    assert data == {"fields": ["dkim_private_key"]}  # the name of the secret, never its value


@with_mail
async def test_rotating_secrets_keeps_the_published_key(
    server: Server, http: httpx.AsyncClient, relay: RawRelay, dns: DnsServer
) -> None:
    admin, ws, inbox_id, base = await inbox_with_conversation(
        server, http, address_mode="own_address", own_address=OWN
    )
    inbox_url = f"/api/v1/workspaces/{ws}/inboxes/{inbox_id}"
    before = (await http.get(inbox_url + "/secrets", headers=admin.headers)).json()
    assert before["dkim_private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    published = await publish_dkim(http, admin, ws, inbox_id, dns)
    rotated = await http.post(inbox_url + "/secrets/rotate", headers=admin.headers)
    assert rotated.status_code == 200, rotated.text
    after = (await http.get(inbox_url + "/secrets", headers=admin.headers)).json()
    assert after["reply_secret"] != before["reply_secret"]
    assert after["dkim_private_key"] == before["dkim_private_key"]
    await reply(http, admin, base, "Still signed with the published key")
    await relay.wait(1)
    assert verifies(relay.raw[0], dns)
    # The explicit action does replace it: the old record no longer matches.
    made = (await http.post(inbox_url + "/email-dns/dkim-key", headers=admin.headers)).json()
    [record] = [r for r in made["records"] if r["kind"] == "dkim"]
    assert record["value"] != published
