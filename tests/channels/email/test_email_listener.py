"""The SMTP listener for hosted addresses (E1), driven with Python's smtplib against a real
server on 127.0.0.1 and a real database: what is accepted, refused, stored once, and threaded."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.domain.email.addresses import read_recipient, slugify
from frontdesk.domain.email.threading import reply_address
from frontdesk.store import tables as t
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_on,
    rows,
    wire,
)
from tests.conftest import Server
from tests.factories import make_admin

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
MAX_BYTES = 200_000
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "smtp_listen_port": LISTEN_PORT,
    "smtp_listen_max_bytes": MAX_BYTES,
    "max_attachment_bytes": 50_000,
    "smtp_host": "127.0.0.1",
    "smtp_port": RELAY_PORT,
    "smtp_starttls": False,
}
with_listener = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme-cicek.{MAIL_DOMAIN}"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with relay_on(RELAY_PORT) as r:
        yield r


async def setup(server: Server, http: httpx.AsyncClient) -> tuple[Any, int, dict[str, Any]]:
    admin, ws_id = await make_admin(server, http, workspace="Acme Çiçek")
    inbox = await make_email_inbox(http, admin, ws_id, local_part="support", from_name="Acme Support")
    return admin, ws_id, inbox


def test_slugs_and_recipients() -> None:
    assert slugify("Acme Çiçek Ltd.") == "acme-cicek-ltd"
    assert slugify("IŞIK Öğretim") == "isik-ogretim"
    assert slugify("پشتیبانی") == ""
    found = read_recipient(f"Support@Acme.{MAIL_DOMAIN.upper()}", MAIL_DOMAIN)
    assert found is not None and (found.local_part, found.mail_slug) == ("support", "acme")
    assert read_recipient(f"support@a.b.{MAIL_DOMAIN}", MAIL_DOMAIN) is None
    assert read_recipient("support@acme.example.com", MAIL_DOMAIN) is None


@with_listener
async def test_mail_to_the_hosted_address_becomes_a_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    _, ws_id, inbox = await setup(server, http)
    refused = await deliver(
        LISTEN_PORT, [ADDRESS], mail(ADDRESS, "Sipariş nerede?", "Merhaba, siparişim gelmedi.")
    )
    assert refused == {}
    [message] = await rows(server, t.messages)
    assert message["inbox_id"] == inbox["id"]
    assert message["kind"] == "incoming"
    assert message["content_type"] == "email"
    assert "siparişim gelmedi" in message["text"]
    assert message["data"]["email"]["subject"] == "Sipariş nerede?"
    [contact] = await rows(server, t.contacts)
    assert (contact["name"], contact["email"]) == ("Ali Yılmaz", "ali@customer.test")
    [conversation] = await rows(server, t.conversations)
    assert conversation["workspace_id"] == ws_id and conversation["status"] == "open"


@with_listener
async def test_unknown_recipients_are_refused_at_rcpt_and_nothing_is_stored(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    for address in (
        f"sales@acme-cicek.{MAIL_DOMAIN}",  # no such inbox
        f"support@nobody.{MAIL_DOMAIN}",  # no such workspace
        "support@elsewhere.example.com",  # not our domain, no inbox has it as its own address
        f"reply+1-00000000000000000000@acme-cicek.{MAIL_DOMAIN}",  # a forged reply token
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            await deliver(LISTEN_PORT, [address], mail(address))
        code, text = caught.value.recipients[address]
        assert code == 550, (address, code, text)
        assert b"No such mailbox" in text
    assert await rows(server, t.messages) == []
    assert await rows(server, t.contacts) == []


@with_listener
async def test_oversize_mail_is_refused_with_552(server: Server, http: httpx.AsyncClient) -> None:
    await setup(server, http)
    big = mail(ADDRESS, text=("x" * 70 + "\n") * (MAX_BYTES // 70 + 100))

    def announced_and_refused() -> tuple[str, tuple[int, bytes], tuple[int, bytes]]:
        with smtplib.SMTP("127.0.0.1", LISTEN_PORT, timeout=10) as client:
            client.ehlo()
            size = client.esmtp_features["size"]
            # Declared too big: refused at MAIL FROM.
            declared = client.mail("ali@customer.test", [f"SIZE={len(big)}"])
            client.rset()
            # Not declared: refused after the data.
            client.mail("ali@customer.test")
            client.rcpt(ADDRESS)
            sent = client.data(big)
            return size, declared, sent

    size, declared, sent = await asyncio.to_thread(announced_and_refused)
    assert size == str(MAX_BYTES)
    assert declared[0] == 552
    assert sent[0] == 552, sent
    assert await rows(server, t.messages) == []


@with_listener
async def test_the_same_message_id_twice_is_stored_once(server: Server, http: httpx.AsyncClient) -> None:
    await setup(server, http)
    raw = mail(ADDRESS, message_id="<twice-1@customer.test>")
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert message["source_id"] == "twice-1@customer.test"


@with_listener
async def test_a_disabled_inbox_refuses_mail(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id, inbox = await setup(server, http)
    # A first mail: the listener has the address's route cached when the inbox is disabled.
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS, message_id="<before@customer.test>")) == {}
    r = await http.patch(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}", headers=admin.headers, json={"is_enabled": False}
    )
    assert r.status_code == 200, r.text
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS))
    code, text = caught.value.recipients[ADDRESS]
    assert code == 550 and b"disabled" in text
    assert [m["source_id"] for m in await rows(server, t.messages)] == ["before@customer.test"]


@with_listener
async def test_one_mail_to_two_inboxes_lands_in_both(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id, first = await setup(server, http)
    second = await make_email_inbox(http, admin, ws_id, local_part="billing")
    billing = f"billing@acme-cicek.{MAIL_DOMAIN}"
    stranger = f"nobody@acme-cicek.{MAIL_DOMAIN}"
    refused = await deliver(
        LISTEN_PORT, [ADDRESS, billing, stranger], mail(f"{ADDRESS}, {billing}", message_id="<both@c.test>")
    )
    assert list(refused) == [stranger]  # the others took it
    stored = await rows(server, t.messages)
    assert sorted(m["inbox_id"] for m in stored) == sorted([first["id"], second["id"]])
    assert {m["source_id"] for m in stored} == {"both@c.test"}


@with_listener
async def test_own_address_delivered_here_directly(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Own")
    inbox = await make_email_inbox(
        http, admin, ws_id, address_mode="own_address", own_address="Help@Shop.Example", local_part="help"
    )
    assert await deliver(LISTEN_PORT, ["help@shop.example"], mail("help@shop.example")) == {}
    # Forwarded by the shop's own mail server to the hosted address: same inbox.
    assert await deliver(LISTEN_PORT, [f"help@own.{MAIL_DOMAIN}"], mail("help@shop.example")) == {}
    assert [m["inbox_id"] for m in await rows(server, t.messages)] == [inbox["id"], inbox["id"]]


@with_listener
async def test_an_oversize_attachment_is_left_out_with_an_annotation(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id, _ = await setup(server, http)
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "ali@customer.test"
    msg["To"] = ADDRESS
    msg["Subject"] = "Photos"
    msg["Message-ID"] = "<photos@customer.test>"
    msg.set_content("Two files attached.")
    msg.add_attachment(b"%PDF-1.4 small", maintype="application", subtype="pdf", filename="small.pdf")
    msg.add_attachment(b"%PDF-1.4" + b"0" * 60_000, maintype="application", subtype="pdf", filename="big.pdf")
    assert await deliver(LISTEN_PORT, [ADDRESS], wire(msg)) == {}
    [message] = await rows(server, t.messages)
    # The note is beside the customer's text, not in it: not in the preview, not searchable.
    assert message["text"].strip() == "Two files attached."
    big = {"code": "attachment_too_large", "filename": "big.pdf", "size": 60_008, "limit": 50_000}
    assert message["annotations"] == [big]
    assert [a["file_name"] for a in await rows(server, t.attachments)] == ["small.pdf"]
    base = f"/api/v1/workspaces/{ws_id}/conversations"
    [conv] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    assert conv["last_message_preview"] == "Two files attached."
    thread = (await http.get(f"{base}/{conv['id']}/messages", headers=admin.headers)).json()["messages"]
    assert thread[0]["annotations"] == [big]
    # The realtime event carries them too (the same view as the API's).
    async with server.services.db.read() as conn:
        query = sa.select(t.events.c.payload).where(t.events.c.type == "message.created")
        [created] = (await conn.execute(query)).scalars().all()
    assert created["message"]["annotations"] == [big]
    found = await http.get(
        f"/api/v1/workspaces/{ws_id}/search", params={"q": "big.pdf"}, headers=admin.headers
    )
    assert found.status_code == 200 and found.json()["messages"] == [], found.text


@with_listener
async def test_replies_join_their_conversation_by_in_reply_to_and_by_reply_token(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox = await setup(server, http)
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS, message_id="<first@customer.test>")) == {}
    [first] = await rows(server, t.messages)
    conversation_id = first["conversation_id"]
    base = f"/api/v1/workspaces/{ws_id}/conversations/{conversation_id}/messages"
    r = await http.post(base, headers=admin.headers, json={"text": "It ships today."})
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    our_id = sent["Message-ID"].strip("<>")
    # The worker records the Message-ID once the relay has taken the mail, a moment after the
    # relay has it: a real customer cannot answer sooner.
    for _ in range(250):
        if [m["source_id"] for m in await rows(server, t.messages, t.messages.c.kind == "outgoing")] == [
            our_id
        ]:
            break
        await asyncio.sleep(0.02)

    # The customer answers our reply (their client sets In-Reply-To), under another subject.
    answer = mail(ADDRESS, "Thanks", "Great, thank you!", headers={"In-Reply-To": f"<{our_id}>"})
    assert await deliver(LISTEN_PORT, [ADDRESS], answer) == {}
    # Their client dropped the headers, but wrote to our Reply-To address (reply+<token>).
    token_address = str(sent["Reply-To"])
    assert token_address.startswith("reply+") and token_address.endswith(f"@acme-cicek.{MAIL_DOMAIN}")
    assert await deliver(LISTEN_PORT, [token_address], mail(token_address, "Another thing", "Also...")) == {}
    # A new subject with no threading headers starts a conversation of its own.
    assert await deliver(LISTEN_PORT, [ADDRESS], mail(ADDRESS, "New question", "Hi again")) == {}

    incoming = await rows(server, t.messages, t.messages.c.kind == "incoming")
    assert [m["conversation_id"] == conversation_id for m in incoming] == [True, True, True, False]
    # A token of this inbox that names the conversation verifies; the inbox secret is what signs it.
    secrets = (
        await http.get(f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/secrets", headers=admin.headers)
    ).json()
    assert token_address == reply_address(
        conversation_id, secrets["reply_secret"], f"acme-cicek.{MAIL_DOMAIN}"
    )


@with_listener
async def test_storage_trouble_answers_451_and_the_retry_is_stored(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    # The messages table goes away for a moment: the insert fails inside the transaction.
    async with server.services.db.write() as tx:
        await tx.conn.execute(sa.text("ALTER TABLE messages RENAME TO messages_away"))
    raw = mail(ADDRESS, message_id="<retry-1@customer.test>")
    with pytest.raises(smtplib.SMTPDataError) as caught:
        await deliver(LISTEN_PORT, [ADDRESS], raw)
    assert caught.value.smtp_code == 451
    async with server.services.db.write() as tx:
        await tx.conn.execute(sa.text("ALTER TABLE messages_away RENAME TO messages"))
    assert await rows(server, t.contacts) == []  # the failed transaction left nothing behind
    # The sending server tries again later: now it is stored, once.
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    assert [m["source_id"] for m in await rows(server, t.messages)] == ["retry-1@customer.test"]


@with_listener
async def test_auto_replies_are_stored_marked_and_never_answered(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    raw = mail(
        ADDRESS,
        "Automatic reply: Out of office",
        "I am away until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert message["data"]["email"]["kind"] == "auto_reply"
    # Nothing went out and nothing is queued to go out.
    assert await rows(server, t.messages, t.messages.c.kind == "outgoing") == []
    assert await rows(server, t.jobs, t.jobs.c.kind == "send_reply") == []


@with_listener
async def test_the_inbox_shows_its_addresses(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id, inbox = await setup(server, http)
    url = f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/email-addresses"
    body = (await http.get(url, headers=admin.headers)).json()
    assert body == {
        "address_mode": "hosted",
        "hosted_address": ADDRESS,
        "own_address": None,
        "forward_to": None,
        "reply_domain": f"acme-cicek.{MAIL_DOMAIN}",
        "listener_enabled": True,
    }
    own = await make_email_inbox(
        http, admin, ws_id, address_mode="own_address", own_address="help@shop.example", local_part="help"
    )
    url = f"/api/v1/workspaces/{ws_id}/inboxes/{own['id']}/email-addresses"
    body = (await http.get(url, headers=admin.headers)).json()
    assert body["forward_to"] == f"help@acme-cicek.{MAIL_DOMAIN}"
    assert body["own_address"] == "help@shop.example"
    # Another workspace's admin sees nothing of it.
    other, other_ws = await make_admin(server, http, workspace="Other")
    r = await http.get(
        f"/api/v1/workspaces/{other_ws}/inboxes/{own['id']}/email-addresses", headers=other.headers
    )
    assert r.status_code == 404


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1, made for the test."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, MAIL_DOMAIN)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


CERT, KEY = _self_signed(Path(tempfile.mkdtemp(prefix="frontdesk-smtp-tls-")))


@pytest.mark.parametrize("server", [{**SETTINGS, "smtp_tls_cert": CERT, "smtp_tls_key": KEY}], indirect=True)
async def test_starttls_with_the_configured_certificate(server: Server, http: httpx.AsyncClient) -> None:
    await setup(server, http)

    def over_tls() -> tuple[bool, bytes]:
        context = ssl.create_default_context(cafile=str(CERT))
        context.check_hostname = False  # the certificate names the mail domain, we dial 127.0.0.1
        with smtplib.SMTP("127.0.0.1", LISTEN_PORT, timeout=10) as client:
            client.ehlo()
            offered = client.has_extn("starttls")
            client.starttls(context=context)
            client.ehlo()
            peer = client.sock.getpeercert(binary_form=True) if client.sock else None
            client.sendmail("ali@customer.test", [ADDRESS], mail(ADDRESS))
            return offered, peer or b""

    offered, peer = await asyncio.to_thread(over_tls)
    assert offered
    assert peer == ssl.PEM_cert_to_DER_cert(CERT.read_text())
    assert len(await rows(server, t.messages)) == 1


@with_listener
async def test_no_starttls_without_a_certificate(server: Server, http: httpx.AsyncClient) -> None:
    def offered() -> bool:
        with smtplib.SMTP("127.0.0.1", LISTEN_PORT, timeout=10) as client:
            client.ehlo()
            return bool(client.has_extn("starttls"))

    assert not await asyncio.to_thread(offered)


def test_migration_gives_existing_workspaces_unique_slugs(tmp_path: Path) -> None:
    from frontdesk.store.migrate import upgrade

    path = tmp_path / "old.db"
    upgrade(f"sqlite+aiosqlite:///{path}", "0006")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for name in ("Acme", "ACME", "پشتیبانی", "Çiçek"):
            conn.execute(
                sa.text(
                    "INSERT INTO workspaces (name, next_conversation_number, created_at) VALUES (:n, 1, :c)"
                ),
                {"n": name, "c": "2026-01-01 00:00:00"},
            )
    upgrade(f"sqlite+aiosqlite:///{path}")
    with engine.connect() as conn:
        slugs = conn.execute(sa.text("SELECT mail_slug FROM workspaces ORDER BY id")).scalars().all()
    engine.dispose()
    assert slugs == ["acme", "acme-2", "workspace-3", "cicek"]


def test_listener_settings_are_checked() -> None:
    from pydantic import ValidationError

    from frontdesk.settings import Settings

    with pytest.raises(ValidationError, match="FRONTDESK_MAIL_DOMAIN"):
        Settings(dev_mode=True, smtp_listen_port=2525)
    with pytest.raises(ValidationError, match="set together"):
        Settings(dev_mode=True, smtp_tls_cert=CERT)
    assert Settings(dev_mode=True).smtp_listen_port == 0  # off unless asked for


@with_listener
async def test_an_inbox_disabled_between_rcpt_and_data_stores_nothing(
    server: Server, http: httpx.AsyncClient
) -> None:
    """The route found at RCPT is checked again in the transaction that would store the mail."""
    admin, ws_id, inbox = await setup(server, http)

    def rcpt() -> smtplib.SMTP:
        client = smtplib.SMTP("127.0.0.1", LISTEN_PORT, timeout=10)
        client.ehlo()
        assert client.mail("ali@customer.test")[0] == 250
        assert client.rcpt(ADDRESS)[0] == 250
        return client

    client = await asyncio.to_thread(rcpt)
    try:
        r = await http.patch(
            f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}",
            headers=admin.headers,
            json={"is_enabled": False},
        )
        assert r.status_code == 200, r.text
        code, text = await asyncio.to_thread(client.data, mail(ADDRESS))
    finally:
        await asyncio.to_thread(client.quit)
    assert code == 550 and b"any more" in text
    assert await rows(server, t.messages) == []
