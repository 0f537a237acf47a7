"""Large mail through the SMTP listener: DATA spooled to disk, large files decoded to disk in
chunks, stored with the right bytes, the spool gone afterwards whatever the outcome, and the
parse of a taken-apart mail the same as the parse of the whole."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import smtplib
import socket
import sys
import time
import tracemalloc
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

import frontdesk.mail.spool_parts as spool_parts
from frontdesk.channels.email.listener import mail_listener
from frontdesk.channels.email.smtp_spool import STALE_SPOOL_SECONDS
from frontdesk.mail.parse import ParsedEmail, parse_email, parse_email_file
from frontdesk.store import tables as t
from tests.channels.email.email_support import MAIL_DOMAIN, deliver, make_email_inbox, new_port, rows, wire
from tests.conftest import BACKEND, Server
from tests.factories import make_admin

LISTEN_PORT = new_port()
MAX_BYTES = 12_000_000
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "smtp_listen_port": LISTEN_PORT,
    "smtp_listen_max_bytes": MAX_BYTES,
    "max_attachment_bytes": 10_000_000,
}
with_listener = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme-cicek.{MAIL_DOMAIN}"
CORPUS = Path(__file__).parent / "mail_corpus"
ATTACHMENT_BYTES = 8_000_000


def big_mail(message_id: str, size: int = ATTACHMENT_BYTES) -> tuple[bytes, bytes]:
    """A mail with a PDF of `size` bytes; the mail on the wire and the PDF."""
    pdf = b"%PDF-1.7\n" + os.urandom(size - 9)
    msg = EmailMessage()
    msg["From"] = "Ali Yılmaz <ali@customer.test>"
    msg["To"] = ADDRESS
    msg["Subject"] = "The invoice"
    msg["Message-ID"] = message_id
    msg.set_content("The invoice is attached.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    return wire(msg), pdf


# Sent from another process, so that this process (the listener's) holds only what the
# listener itself allocates.
SEND = """
import smtplib, sys
raw = open(sys.argv[2], "rb").read()
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=30) as client:
    client.sendmail("ali@customer.test", [sys.argv[3]], raw)
"""


async def send_from_another_process(raw: bytes, folder: Path) -> None:
    path = folder / "outgoing.eml"
    path.write_bytes(raw)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SEND, str(LISTEN_PORT), str(path), ADDRESS, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()


async def setup(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme Çiçek")
    await make_email_inbox(http, admin, ws_id, local_part="support")


def spool_left(server: Server) -> list[Path]:
    tmp = server.services.settings.data_dir / "tmp"
    return list(tmp.rglob("*")) if tmp.exists() else []


@with_listener
async def test_a_big_attachment_is_stored_whole_without_the_mail_held_in_memory(
    server: Server, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    await setup(server, http)
    raw, pdf = big_mail("<big-1@customer.test>")
    tracemalloc.start()
    try:
        await send_from_another_process(raw, tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Gathering DATA in memory alone costs twice the mail (its lines, then their join), and the
    # standard parser several times more; spooled and decoded in chunks, a few MiB.
    assert peak < len(raw) / 3, f"peak {peak:,} bytes of Python memory for a {len(raw):,}-byte mail"
    [message] = await rows(server, t.messages)
    assert message["text"] == "The invoice is attached."
    [attachment] = await rows(server, t.attachments)
    assert (attachment["file_name"], attachment["size"]) == ("invoice.pdf", len(pdf))
    stored = server.services.settings.attachments_dir / attachment["path"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(pdf).hexdigest()
    assert spool_left(server) == []


@with_listener
async def test_a_repeated_big_mail_stores_nothing_new_and_leaves_no_spool(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    raw, _ = big_mail("<big-twice@customer.test>", 2_000_000)
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    assert len(await rows(server, t.messages)) == 1
    [attachment] = await rows(server, t.attachments)
    files = [p for p in server.services.settings.attachments_dir.rglob("*") if p.is_file()]
    assert [p.relative_to(server.services.settings.attachments_dir).as_posix() for p in files] == [
        attachment["path"]
    ]
    assert spool_left(server) == []


@with_listener
async def test_storage_trouble_answers_451_and_leaves_no_spool(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    async with server.services.db.write() as tx:
        await tx.conn.execute(sa.text("ALTER TABLE messages RENAME TO messages_away"))
    raw, _ = big_mail("<big-451@customer.test>", 2_000_000)
    with pytest.raises(smtplib.SMTPDataError) as caught:
        await deliver(LISTEN_PORT, [ADDRESS], raw)
    assert caught.value.smtp_code == 451
    async with server.services.db.write() as tx:
        await tx.conn.execute(sa.text("ALTER TABLE messages_away RENAME TO messages"))
    assert spool_left(server) == []
    assert [p for p in server.services.settings.attachments_dir.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("server", [{**SETTINGS, "smtp_listen_max_bytes": 1_500_000}], indirect=True)
async def test_over_the_size_limit_a_spooled_mail_gets_552_and_leaves_no_spool(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    raw, _ = big_mail("<big-552@customer.test>", 2_000_000)

    def send_undeclared() -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", LISTEN_PORT, timeout=10) as client:
            client.ehlo()
            client.mail("ali@customer.test")
            client.rcpt(ADDRESS)
            return client.data(raw)

    code, _ = await asyncio.to_thread(send_undeclared)
    assert code == 552
    assert await rows(server, t.messages) == []
    assert spool_left(server) == []


@with_listener
async def test_a_connection_dropped_in_the_middle_of_data_leaves_no_spool(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    raw, _ = big_mail("<big-drop@customer.test>", 3_000_000)

    def send_half_and_drop() -> None:
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
            sock.sendall(raw[: len(raw) // 2])

    tmp = server.services.settings.data_dir / "tmp"
    await asyncio.to_thread(send_half_and_drop)
    for _ in range(200):
        if tmp.exists() and not any(tmp.iterdir()):
            break
        await asyncio.sleep(0.025)
    assert tmp.exists(), "half the mail (1.5 MB of DATA) was spooled to disk"
    assert spool_left(server) == []
    assert await rows(server, t.messages) == []


@with_listener
async def test_spools_left_by_a_stopped_process_go_when_the_listener_starts(server: Server) -> None:
    """A crash mid-DATA leaves its spool folder (the sender never got an answer and sends again).
    The next listener start removes such folders once they are an hour old; a fresh one may be
    another process's mail in progress and stays."""
    tmp = server.services.settings.data_dir / "tmp"
    stale, fresh = tmp / "mail-0123456789abcdef", tmp / "mail-fedcba9876543210"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "message.eml").write_bytes(b"Subject: half a mail\r\n")
    hour_ago = time.time() - STALE_SPOOL_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    other = server.services.settings.model_copy(update={"smtp_listen_port": new_port()})
    async with mail_listener(dataclasses.replace(server.services, settings=other)) as listening:
        assert listening is not None
        assert not stale.exists() and (fresh / "message.eml").exists()


def _comparable(mail: ParsedEmail) -> ParsedEmail:
    files = tuple(dataclasses.replace(f, content=f.head(1 << 30), path=None) for f in mail.files)
    return dataclasses.replace(mail, files=files)


def _corpus_and_big() -> list[tuple[str, bytes]]:
    mails = [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.eml"))]
    mails.append(("big", big_mail("<big-parse@customer.test>", 600_000)[0]))
    top = EmailMessage()
    top["From"] = "ali@customer.test"
    top.set_content(b"\x89PNG\r\n\x1a\n" + os.urandom(400_000), maintype="image", subtype="png")
    mails.append(("top-level image", wire(top)))
    damaged = big_mail("<big-damaged@customer.test>", 600_000)[0].replace(b"\r\n", b"\r\n!", 2000)
    mails.append(("damaged base64", damaged))
    return mails


@pytest.mark.parametrize("min_body_bytes", [1, spool_parts.MIN_BODY_BYTES])
def test_a_taken_apart_mail_reads_the_same_as_the_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_body_bytes: int
) -> None:
    # With a threshold of one byte every base64 file of the corpus is taken out.
    monkeypatch.setattr(spool_parts, "MIN_BODY_BYTES", min_body_bytes)
    monkeypatch.setattr(spool_parts, "DECODE_CHUNK", 64)  # many chunks, so their joins are tested
    taken_apart = 0
    for name, raw in _corpus_and_big():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "message.eml").write_bytes(raw)
        whole = parse_email(raw, [ADDRESS])
        spooled = parse_email_file(folder / "message.eml", [ADDRESS])
        assert _comparable(spooled) == _comparable(whole), name
        taken_apart += any(f.path is not None and f.path.name.startswith("body-") for f in spooled.files)
    assert taken_apart >= (5 if min_body_bytes == 1 else 2)


def test_parsing_a_spooled_mail_does_not_hold_its_attachment(tmp_path: Path) -> None:
    raw, pdf = big_mail("<big-memory@customer.test>")
    path = tmp_path / "message.eml"
    path.write_bytes(raw)
    del raw
    tracemalloc.start()
    try:
        mail = parse_email_file(path, [ADDRESS])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < len(pdf) / 4, f"peak {peak:,} bytes"
    [file] = mail.files
    assert file.path is not None and file.content == b""
    assert hashlib.sha256(file.path.read_bytes()).digest() == hashlib.sha256(pdf).digest()


@with_listener
async def test_statements_for_one_mail_from_a_new_sender(server: Server, http: httpx.AsyncClient) -> None:
    await setup(server, http)
    msg = EmailMessage()
    msg["From"] = "Ali <ali@customer.test>"
    msg["To"] = ADDRESS
    msg["Subject"] = "Hello"
    msg["Message-ID"] = "<count-1@customer.test>"
    msg.set_content("Where is my order?")
    server.counter.statements.clear()
    server.counter.enabled = True
    try:
        assert await deliver(LISTEN_PORT, [ADDRESS], wire(msg)) == {}
    finally:
        server.counter.enabled = False
    statements = [
        s.split()[0] + " " + s.split()[2 if s.startswith(("INSERT", "UPDATE")) else 1]
        for s in server.counter.statements
    ]
    # RCPT routes the recipient; DATA only checks that its inbox is still enabled (one light
    # query), then one write transaction: sender and duplicate look-up (one), then the inserts
    # (on SQLite the conversation number is taken by a statement of its own; PostgreSQL takes it
    # from a sequence in the conversation's INSERT).
    assert len(statements) == (10 if BACKEND == "sqlite" else 9), statements
    assert statements[:2] == ["SELECT inboxes.id,", "SELECT inboxes.id"], statements


@with_listener
async def test_dots_are_unstuffed_and_an_over_long_line_gets_500(
    server: Server, http: httpx.AsyncClient
) -> None:
    await setup(server, http)
    text = ".A line that starts with a dot\n..and one with two\n.\nend"
    msg = EmailMessage()
    msg["From"] = "ali@customer.test"
    msg["To"] = ADDRESS
    msg["Subject"] = "Dots"
    msg["Message-ID"] = "<dots-1@customer.test>"
    msg.set_content(text)
    assert await deliver(LISTEN_PORT, [ADDRESS], wire(msg)) == {}  # smtplib doubles the dots
    [message] = await rows(server, t.messages)
    assert message["text"] == text

    long_line = wire(msg).replace(b"end", b"x" * 3000).replace(b"dots-1", b"dots-2")
    with pytest.raises(smtplib.SMTPDataError) as caught:
        await deliver(LISTEN_PORT, [ADDRESS], long_line)
    assert caught.value.smtp_code == 500
    assert len(await rows(server, t.messages)) == 1
    assert spool_left(server) == []
