"""An email inbox on the company's own mail server (E3), whole: the *Test connection* endpoint
against a real Dovecot and a real SMTP server with login over TLS, then mail in by IMAP and
replies out by SMTP on an installation with no hosted mail domain at all; everyone the customer
copied stays copied on the conversation's replies (E4), and replies carry no hosted Reply-To."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.channels.email.dovecot import PASSWORD, SHARED_CERT, USER, Dovecot, dovecot_fixture  # noqa: F401 (a fixture)
from tests.channels.email.email_support import mail, new_port
from tests.channels.email.test_email_own_smtp import PASSWORD as SMTP_PASSWORD
from tests.channels.email.test_email_own_smtp import USER as SMTP_USER
from tests.channels.email.test_email_own_smtp import own_smtp
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_member

SMTP_PORT = new_port()
SETTINGS = {
    "mail_domain": "",  # no hosted addresses and no listener: the own server is the only way in
    "smtp_host": "",
    "mail_ca_file": SHARED_CERT.ca_file,
    "imap_poll_seconds": 300.0,  # only IDLE brings mail within the waits
}
pytestmark = [
    pytest.mark.parametrize("server", [SETTINGS], indirect=True),
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]
OWN = "help@shop.example"


def own_server(dovecot: Dovecot, **extra: Any) -> dict[str, Any]:
    return {
        "address_mode": "own_server",
        "own_address": OWN,
        "imap_host": "127.0.0.1",
        "imap_port": dovecot.imap_port,
        "imap_security": "starttls",
        "imap_username": USER,
        "smtp_host": "127.0.0.1",
        "smtp_port": SMTP_PORT,
        "smtp_security": "ssl",
        "smtp_username": SMTP_USER,
        **extra,
    }


async def create_inbox(http: httpx.AsyncClient, admin: Agent, ws_id: int, dovecot: Dovecot) -> httpx.Response:
    """The own-server inbox of these tests, with both passwords."""
    return await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes",
        headers=admin.headers,
        json={
            "name": "Shop mail",
            "channel_type": "email",
            "settings": own_server(dovecot),
            "secrets": {"imap_password": PASSWORD, "smtp_password": SMTP_PASSWORD},
        },
    )


async def connection_test(
    http: httpx.AsyncClient, admin: Agent, ws_id: int, body: dict[str, Any]
) -> httpx.Response:
    return await http.post(
        f"/api/v1/workspaces/{ws_id}/email-connection-test", headers=admin.headers, json=body
    )


async def test_connection_test_reports_each_side_and_uses_saved_passwords(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Shop")
    with own_smtp("ssl", cert=SHARED_CERT, port=SMTP_PORT):
        # Before the inbox exists: the form's settings and typed passwords.
        r = await connection_test(
            http,
            admin,
            ws_id,
            {
                "settings": own_server(dovecot),
                "secrets": {"imap_password": PASSWORD, "smtp_password": SMTP_PASSWORD},
            },
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "imap": {
                "ok": True,
                "stage": None,
                "detail": r.json()["imap"]["detail"],
                "passed": ["dns", "connect", "tls", "login", "folder"],
                "advice": None,
            },
            "smtp": {
                "ok": True,
                "stage": None,
                "detail": r.json()["smtp"]["detail"],
                "passed": ["dns", "connect", "tls", "login"],
                "advice": None,
            },
        }
        # Wrong IMAP password, and a folder that does not exist: each named at its stage.
        r = await connection_test(
            http,
            admin,
            ws_id,
            {
                "settings": own_server(dovecot),
                "secrets": {"imap_password": "wrong", "smtp_password": "wrong"},
            },
        )
        imap, smtp = r.json()["imap"], r.json()["smtp"]
        assert (imap["ok"], imap["stage"], imap["passed"]) == (False, "login", ["dns", "connect", "tls"])
        assert "Authentication failed" in imap["detail"]
        assert (smtp["stage"], smtp["passed"]) == ("login", ["dns", "connect", "tls"])
        assert "535" in smtp["detail"]
        r = await connection_test(
            http,
            admin,
            ws_id,
            {"settings": own_server(dovecot, imap_folder="Arşiv"), "secrets": {"imap_password": PASSWORD}},
        )
        assert r.json()["imap"]["stage"] == "folder" and "Arşiv" in r.json()["imap"]["detail"], r.text
        # A saved inbox: the unsaved form is laid over it and the saved passwords are used.
        created = await create_inbox(http, admin, ws_id, dovecot)
        assert created.status_code == 201, created.text
        inbox_id = created.json()["id"]
        # Typed passwords are write-only: only what Frontdesk generated comes back.
        assert set(created.json()["secrets"]) == {"reply_secret", "dkim_private_key"}
        readable = (
            await http.get(f"/api/v1/workspaces/{ws_id}/inboxes/{inbox_id}/secrets", headers=admin.headers)
        ).json()
        assert set(readable) == {"reply_secret", "dkim_private_key"} and PASSWORD not in str(readable)
        r = await connection_test(
            http,
            admin,
            ws_id,
            {"inbox_id": inbox_id, "settings": {"imap_port": dovecot.imaps_port, "imap_security": "ssl"}},
        )
        assert r.json()["imap"]["ok"] and r.json()["smtp"]["ok"], r.text
    # The SMTP server is gone now: only that side fails, at connect.
    r = await connection_test(http, admin, ws_id, {"inbox_id": inbox_id, "settings": {}})
    assert r.json()["imap"]["ok"] is True
    assert (r.json()["smtp"]["ok"], r.json()["smtp"]["stage"]) == (False, "connect")


async def test_connection_test_refuses_what_it_cannot_test(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Shop")
    agent = await make_member(server, http, ws_id)
    r = await connection_test(http, admin, ws_id, {"settings": {"address_mode": "hosted"}})
    assert r.status_code == 422 and r.json()["error"]["field"] == "settings.address_mode", r.text
    r = await connection_test(http, admin, ws_id, {"settings": own_server(dovecot, imap_port=70000)})
    assert r.status_code == 422 and r.json()["error"]["field"] == "settings.imap_port", r.text
    r = await connection_test(http, agent, ws_id, {"settings": own_server(dovecot)})
    assert r.status_code == 403, r.text
    other_admin, other_ws = await make_admin(server, http, workspace="Other")
    r = await connection_test(http, other_admin, other_ws, {"inbox_id": 999_999, "settings": {}})
    assert r.status_code == 404, r.text


async def _messages(server: Server, count: int, timeout: float = 10) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout):
        while True:
            async with server.services.db.read() as conn:
                rows = (await conn.execute(sa.select(t.messages).order_by(t.messages.c.id))).mappings().all()
            if len(rows) >= count:
                return [dict(r) for r in rows]
            await asyncio.sleep(0.05)


async def test_mail_in_by_imap_replies_out_by_smtp_without_a_hosted_domain_and_copies_kept(
    server: Server, http: httpx.AsyncClient, dovecot: Dovecot
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Shop")
    first = mail(
        OWN,
        "Fatura",
        "Merhaba, faturamı alamadım.",
        message_id="<f1@customer.test>",
        headers={"Cc": "Muhasebe <muhasebe@customer.test>, help@shop.example"},
    )
    dovecot.append(first)
    with own_smtp("ssl", cert=SHARED_CERT, port=SMTP_PORT) as smtp:
        r = await create_inbox(http, admin, ws_id, dovecot)
        assert r.status_code == 201, r.text
        server.services.inboxes_changed()
        [incoming] = await _messages(server, 1)
        base = f"/api/v1/workspaces/{ws_id}/conversations/{incoming['conversation_id']}/messages"
        assert (await http.post(base, headers=admin.headers, json={"text": "Gönderdik."})).status_code == 201
        [sent] = await smtp.wait(1)
        assert str(sent["From"]) == OWN
        assert sent["Reply-To"] is None  # the answer must come back to the own mailbox
        assert str(sent["Message-ID"]).endswith("@shop.example>")
        assert str(sent["Cc"]) == "Muhasebe <muhasebe@customer.test>"  # never ourselves
        # The customer answers without the Cc; the accountant stays copied on the next reply.
        answer = mail(
            OWN,
            "Re: Fatura",
            "Geldi, teşekkürler. Bir sorum daha var.",
            headers={
                "In-Reply-To": str(sent["Message-ID"]),
                "References": f"<f1@customer.test> {sent['Message-ID']}",
            },
        )
        dovecot.append(answer)
        found = await _messages(server, 3)
        assert {m["conversation_id"] for m in found} == {incoming["conversation_id"]}
        assert (await http.post(base, headers=admin.headers, json={"text": "Buyurun."})).status_code == 201
        [_, second] = await smtp.wait(2)
        assert str(second["Cc"]) == "Muhasebe <muhasebe@customer.test>"
        assert str(second["To"]) == "Ali Yılmaz <ali@customer.test>"
