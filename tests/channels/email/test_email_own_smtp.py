"""Replies of an own_server email inbox leave through the inbox's own SMTP server (a real aiosmtpd
on 127.0.0.1 with login over TLS and a certificate from a throw-away CA that Frontdesk trusts
through FRONTDESK_MAIL_CA_FILE); the SMTP *Test connection* reports the stage that fails."""

from __future__ import annotations

import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from frontdesk.channels.email.smtp_check import check_smtp
from frontdesk.mail.outbound import Security
from tests.channels.email.cert_authority import ServerCert, make_server_cert
from tests.channels.email.email_support import MAIL_DOMAIN, Relay, deliver, mail, new_port
from tests.channels.email.test_email_replies import reply, wait_for_status
from tests.conftest import Server
from tests.factories import Agent, make_admin

LISTEN_PORT = new_port()
OWN_SMTP_PORT = new_port()
CLOSED_PORT = new_port()  # the inbox's IMAP server: nothing listens (an IMAP error is all it records)
USER, PASSWORD = "help@shop.example", "app-password-1"
OWN_ADDRESS = "help@shop.example"
# Made at import: the server's settings (FRONTDESK_MAIL_CA_FILE) are fixed when tests are collected.
CERT = make_server_cert(Path(tempfile.mkdtemp(prefix="frontdesk-own-smtp-")))
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "smtp_listen_port": LISTEN_PORT,
    "smtp_host": "",  # no installation relay: an own_server inbox must not need one
    "mail_ca_file": CERT.ca_file,
}
with_server = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
# aiosmtpd warns of a login without STARTTLS; with implicit TLS (ssl) the login is encrypted.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
HOSTED = f"support@acme.{MAIL_DOMAIN}"


def _login_check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def _server_context(cert: ServerCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert.cert_file), str(cert.key_file))
    return context


@contextmanager
def own_smtp(security: Security, cert: ServerCert = CERT, port: int = OWN_SMTP_PORT) -> Iterator[Relay]:
    """The customer's own SMTP server: login required; over implicit TLS (ssl) or only after
    STARTTLS (starttls); `none` takes mail without TLS or login (a server on a trusted network)."""
    relay = Relay(port)
    options: dict[str, Any] = {}
    if security == "ssl":
        # The whole session is TLS, which aiosmtpd's require-TLS check does not see: it looks
        # for STARTTLS only.
        options = {
            "ssl_context": _server_context(cert),
            "authenticator": _login_check,
            "auth_required": True,
            "auth_require_tls": False,
        }
    elif security == "starttls":
        options = {
            "tls_context": _server_context(cert),
            "require_starttls": True,
            "authenticator": _login_check,
            "auth_required": True,
        }
    controller = Controller(relay, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


def own_server_settings(security: Security, **extra: Any) -> dict[str, Any]:
    return {
        "address_mode": "own_server",
        "from_name": "Shop Help",
        "own_address": OWN_ADDRESS,
        "imap_host": "127.0.0.1",
        "imap_port": CLOSED_PORT,
        "imap_security": "none",
        "imap_username": USER,
        "smtp_host": "127.0.0.1",
        "smtp_port": OWN_SMTP_PORT,
        "smtp_security": security,
        "smtp_username": USER,
        **extra,
    }


async def conversation(
    server: Server, http: httpx.AsyncClient, settings: dict[str, Any], secrets: dict[str, str]
) -> tuple[Agent, str]:
    """An own_server inbox and a customer's mail to it (through the hosted listener: the IMAP
    import is helper A's and tested there); returns the conversation's messages URL."""
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes",
        headers=admin.headers,
        json={"name": "Shop mail", "channel_type": "email", "settings": settings, "secrets": secrets},
    )
    assert r.status_code == 201, r.text
    raw = mail(
        HOSTED, "Order 1042", message_id="<q1@customer.test>", headers={"References": "<q0@customer.test>"}
    )
    assert await deliver(LISTEN_PORT, [HOSTED], raw) == {}
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    [found] = page["conversations"]
    return admin, f"/api/v1/workspaces/{ws_id}/conversations/{found['id']}/messages"


@with_server
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_a_reply_leaves_through_the_inbox_s_own_smtp_server(
    server: Server, http: httpx.AsyncClient, security: Security
) -> None:
    with own_smtp(security) as own:
        admin, base = await conversation(
            server, http, own_server_settings(security), {"smtp_password": PASSWORD}
        )
        sent_reply = await reply(http, admin, base, "It ships today.")
        [sent] = await own.wait(1)
        delivered = await wait_for_status(http, admin, base, sent_reply["id"], "sent")
    assert str(sent["From"]) == f"Shop Help <{OWN_ADDRESS}>"
    assert str(sent["To"]) == "Ali Yılmaz <ali@customer.test>"
    assert str(sent["Subject"]) == "Re: Order 1042"
    assert sent["In-Reply-To"] == "<q1@customer.test>"
    assert sent["References"] == "<q0@customer.test> <q1@customer.test>"
    assert delivered["source_id"] == sent["Message-ID"].strip("<>")
    assert own.envelopes == [(OWN_ADDRESS, ["ali@customer.test"])]
    assert own.attempts == 1


@with_server
async def test_a_wrong_password_fails_the_message_with_the_server_s_words(
    server: Server, http: httpx.AsyncClient
) -> None:
    with own_smtp("starttls") as own:
        admin, base = await conversation(
            server, http, own_server_settings("starttls"), {"smtp_password": "wrong"}
        )
        sent = await reply(http, admin, base, "Hello")
        failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "auth_failed"
    assert failed["failure_detail"] == "SMTP 535 5.7.8 Authentication credentials invalid"
    assert own.attempts == 0 and own.messages == []


@with_server
async def test_a_user_name_without_a_password_fails_naming_the_secret(
    server: Server, http: httpx.AsyncClient
) -> None:
    with own_smtp("starttls") as own:
        admin, base = await conversation(server, http, own_server_settings("starttls"), {})
        sent = await reply(http, admin, base, "Hello")
        failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "misconfigured"
    assert "smtp_password" in failed["failure_detail"]
    assert own.attempts == 0


@with_server
async def test_a_451_is_retried_then_delivered(server: Server, http: httpx.AsyncClient) -> None:
    with own_smtp("ssl") as own:
        own.answers = ["451 4.3.0 Try again later"]
        admin, base = await conversation(
            server, http, own_server_settings("ssl"), {"smtp_password": PASSWORD}
        )
        sent = await reply(http, admin, base, "Hello")
        await wait_for_status(http, admin, base, sent["id"], "sent")
    assert own.attempts == 2
    assert len(own.messages) == 1


@with_server
async def test_a_5xx_is_not_retried(server: Server, http: httpx.AsyncClient) -> None:
    with own_smtp("ssl") as own:
        own.answers = ["554 5.7.1 Message rejected as spam"]
        admin, base = await conversation(
            server, http, own_server_settings("ssl"), {"smtp_password": PASSWORD}
        )
        sent = await reply(http, admin, base, "Hello")
        failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "provider_rejected"
    assert failed["failure_detail"] == "SMTP 554 5.7.1 Message rejected as spam"
    assert own.attempts == 1


@with_server
@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_an_untrusted_certificate_fails_the_message(
    server: Server, http: httpx.AsyncClient, tmp_path: Path, security: Security
) -> None:
    stranger = make_server_cert(tmp_path / "stranger")  # a CA Frontdesk does not trust
    with own_smtp(security, stranger) as own:
        admin, base = await conversation(
            server, http, own_server_settings(security), {"smtp_password": PASSWORD}
        )
        sent = await reply(http, admin, base, "Hello")
        failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "certificate_untrusted"
    assert "certificate of the SMTP server 127.0.0.1 is not trusted" in failed["failure_detail"]
    assert own.attempts == 0


@with_server
async def test_an_unreachable_server_is_retried_then_fails(server: Server, http: httpx.AsyncClient) -> None:
    admin, base = await conversation(
        server, http, own_server_settings("ssl", smtp_port=CLOSED_PORT), {"smtp_password": PASSWORD}
    )
    sent = await reply(http, admin, base, "Hello")
    failed = await wait_for_status(http, admin, base, sent["id"], "failed")
    assert failed["failure_reason"] == "connection_failed"
    assert failed["failure_detail"].startswith("cannot reach the SMTP server 127.0.0.1")
    assert (failed["delivery_attempts"], failed["next_attempt_at"]) == (3, None)


# The connection check (no Frontdesk server needed: it is a function of the settings).


@dataclass(frozen=True)
class Form:
    smtp_host: str | None
    smtp_port: int
    smtp_security: Security
    smtp_username: str | None


def form(
    security: Security, username: str | None = USER, host: str = "127.0.0.1", port: int = OWN_SMTP_PORT
) -> Form:
    return Form(host, port, security, username)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_check_passes_every_stage(security: Security) -> None:
    with own_smtp(security) as own:
        report = await check_smtp(form(security), PASSWORD, CERT.ca_file, 5)
    assert report.ok, report
    assert report.passed == ("dns", "connect", "tls", "login")
    assert report.stage is None
    assert own.attempts == 0 and own.envelopes == []  # nothing was sent


async def test_check_without_tls_or_login() -> None:
    with own_smtp("none"):
        report = await check_smtp(form("none", username=None), None, None, 5)
    assert report.ok, report
    assert report.passed == ("dns", "connect")


async def test_check_reports_a_wrong_password_at_login() -> None:
    with own_smtp("starttls"):
        report = await check_smtp(form("starttls"), "wrong", CERT.ca_file, 5)
    assert (report.ok, report.stage) == (False, "login")
    assert report.detail == "SMTP 535 5.7.8 Authentication credentials invalid"
    assert report.passed == ("dns", "connect", "tls")
    assert report.advice is None  # advice is for Gmail and Outlook hosts only


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_check_reports_an_untrusted_certificate_at_tls(security: Security, tmp_path: Path) -> None:
    stranger = make_server_cert(tmp_path / "stranger")
    with own_smtp(security, stranger):
        report = await check_smtp(form(security), PASSWORD, CERT.ca_file, 5)
    assert (report.ok, report.stage, report.passed) == (False, "tls", ("dns", "connect"))
    # Both test CAs are named alike, so OpenSSL reports a bad signature rather than a missing issuer.
    assert report.detail.startswith("the certificate of 127.0.0.1 is not trusted: ")


async def test_check_reports_an_expired_certificate_at_tls(tmp_path: Path) -> None:
    expired = make_server_cert(tmp_path / "expired", expired=True)
    with own_smtp("ssl", expired):
        report = await check_smtp(form("ssl"), PASSWORD, expired.ca_file, 5)
    assert (report.ok, report.stage) == (False, "tls")
    assert "certificate has expired" in report.detail


async def test_check_reports_a_host_name_the_certificate_does_not_name(tmp_path: Path) -> None:
    other = make_server_cert(tmp_path / "other", hosts=("mail.other.test",))
    with own_smtp("starttls", other):
        # "localhost" resolves to 127.0.0.1, which the certificate names; "localhost" it does not.
        report = await check_smtp(form("starttls", host="localhost"), PASSWORD, other.ca_file, 5)
    assert (report.ok, report.stage) == (False, "tls")
    assert "localhost" in report.detail


async def test_check_reports_a_port_nothing_listens_on_at_connect() -> None:
    report = await check_smtp(form("starttls", port=CLOSED_PORT), PASSWORD, CERT.ca_file, 5)
    assert (report.ok, report.stage, report.passed) == (False, "connect", ("dns",))
    assert "Connection refused" in report.detail


async def test_check_reports_an_unknown_host_at_dns() -> None:
    report = await check_smtp(form("starttls", host="nonexistent.invalid"), PASSWORD, CERT.ca_file, 5)
    assert (report.ok, report.stage, report.passed) == (False, "dns", ())
    assert "nonexistent.invalid does not resolve" in report.detail


async def test_check_reports_a_server_without_starttls_at_tls() -> None:
    with own_smtp("none"):
        report = await check_smtp(form("starttls"), PASSWORD, CERT.ca_file, 5)
    assert (report.ok, report.stage) == (False, "tls")
    assert "does not offer STARTTLS" in report.detail
