"""Mail whose lines end in a bare LF or a lone CR, sent byte for byte to the real SMTP listener:
accepted and stored with CRLF line ends, a really over-long line still refused, and DATA ended
only by CRLF "." CRLF, so a second message cannot be smuggled inside the first."""

from __future__ import annotations

import asyncio
import smtplib
import socket

import httpx
import pytest

from frontdesk.store import tables as t
from tests.channels.email.email_support import MAIL_DOMAIN, deliver, make_email_inbox, new_port, rows
from tests.conftest import Server
from tests.factories import make_admin

LISTEN_PORT = new_port()
SETTINGS = {"mail_domain": MAIL_DOMAIN, "smtp_listen_port": LISTEN_PORT, "smtp_listen_max_bytes": 200_000}
with_listener = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme-cicek.{MAIL_DOMAIN}"


async def setup(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme Çiçek")
    await make_email_inbox(http, admin, ws_id, local_part="support")


def script_mail(line_end: bytes, message_id: str, paragraphs: int = 40) -> bytes:
    """A mail as a script or web app writes it: every line ended by `line_end`, well over
    1,000 bytes in all, no line longer than 80 characters."""
    lines = [
        b"From: Web shop <shop@customer.test>",
        f"To: {ADDRESS}".encode(),
        b"Subject: Order form",
        f"Message-ID: <{message_id}@customer.test>".encode(),
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"",
        *(f"Line {n}: the order form was filled in.".encode() for n in range(paragraphs)),
        b".a line that starts with a dot",
        b"Last line.",
    ]
    return line_end.join(lines) + line_end


@with_listener
@pytest.mark.parametrize("line_end", [b"\n", b"\r"], ids=["bare-lf", "lone-cr"])
async def test_mail_with_bare_line_ends_is_accepted_and_stored_with_crlf(
    server: Server, http: httpx.AsyncClient, line_end: bytes
) -> None:
    await setup(server, http)
    raw = script_mail(line_end, "script-1")
    assert len(raw) > 1_500 and raw.count(line_end) > 40
    # smtplib sends bytes as they are, doubling a leading dot after a bare LF (as Postfix
    # reads it) but not after a lone CR, which is a line end only to us.
    if line_end == b"\r":
        raw = raw.replace(b"\r.a line", b"\r..a line")
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert message["data"]["email"]["subject"] == "Order form"
    assert message["text"].startswith("Line 0: the order form was filled in.\nLine 1:")
    assert "\n.a line that starts with a dot\nLast line." in message["text"]
    assert "\r" not in message["text"]


@with_listener
async def test_mixed_line_ends_in_a_mail_with_an_attachment(server: Server, http: httpx.AsyncClient) -> None:
    await setup(server, http)
    raw = (
        b"From: ali@customer.test\r\nTo: " + ADDRESS.encode() + b"\nSubject: Mixed\r\n"
        b"Message-ID: <mixed-1@customer.test>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n\n--b1\n'
        b"Content-Type: text/plain\r\n\r\n" + b"Some text.\n" * 150 + b"--b1\r\n"
        b'Content-Type: application/pdf; name="a.pdf"\nContent-Transfer-Encoding: base64\n\n'
        b"JVBERi0xLjQgc21hbGw=\n--b1--\n"
    )
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert message["text"].count("Some text.") == 150
    [attachment] = await rows(server, t.attachments)
    assert (attachment["file_name"], attachment["size"]) == ("a.pdf", len(b"%PDF-1.4 small"))


@with_listener
@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"], ids=["bare-lf", "crlf"])
async def test_a_really_over_long_line_is_still_refused(
    server: Server, http: httpx.AsyncClient, line_end: bytes
) -> None:
    await setup(server, http)
    raw = script_mail(line_end, "long-1").replace(b"Last line.", b"x" * 1_200)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        await deliver(LISTEN_PORT, [ADDRESS], raw)
    assert caught.value.smtp_code == 500
    # Exactly at the limit: 1,000 characters and a bare LF (1,001 bytes, aiosmtpd's limit).
    raw = script_mail(b"\n", "long-2").replace(b"Last line.", b"y" * 1_000)
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert message["text"].endswith("y" * 1_000)


def _converse(data: bytes) -> list[bytes]:
    """One SMTP session by hand, the DATA bytes exactly as given: every reply line after 354."""
    with socket.create_connection(("127.0.0.1", LISTEN_PORT), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        for command in (
            b"HELO customer.test",
            b"MAIL FROM:<ali@customer.test>",
            f"RCPT TO:<{ADDRESS}>".encode(),
        ):
            sock.sendall(command + b"\r\n")
            assert reader.readline()[:1] == b"2"
        sock.sendall(b"DATA\r\n")
        assert reader.readline()[:3] == b"354"
        sock.sendall(data + b"QUIT\r\n")
        return [line.rstrip() for line in reader]


@with_listener
@pytest.mark.parametrize("fake_end", [b"\n.\n", b"\r\n.\n", b"\n.\r\n"], ids=["lf-lf", "crlf-lf", "lf-crlf"])
async def test_a_bare_lf_dot_line_neither_ends_data_nor_smuggles_a_second_message(
    server: Server, http: httpx.AsyncClient, fake_end: bytes
) -> None:
    await setup(server, http)
    smuggled = (
        b"MAIL FROM:<mallory@customer.test>\r\n"
        b"RCPT TO:<" + ADDRESS.encode() + b">\r\n"
        b"DATA\r\n"
        b"From: Bank <security@bank.test>\r\nSubject: Smuggled\r\n\r\nPay now.\r\n"
    )
    data = (
        b"From: ali@customer.test\r\nTo: " + ADDRESS.encode() + b"\r\nSubject: First\r\n"
        b"Message-ID: <first-1@customer.test>\r\n\r\nHello." + fake_end + smuggled + b".\r\n"
    )
    replies = await asyncio.to_thread(_converse, data)
    # One answer for one message, then QUIT's: the MAIL, RCPT and DATA were never commands.
    assert [r[:3] for r in replies] == [b"250", b"221"], replies
    [message] = await rows(server, t.messages)
    assert message["data"]["email"]["subject"] == "First"
    assert "MAIL FROM:<mallory@customer.test>" in message["text"]
    assert "Subject: Smuggled" in message["text"]
