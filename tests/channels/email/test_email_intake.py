"""do_receive_email against a real database (SQLite or PostgreSQL): threading by reply token,
by In-Reply-To/References, new subjects, duplicates, cid images, unreadable mail."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from frontdesk.actions.attachments import StoredFile, store_file
from frontdesk.actions.email.intake import do_receive_email
from frontdesk.actions.messages import Received
from frontdesk.domain.email.threading import reply_address
from frontdesk.mail.parse import ParsedEmail, parse_email
from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import make_admin, make_inbox

CORPUS = Path(__file__).parent / "mail_corpus"
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text("utf-8"))
SECRET = "inbox-reply-secret"
DOMAIN = "acme.mail.frontdesk.test"
LIMIT = 10 * 1024 * 1024


async def _inbox(server: Server, http: httpx.AsyncClient) -> dict[str, Any]:
    admin, ws_id = await make_admin(server, http)
    made = await make_inbox(http, admin, ws_id)
    async with server.services.db.read() as conn:
        row = (await conn.execute(sa.select(t.inboxes).where(t.inboxes.c.id == made.id))).mappings().one()
    return dict(row)


def _store(server: Server, mail: ParsedEmail) -> list[StoredFile]:
    """What the SMTP listener does: store each file within the size limit, whatever its type."""
    stored = []
    for f in mail.files:
        try:
            stored.append(
                store_file(
                    server.services.settings.attachments_dir,
                    f.file_name,
                    f.content_type,
                    f.content,
                    LIMIT,
                    received=True,
                )
            )
        except Exception:  # files over the size limit are skipped, as the listener does
            continue
    return stored


async def deliver(
    server: Server, inbox: dict[str, Any], raw: bytes, envelope: Sequence[str] = ()
) -> Received:
    mail = parse_email(raw, envelope)
    files = _store(server, mail)
    async with server.services.db.write() as tx:
        return await do_receive_email(tx, inbox, mail, files, SECRET)


async def deliver_file(server: Server, inbox: dict[str, Any], name: str) -> Received:
    return await deliver(server, inbox, (CORPUS / name).read_bytes())


async def message_row(server: Server, message_id: int) -> dict[str, Any]:
    async with server.services.db.read() as conn:
        row = (
            (await conn.execute(sa.select(t.messages).where(t.messages.c.id == message_id))).mappings().one()
        )
    return dict(row)


async def count(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


def mail(
    message_id: str, subject: str, body: str, *, sender: str = "ann@example.com", extra: str = ""
) -> bytes:
    return (
        f"From: Ann Customer <{sender}>\nTo: help@{DOMAIN}\nSubject: {subject}\n"
        f"Message-ID: <{message_id}>\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


async def test_a_mail_becomes_a_conversation_with_its_email_data(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    got = await deliver_file(server, inbox, "32-reply-token-cc.eml")  # its token is not valid
    assert got.duplicate is False
    row = await message_row(server, got.message_id)
    assert row["content_type"] == "email"
    assert row["source_id"] == "tok-0032@bigcorp.example"
    assert row["text"] == "Adding finance and audit in copy."
    email = row["data"]["email"]
    assert email["subject"] == "Re: Renewal quote"
    assert email["from"] == {"name": "Ops Lead", "address": "lead@bigcorp.example"}
    assert [a["address"] for a in email["cc"]] == ["finance@bigcorp.example", "audit@bigcorp.example"]
    assert [a["address"] for a in email["reply_to"]] == ["ops@bigcorp.example"]
    assert email["kind"] == "normal" and email["problem"] is None
    async with server.services.db.read() as conn:
        contact = (await conn.execute(sa.select(t.contacts))).mappings().one()
        identity = (await conn.execute(sa.select(t.contact_identities))).mappings().one()
    assert (contact["name"], contact["email"]) == ("Ops Lead", "lead@bigcorp.example")
    assert identity["source_id"] == "lead@bigcorp.example"


async def test_same_message_id_twice_is_stored_once(server: Server, http: httpx.AsyncClient) -> None:
    inbox = await _inbox(server, http)
    first = await deliver_file(server, inbox, "01-utf8-turkish.eml")
    again = await deliver_file(server, inbox, "01-utf8-turkish.eml")
    assert again == Received(first.message_id, first.conversation_id, duplicate=True)
    no_id = (CORPUS / "18-missing-message-id.eml").read_bytes()
    a, b = await deliver(server, inbox, no_id), await deliver(server, inbox, no_id)
    assert b.duplicate and a.message_id == b.message_id
    assert await count(server, t.messages) == 2


async def test_replies_join_their_conversation_by_references(server: Server, http: httpx.AsyncClient) -> None:
    """Every corpus message with a thread_parent joins its parent's conversation."""
    inbox = await _inbox(server, http)
    pairs = [(name, e["thread_parent"]) for name, e in EXPECTATIONS.items() if "thread_parent" in e]
    assert len(pairs) >= 4
    for child, parent in pairs:
        parent_got = await deliver_file(server, inbox, parent)
        child_got = await deliver_file(server, inbox, child)
        assert child_got.conversation_id == parent_got.conversation_id, (child, parent)


async def _our_reply(server: Server, inbox: dict[str, Any], conversation_id: int, message_id: str) -> None:
    """A reply as the email channel leaves it: outgoing, its source_id the Message-ID it went
    out with."""
    async with server.services.db.write() as tx:
        await tx.conn.execute(
            t.messages.insert().values(
                workspace_id=inbox["workspace_id"],
                conversation_id=conversation_id,
                inbox_id=inbox["id"],
                kind="outgoing",
                sender_type="agent",
                sender_id=None,
                text="Kargonuz yola çıktı.",
                content_type="text",
                source_id=message_id,
                delivery_status="sent",
                data={},
                created_at=datetime.now(UTC),
            )
        )


async def test_a_reply_to_our_outgoing_message_id_joins_its_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    first = await deliver_file(server, inbox, "02-iso8859-9-qp.eml")
    await _our_reply(server, inbox, first.conversation_id, "fd-out-2@acme.mail.frontdesk.test")
    reply = await deliver_file(server, inbox, "27-gmail-reply-turkish.eml")
    assert reply.conversation_id == first.conversation_id
    row = await message_row(server, reply.message_id)
    assert row["text"] == "Kargo numarasını aldım."
    assert "Kargonuz yola çıktı." in row["data"]["email"]["quoted"]


async def test_a_bounce_of_our_reply_joins_its_conversation(server: Server, http: httpx.AsyncClient) -> None:
    inbox = await _inbox(server, http)
    first = await deliver(server, inbox, mail("b-1@example.com", "Hello", "Hi", sender="gone@example.net"))
    await _our_reply(server, inbox, first.conversation_id, "fd-out-9@acme.mail.frontdesk.test")
    bounce = await deliver_file(server, inbox, "15-dsn-bounce.eml")
    assert bounce.conversation_id == first.conversation_id
    row = await message_row(server, bounce.message_id)
    assert row["data"]["email"]["kind"] == "bounce"
    assert [a["file_name"] for a in row["data"]["attachments"]] == [
        "delivery-status.txt",
        "returned-headers.txt",
    ]


async def test_reply_token_threads_and_forged_or_foreign_tokens_do_not(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    other = await _inbox(server, http)
    first = await deliver(server, inbox, mail("t-1@example.com", "Printer", "It jams."))
    token_to = reply_address(first.conversation_id, SECRET, DOMAIN)
    # A different subject, no In-Reply-To: only the token ties it to the conversation.
    by_token = await deliver(
        server, inbox, mail("t-2@example.com", "Other words", "Still jams.", extra=""), [token_to]
    )
    assert by_token.conversation_id == first.conversation_id
    in_cc = await deliver(server, inbox, mail("t-3@example.com", "x", "cc", extra=f"Cc: {token_to}\n"))
    assert in_cc.conversation_id == first.conversation_id
    forged = reply_address(first.conversation_id, "another-secret", DOMAIN)
    by_forged = await deliver(server, inbox, mail("t-4@example.com", "y", "forged"), [forged])
    assert by_forged.conversation_id != first.conversation_id
    # A valid token of a conversation in another inbox does not pull the mail there.
    foreign = await deliver(server, other, mail("t-5@example.com", "z", "foreign"), [token_to])
    assert foreign.conversation_id != first.conversation_id


async def test_a_new_subject_from_a_known_contact_is_a_new_conversation(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    first = await deliver(server, inbox, mail("n-1@example.com", "Invoice", "Where is it?"))
    second = await deliver(server, inbox, mail("n-2@example.com", "Delivery", "Another question."))
    assert second.conversation_id != first.conversation_id
    async with server.services.db.read() as conn:
        contacts = (await conn.execute(sa.select(sa.func.count()).select_from(t.contacts))).scalar_one()
        convs = (await conn.execute(sa.select(t.conversations.c.contact_id))).scalars().all()
    assert contacts == 1 and len(set(convs)) == 1 and len(convs) == 2


async def test_inline_cid_image_is_stored_and_its_url_replaces_the_cid(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    got = await deliver_file(server, inbox, "07-related-cid.eml")
    row = await message_row(server, got.message_id)
    html = row["data"]["email"]["html"]
    [attachment] = row["data"]["attachments"]
    assert attachment["file_name"] == "shot.png"
    assert f'src="{attachment["url"]}"' in html
    assert "cid:" not in html
    async with server.services.db.read() as conn:
        stored = (await conn.execute(sa.select(t.attachments))).mappings().one()
    assert stored["message_id"] == got.message_id
    r = await http.get(attachment["url"])
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")


async def test_unreadable_mail_is_stored_with_the_original_attached(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    raw = (CORPUS / "20-truncated-mime.eml").read_bytes()
    got = await deliver(server, inbox, raw)
    row = await message_row(server, got.message_id)
    # The system's note is an annotation beside the text, worded by the dashboard.
    assert "message.eml" not in row["text"] and "could not be read" not in row["text"]
    [note] = row["annotations"]
    assert note == {
        "code": "email_unreadable",
        "detail": row["data"]["email"]["problem"],
        "original": "message.eml",
    }
    assert row["data"]["email"]["problem"]
    names = [a["file_name"] for a in row["data"]["attachments"]]
    assert names[-1] == "message.eml"
    r = await http.get(row["data"]["attachments"][-1]["url"])
    assert r.status_code == 200 and r.content == raw
    garbage = await deliver(server, inbox, b"\x00\x01 not a mail at all \xff\xfe")
    row = await message_row(server, garbage.message_id)
    assert row["data"]["email"]["problem"] and "message.eml" not in row["text"]
    assert [a["code"] for a in row["annotations"]] == ["email_unreadable"]


async def test_auto_replies_bounces_and_lists_are_stored_and_marked(
    server: Server, http: httpx.AsyncClient
) -> None:
    inbox = await _inbox(server, http)
    for name, kind in (
        ("16-out-of-office.eml", "auto_reply"),
        ("15-dsn-bounce.eml", "bounce"),
        ("17-mailing-list.eml", "list"),
    ):
        got = await deliver_file(server, inbox, name)
        row = await message_row(server, got.message_id)
        assert row["data"]["email"]["kind"] == kind
    async with server.services.db.read() as conn:
        jobs = (await conn.execute(sa.select(sa.func.count()).select_from(t.jobs))).scalar_one()
    assert jobs == 0  # nothing queued to answer them


async def test_every_corpus_message_can_be_stored(server: Server, http: httpx.AsyncClient) -> None:
    inbox = await _inbox(server, http)
    for name in sorted(EXPECTATIONS):
        got = await deliver_file(server, inbox, name)
        row = await message_row(server, got.message_id)
        assert row["content_type"] == "email", name
