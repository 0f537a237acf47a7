"""Receiving by IMAP (E3) against a real Dovecot (tests/dovecot.py) and a real database: mail is
imported once, threaded like hosted mail, left untouched on the server, survives restarts and a
new UIDVALIDITY without duplicates, arrives at once through IDLE, and every failure of the
connection check and of the import names its stage."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.app import build_services, running
from frontdesk.channels.email.connection import provider_advice
from frontdesk.channels.email.imap import check_imap
from frontdesk.channels.email.imap_client import open_imap
from frontdesk.channels.email.imap_supervisor import ImapSupervisor
from frontdesk.channels.email.wiring import imap_supervisor
from frontdesk.domain.enums import Role
from frontdesk.mail.tls import mail_tls_context
from frontdesk.services import Services
from frontdesk.store import tables as t
from tests.channels.email.cert_authority import make_server_cert
from tests.channels.email.dovecot import (  # noqa: F401 (a fixture)
    PASSWORD,
    SHARED_CERT,
    USER,
    Dovecot,
    dovecot_fixture,
    running_dovecot,
)
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    mail,
    make_email_inbox,
    new_port,
    relay_on,
    wire,
)
from tests.conftest import Server, make_settings
from tests.factories import Agent, make_admin, make_inbox, make_member

RELAY_PORT = new_port()


def running_supervisor(services: Services) -> ImapSupervisor:
    supervisor = imap_supervisor(services)
    assert supervisor is not None, "the IMAP imports run in a process with the worker"
    return supervisor


SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "mail_ca_file": SHARED_CERT.ca_file,
    "imap_poll_seconds": 300.0,  # only IDLE can bring mail within the tests' waits
    "smtp_host": "127.0.0.1",
    "smtp_port": RELAY_PORT,
    "smtp_starttls": False,
    "smtp_listen_max_bytes": 100_000,
}
with_imap = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
OWN = "support@acme.test"
# "Müşteri" in IMAP's modified UTF-7 (RFC 3501 5.1.3), worked out by hand: stdlib imaplib
# sends names as they are, while the inbox setting holds the name as people type it.
MUSTERI_UTF7 = "M&APwBXw-teri"


@pytest.fixture
def relay() -> Iterator[Relay]:
    with relay_on(RELAY_PORT) as r:
        yield r


def own_server(dovecot: Dovecot, **extra: Any) -> dict[str, Any]:
    return {
        "address_mode": "own_server",
        "own_address": OWN,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.imaps_port,
        "imap_security": "ssl",
        "imap_username": USER,
        "smtp_host": "127.0.0.1",
        "smtp_port": RELAY_PORT,
        "smtp_security": "none",
        **extra,
    }


async def setup(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot, password: str = PASSWORD, **extra: Any
) -> tuple[Agent, int, dict[str, Any]]:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes",
        headers=admin.headers,
        json={
            "name": "Support mail",
            "channel_type": "email",
            "settings": own_server(dovecot, **extra),
            "secrets": {"imap_password": password},
        },
    )
    assert r.status_code == 201, r.text
    supervisor = running_supervisor(server.services)
    supervisor.wake()  # the supervisor would see the new inbox on its next scan
    return admin, ws_id, r.json()


async def messages(services: Services) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        result = await conn.execute(sa.select(t.messages).order_by(t.messages.c.id))
        return [dict(r) for r in result.mappings().all()]


async def wait_messages(services: Services, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while len(found := await messages(services)) < count:
            await asyncio.sleep(0.05)
    return found


async def status(http: httpx.AsyncClient, admin: Agent, ws_id: int, inbox_id: int) -> dict[str, Any]:
    r = await http.get(f"/api/v1/workspaces/{ws_id}/inboxes/{inbox_id}/imap-status", headers=admin.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def wait_status(
    http: httpx.AsyncClient, admin: Agent, ws_id: int, inbox_id: int, done: Any, timeout: float = 15
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while not done(found := await status(http, admin, ws_id, inbox_id)):
            await asyncio.sleep(0.1)
    return found


@contextlib.asynccontextmanager
async def second_process(server: Server) -> AsyncIterator[Services]:
    """Frontdesk started again on the same database, as after a restart."""
    services = build_services(
        make_settings(server.services.settings.database_url, server.services.settings.data_dir, **SETTINGS)
    )
    async with running(services, with_worker=True):
        yield services


@with_imap
async def test_mail_is_imported_threaded_and_left_untouched(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot, relay: Relay
) -> None:
    dovecot.append(
        mail(OWN, "Sipariş nerede?", "Merhaba, siparişim gelmedi.", message_id="<q1@customer.test>")
    )
    admin, ws_id, inbox = await setup(server, http, dovecot)
    [first] = await wait_messages(server.services, 1)
    assert first["inbox_id"] == inbox["id"] and first["kind"] == "incoming"
    assert first["source_id"] == "q1@customer.test" or "q1@customer.test" in first["source_id"]
    assert "siparişim gelmedi" in first["text"]
    base = f"/api/v1/workspaces/{ws_id}/conversations/{first['conversation_id']}/messages"
    r = await http.post(base, headers=admin.headers, json={"text": "On its way!"})
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    answer = mail(
        OWN,
        "Re: Sipariş nerede?",
        "Thanks, it came.",
        headers={"In-Reply-To": sent["Message-ID"], "References": f"<q1@customer.test> {sent['Message-ID']}"},
    )
    dovecot.append(answer)
    # The customer's two, our reply, and the line saying the admin took the conversation by it.
    found = await wait_messages(server.services, 4)
    incoming = [m for m in found if m["kind"] == "incoming"]
    assert len(incoming) == 2
    assert {m["conversation_id"] for m in found} == {first["conversation_id"]}
    # Still on the server, flags as they were: Frontdesk read with EXAMINE and BODY.PEEK.
    flags = dovecot.flags()
    assert len(flags) == 2 and all(b"\\Seen" not in f for f in flags), flags
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["imported_count"] == 2)
    assert state["last_uid"] == 2 and state["folder"] == "INBOX" and state["error"] is None
    assert state["idle_supported"] is True and state["uidvalidity"] == dovecot.uidvalidity()


@with_imap
async def test_a_restart_imports_only_what_is_new(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    dovecot.append(mail(OWN, "One", message_id="<one@customer.test>"))
    admin, ws_id, inbox = await setup(server, http, dovecot)
    await wait_messages(server.services, 1)
    supervisor = running_supervisor(server.services)
    await supervisor.stop()  # this process stops importing (and gives its lease back)
    dovecot.append(mail(OWN, "Two", message_id="<two@customer.test>"))
    async with second_process(server) as services:
        found = await wait_messages(services, 2)
        await asyncio.sleep(0.5)  # time enough to import anything twice, if it would
        assert [m["source_id"] for m in await messages(services)] == [m["source_id"] for m in found]
    assert len(found) == 2 and "two@customer.test" in found[1]["source_id"]
    state = await status(http, admin, ws_id, inbox["id"])
    assert (state["imported_count"], state["last_uid"]) == (2, 2)


@with_imap
async def test_a_new_uidvalidity_imports_nothing_twice(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    dovecot.create("Support")
    first, second = (mail(OWN, s, message_id=f"<{s}@customer.test>") for s in ("a", "b"))
    for raw in (first, second):
        dovecot.append(raw, "Support")
    admin, ws_id, inbox = await setup(server, http, dovecot, imap_folder="Support")
    await wait_messages(server.services, 2)
    before = dovecot.uidvalidity("Support")
    supervisor = running_supervisor(server.services)
    await supervisor.stop()
    dovecot.delete("Support")
    await asyncio.sleep(1.1)  # Dovecot's UIDVALIDITY is a time in seconds
    dovecot.create("Support")
    for raw in (first, second, mail(OWN, "c", message_id="<c@customer.test>")):
        dovecot.append(raw, "Support")
    assert dovecot.uidvalidity("Support") != before
    async with second_process(server) as services:
        found = await wait_messages(services, 3)
        await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_uid"] == 3)
        assert len(await messages(services)) == 3
    assert sorted(m["source_id"] for m in found) == ["a@customer.test", "b@customer.test", "c@customer.test"]


@with_imap
async def test_idle_brings_new_mail_at_once(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id, inbox = await setup(server, http, dovecot)
    await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_checked_at"] is not None)
    await asyncio.sleep(0.3)  # the importer is idling now
    loop = asyncio.get_running_loop()
    started = loop.time()
    dovecot.append(mail(OWN, "While idling", message_id="<idle@customer.test>"))
    await wait_messages(server.services, 1, timeout=5)
    assert loop.time() - started < 5  # imap_poll_seconds is 300: only IDLE explains this


async def test_mail_announced_outside_idle_is_not_waited_for(dovecot: Dovecot) -> None:
    """A message that arrives while the importer talks to the server is announced on that
    command's answer, and Dovecot does not announce it again in the following IDLE: the
    client notes it so the importer looks again instead of idling past it."""
    client = await open_imap("127.0.0.1", dovecot.imaps_port, "ssl", mail_tls_context(SHARED_CERT.ca_file), 5)
    try:
        await client.login(USER, PASSWORD)
        await client.examine("INBOX")
        assert await client.sizes_after(0) == [] and not client.new_mail_noted
        dovecot.append(mail(OWN, "Between commands", message_id="<between@customer.test>"))
        await client.command("NOOP")
        assert client.new_mail_noted
        assert await client.idle(1.5) is False  # not announced twice: IDLE alone would miss it
        [found] = await client.sizes_after(0)
        assert not client.new_mail_noted and found.size > 0
    finally:
        await client.close()


@pytest.mark.parametrize("server", [{**SETTINGS, "imap_poll_seconds": 0.3}], indirect=True)
async def test_without_idle_the_folder_is_polled(server: Server, http: httpx.AsyncClient) -> None:
    # Dovecot told to leave IDLE out of its capabilities, as some servers do.
    with running_dovecot(extra_config="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n") as dovecot:
        admin, ws_id, inbox = await setup(server, http, dovecot)
        await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["idle_supported"] is False)
        dovecot.append(mail(OWN, "Polled", message_id="<polled@customer.test>"))
        [polled] = await wait_messages(server.services, 1, timeout=5)
        assert "polled@customer.test" in polled["source_id"]


@pytest.mark.parametrize("server", [{**SETTINGS, "smtp_listen_max_bytes": 8_000_000}], indirect=True)
async def test_a_big_mail_is_taken_apart_on_disk(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    """Over 1 MiB, the fetched mail is written to a spool file as it arrives and parsed from it
    as the SMTP listener parses one (its big attachment decoded to disk in chunks); the file is
    stored byte for byte and the spool folder is gone afterwards."""
    pdf = b"%PDF-1.7\n" + os.urandom(3_000_000)
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = "Ali Yılmaz <ali@customer.test>", OWN, "Fatura"
    big["Message-ID"] = "<big-imap@customer.test>"
    big.set_content("Fatura ekte.")
    big.add_attachment(pdf, maintype="application", subtype="pdf", filename="fatura.pdf")
    raw = wire(big)
    dovecot.append(raw)
    tracemalloc.start()
    try:
        await setup(server, http, dovecot)
        [message] = await wait_messages(server.services, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Streamed to a spool file as it arrives and taken apart there, the mail is never held
    # whole: 2.7 MB at the peak for this 4.1 MB mail when this was written. Read whole and
    # parsed in memory it was held 9 times (37.7 MB); read whole, then parsed from a file, 3.5.
    assert peak < len(raw), f"peak {peak:,} bytes of Python memory for a {len(raw):,}-byte mail"
    assert message["text"] == "Fatura ekte."
    async with server.services.db.read() as conn:
        [attachment] = (await conn.execute(sa.select(t.attachments))).mappings().all()
    assert (attachment["file_name"], attachment["size"]) == ("fatura.pdf", len(pdf))
    stored = server.services.settings.attachments_dir / attachment["path"]
    assert stored.read_bytes() == pdf
    # The spool goes right after the message is committed (which is what the wait above saw).
    tmp = server.services.settings.data_dir / "tmp"
    async with asyncio.timeout(5):
        while tmp.exists() and any(tmp.iterdir()):
            await asyncio.sleep(0.02)


@with_imap
async def test_large_mail_is_skipped_with_a_recorded_error(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    dovecot.append(mail(OWN, "Huge", "x" * 150_000, message_id="<huge@customer.test>"))
    dovecot.append(mail(OWN, "Small", message_id="<small@customer.test>"))
    admin, ws_id, inbox = await setup(server, http, dovecot)
    [only] = await wait_messages(server.services, 1)
    assert "small@customer.test" in only["source_id"]
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_uid"] == 2)
    assert state["error"] is not None and state["error"]["stage"] == "import"
    assert "UID 1" in state["error"]["detail"] and "over the limit" in state["error"]["detail"]
    assert len(dovecot.flags()) == 2


@with_imap
async def test_server_gone_is_shown_and_import_resumes(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id, inbox = await setup(server, http, dovecot)
    await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_checked_at"] is not None)
    dovecot.stop()
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["error"] is not None)
    assert state["error"]["stage"] == "connect", state
    dovecot.start()
    dovecot.append(mail(OWN, "After the outage", message_id="<back@customer.test>"))
    await wait_messages(server.services, 1, timeout=20)
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["error"] is None)
    assert state["imported_count"] == 1


@with_imap
async def test_a_wrong_password_is_shown_with_the_servers_words(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    dovecot.append(mail(OWN, "Waiting", message_id="<waiting@customer.test>"))
    admin, ws_id, inbox = await setup(server, http, dovecot, password="not it")
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["error"] is not None)
    assert state["error"]["stage"] == "login", state
    assert state["error"]["detail"] == "[AUTHENTICATIONFAILED] Authentication failed."
    r = await http.patch(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}",
        headers=admin.headers,
        json={"secrets": {"imap_password": PASSWORD}},
    )
    assert r.status_code == 200, r.text
    supervisor = running_supervisor(server.services)
    supervisor.wake()  # a new password is a changed inbox: its import starts again
    await wait_messages(server.services, 1)
    await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["error"] is None)


@with_imap
async def test_imap_status_is_for_admins_and_email_inboxes(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id, inbox = await setup(server, http, dovecot)
    api = await make_inbox(http, admin, ws_id, members=[])
    other = await http.get(f"/api/v1/workspaces/{ws_id}/inboxes/{api.id}/imap-status", headers=admin.headers)
    assert other.status_code == 404, other.text
    agent = await make_member(server, http, ws_id, Role.AGENT)
    members = await http.put(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/members",
        headers=admin.headers,
        json={"user_ids": [agent.user_id]},
    )
    assert members.status_code == 204, members.text
    refused = await http.get(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/imap-status", headers=agent.headers
    )
    assert refused.status_code == 403, refused.text
    hosted = await make_email_inbox(http, admin, ws_id, local_part="hello")
    empty = await status(http, admin, ws_id, hosted["id"])
    assert empty["folder"] is None and empty["error"] is None and empty["imported_count"] == 0
    spec = (await http.get("/api/openapi.json")).json()
    assert "/api/v1/workspaces/{workspace_id}/inboxes/{inbox_id}/imap-status" in spec["paths"]
    assert {"folder", "uidvalidity", "last_uid", "error"} <= set(
        spec["components"]["schemas"]["ImapStatus"]["properties"]
    )


def _settings(dovecot: Dovecot, **extra: Any) -> Any:
    values = {
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.imaps_port,
        "imap_security": "ssl",
        "imap_username": USER,
        "imap_folder": "INBOX",
        **extra,
    }
    return SimpleNamespace(**values)


async def test_check_imap_names_the_failing_stage(dovecot: Dovecot) -> None:
    ca = SHARED_CERT.ca_file
    ok = await check_imap(_settings(dovecot), PASSWORD, ca, 5)
    assert ok.ok and ok.stage is None and ok.passed[-1] == "folder"
    starttls = await check_imap(
        _settings(dovecot, imap_port=dovecot.imap_port, imap_security="starttls"), PASSWORD, ca, 5
    )
    assert starttls.ok, starttls
    folder = await check_imap(_settings(dovecot, imap_folder="Nowhere"), PASSWORD, ca, 5)
    assert (folder.stage, folder.passed[-1]) == ("folder", "login")
    assert "the folder 'Nowhere' does not exist" in folder.detail
    untrusted = await check_imap(_settings(dovecot), PASSWORD, None, 5)
    assert untrusted.stage == "tls" and "not trusted" in untrusted.detail, untrusted
    nothing = await check_imap(_settings(dovecot, imap_port=new_port()), PASSWORD, ca, 5)
    assert nothing.stage == "connect" and nothing.passed == ("dns",), nothing
    unknown = await check_imap(_settings(dovecot, imap_host="nonexistent.invalid"), PASSWORD, ca, 5)
    assert unknown.stage == "dns" and unknown.passed == (), unknown
    # Last: Dovecot slows down logins from an address that just failed one.
    wrong = await check_imap(_settings(dovecot), "wrong", ca, 5)
    assert wrong.stage == "login" and wrong.detail == "[AUTHENTICATIONFAILED] Authentication failed."
    assert wrong.advice is None and wrong.passed == ("dns", "connect", "tls")


async def test_check_imap_explains_certificate_problems(tmp_path: Path) -> None:
    expired = make_server_cert(tmp_path / "expired", expired=True)
    with running_dovecot(expired) as server:
        report = await check_imap(_settings(server), PASSWORD, expired.ca_file, 5)
    assert (report.stage, report.detail) == ("tls", "the server's certificate has expired"), report
    elsewhere = make_server_cert(tmp_path / "elsewhere", hosts=("mail.elsewhere.test",))
    with running_dovecot(elsewhere) as server:
        report = await check_imap(_settings(server, imap_host="localhost"), PASSWORD, elsewhere.ca_file, 5)
    assert report.stage == "tls" and "Hostname mismatch" in report.detail, report
    assert report.passed == ("dns", "connect")


def test_gmail_and_outlook_hosts_get_app_password_advice() -> None:
    assert provider_advice("imap.gmail.com") == "gmail_app_password"
    assert provider_advice("outlook.office365.com") == "outlook_app_password"
    assert provider_advice("mail.acme.test") is None


@with_imap
async def test_two_worker_processes_import_each_mail_once(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id, inbox = await setup(server, http, dovecot)
    await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_checked_at"] is not None)
    async with second_process(server) as services:
        supervisor = running_supervisor(services)
        supervisor.wake()
        for n in range(3):
            dovecot.append(mail(OWN, f"Mail {n}", message_id=f"<m{n}@customer.test>"))
        await wait_messages(services, 3)
        await asyncio.sleep(0.5)
        assert len(await messages(services)) == 3
        async with services.db.read() as conn:
            owner = (await conn.execute(sa.select(t.imap_states.c.lease_owner))).scalar_one()
        assert owner == running_supervisor(server.services).owner
    state = await status(http, admin, ws_id, inbox["id"])
    assert (state["imported_count"], state["last_uid"]) == (3, 3)


@with_imap
async def test_changed_and_disabled_inboxes_are_followed(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id, inbox = await setup(server, http, dovecot)
    await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["last_checked_at"] is not None)
    path = f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}"
    dovecot.create(MUSTERI_UTF7)
    dovecot.append(mail(OWN, "In the other folder", message_id="<other@customer.test>"), MUSTERI_UTF7)
    r = await http.patch(path, headers=admin.headers, json={"settings": {"imap_folder": "Müşteri"}})
    assert r.status_code == 200, r.text
    supervisor = running_supervisor(server.services)
    supervisor.wake()
    [moved] = await wait_messages(server.services, 1)
    assert "other@customer.test" in moved["source_id"]
    state = await wait_status(http, admin, ws_id, inbox["id"], lambda s: s["folder"] == "Müşteri")
    assert state["last_uid"] == 1
    r = await http.patch(path, headers=admin.headers, json={"is_enabled": False})
    assert r.status_code == 200, r.text
    supervisor.wake()
    await asyncio.sleep(0.5)
    dovecot.append(mail(OWN, "While disabled", message_id="<off@customer.test>"), MUSTERI_UTF7)
    await asyncio.sleep(1.5)
    assert len(await messages(server.services)) == 1
