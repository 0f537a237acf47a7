"""parse_email on hand-written messages (tests/channels/email/mail_corpus, with expectations.json) and on
specific cases; the reply-token and classification rules of domain/email_threading."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from frontdesk.domain.email.threading import (
    check_reply_token,
    make_reply_token,
    normalize_subject,
    reply_address,
    reply_tokens,
    token_conversation_id,
)
from frontdesk.mail.parse import ParsedEmail, parse_email
from frontdesk.mail.quotes import fold
from frontdesk.mail.sanitize import sanitize_html

CORPUS = Path(__file__).parent / "mail_corpus"
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads((CORPUS / "expectations.json").read_text("utf-8"))


def load(name: str) -> ParsedEmail:
    return parse_email((CORPUS / name).read_bytes())


def test_corpus_has_every_expected_file_and_no_other() -> None:
    on_disk = {p.name for p in CORPUS.glob("*.eml")}
    assert on_disk == set(EXPECTATIONS)
    assert len(on_disk) >= 30


def _check(mail: ParsedEmail, expected: dict[str, Any]) -> None:  # noqa: C901 - one branch per key
    if "subject" in expected:
        assert mail.subject == expected["subject"]
    if "sender" in expected:
        assert mail.sender is not None
        assert mail.sender.address == expected["sender"]
    if "sender_name" in expected:
        assert mail.sender is not None
        assert mail.sender.name == expected["sender_name"]
    if expected.get("no_sender"):
        assert mail.sender is None
    for piece in expected.get("text_contains", []):
        assert piece in mail.text, (piece, mail.text)
    for piece in expected.get("text_lacks", []):
        assert piece not in mail.text, (piece, mail.text)
    for piece in expected.get("quoted_contains", []):
        assert piece in mail.quoted, (piece, mail.quoted)
    for piece in expected.get("html_contains", []):
        assert mail.html is not None and piece in mail.html, (piece, mail.html)
    for piece in expected.get("html_lacks", []):
        assert mail.html is None or piece.lower() not in mail.html.lower(), (piece, mail.html)
    assert mail.kind == expected.get("kind", "normal")
    if "attachments" in expected:
        assert [(f.file_name, f.content_type) for f in mail.files] == [
            tuple(a) for a in expected["attachments"]
        ]
    if "inline_cids" in expected:
        assert [f.content_id for f in mail.files if f.inline] == expected["inline_cids"]
    if "message_id" in expected:
        assert mail.message_id == expected["message_id"]
    if expected.get("generated_id"):
        assert mail.message_id.startswith("generated-")
    if "in_reply_to" in expected:
        assert list(mail.in_reply_to) == expected["in_reply_to"]
    if "references" in expected:
        assert list(mail.references) == expected["references"]
    if "cc" in expected:
        assert [a.address for a in mail.cc] == expected["cc"]
    if "to" in expected:
        assert [a.address for a in mail.to] == expected["to"]
    if "reply_to" in expected:
        assert [a.address for a in mail.reply_to] == expected["reply_to"]
    if "problem" in expected:
        assert (mail.problem is not None) == expected["problem"], mail.problem
        if expected["problem"]:
            # Said by the message's annotation (made at intake), not in the customer's text.
            assert "message.eml" not in mail.text and "could not be read" not in mail.text
            assert mail.files[-1].file_name == "message.eml"
    else:
        assert mail.problem is None, mail.problem
    if expected.get("has_date"):
        assert mail.date is not None


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_corpus_message(name: str) -> None:
    _check(load(name), EXPECTATIONS[name])


def test_two_parses_give_the_same_generated_id() -> None:
    raw = b"From: a@b.c\nSubject: no id\n\nhello\n"
    first, second = parse_email(raw), parse_email(raw)
    assert first.message_id == second.message_id
    assert first.message_id.startswith("generated-")
    assert parse_email(raw + b"x").message_id != first.message_id


def test_big_attachment_is_kept_whole() -> None:
    blob = b"%PDF-1.4\n" + bytes(range(256)) * 8192  # about 2 MB
    import base64

    encoded = base64.encodebytes(blob)
    raw = (
        b"From: Big <big@example.com>\nTo: help@acme.mail.test\nSubject: big file\n"
        b"Message-ID: <big-1@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain\n\n'
        b'see attached\n--b1\nContent-Type: application/pdf; name="report.pdf"\n'
        b'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="report.pdf"\n\n'
        + encoded
        + b"--b1--\n"
    )
    started = time.monotonic()
    mail = parse_email(raw)
    assert time.monotonic() - started < 5
    assert mail.text == "see attached"
    assert [(f.file_name, f.content_type, f.content) for f in mail.files] == [
        ("report.pdf", "application/pdf", blob)
    ]


def test_envelope_recipients_join_delivered_to() -> None:
    mail = parse_email(b"From: a@b.c\nTo: x@y.z\nSubject: s\n\nhi\n", ["Help@ACME.Mail.Test"])
    assert [a.address for a in mail.delivered_to] == ["help@acme.mail.test"]


def test_deep_nesting_and_many_parts_are_bounded() -> None:
    deep = b"From: a@b.c\nSubject: deep\nMIME-Version: 1.0\n"
    for i in range(60):
        deep += f'Content-Type: multipart/mixed; boundary="d{i}"\n\n--d{i}\n'.encode()
    deep += b"Content-Type: text/plain\n\nbottom\n"
    started = time.monotonic()
    mail = parse_email(deep)
    assert time.monotonic() - started < 5
    assert mail.problem is not None
    assert mail.files[-1].file_name == "message.eml"


def test_a_from_header_of_endless_groups_still_gives_the_address() -> None:
    # Found by scripts/fuzz-mail: the standard address parser recurses once per "name:" group.
    raw = b"From: " + b"m: " * 4000 + b"Ann <ann@example.com>\nSubject: s\n\nhi\n"
    mail = parse_email(raw)
    assert mail.problem is None
    assert mail.sender is not None and mail.sender.address == "ann@example.com"


def test_mime_nested_past_the_standard_parser_keeps_the_headers() -> None:
    raw = b"From: Ann <ann@example.com>\nSubject: deep\nMessage-ID: <deep@x>\nMIME-Version: 1.0\n"
    for i in range(3000):  # the standard library's parser recurses once per level
        raw += b'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n' % (i, i)
    mail = parse_email(raw + b"Content-Type: text/plain\n\nbottom\n")
    assert mail.problem is not None and "RecursionError" in mail.problem
    assert (mail.sender and mail.sender.address, mail.subject, mail.message_id) == (
        "ann@example.com",
        "deep",
        "deep@x",
    )
    assert mail.files[-1].file_name == "message.eml" and mail.text.strip() == "bottom"


def test_nul_bytes_never_reach_the_text() -> None:
    mail = parse_email(b"From: a\x00b <a@b.c>\nSubject: x\x00y\n\nhel\x00lo\n")
    assert "\x00" not in mail.text + mail.subject + (mail.sender.name if mail.sender else "")


def test_overlong_message_ids_are_hashed_consistently() -> None:
    long_id = "x" * 400 + "@example.com"
    mail = parse_email(f"From: a@b.c\nMessage-ID: <{long_id}>\nSubject: s\n\nhi\n".encode())
    reply = parse_email(f"From: a@b.c\nIn-Reply-To: <{long_id}>\nSubject: s\n\nhi\n".encode())
    assert len(mail.message_id) <= 255
    assert reply.in_reply_to == (mail.message_id,)


# --- reply tokens and subjects -------------------------------------------------------------


def test_reply_token_round_trip_and_refusals() -> None:
    token = make_reply_token(42, "secret-a")
    assert check_reply_token(token, "secret-a") == 42
    assert check_reply_token(token, "secret-b") is None
    assert check_reply_token(token.upper(), "secret-a") == 42  # mail systems may change case
    forged = f"43-{token.split('-')[1]}"
    assert check_reply_token(forged, "secret-a") is None
    assert token_conversation_id(forged) == 43
    assert check_reply_token("garbage", "secret-a") is None
    assert check_reply_token(token, "") is None
    address = reply_address(42, "secret-a", "Acme.Mail.Test")
    assert address == f"reply+{token}@acme.mail.test"
    assert reply_tokens(["help@acme.mail.test", address, address.upper()]) == [token]


@pytest.mark.parametrize(
    ("subject", "normal"),
    [
        ("Re: Order 5", "Order 5"),
        ("RE: Fwd: re:  Order   5", "Order 5"),
        ("YNT: Sipariş", "Sipariş"),
        ("İLT: Sipariş", "Sipariş"),
        ("AW: Bestellung", "Bestellung"),
        ("Re[2]: x", "x"),
        ("پاسخ: سفارش", "سفارش"),
        ("Regarding: x", "Regarding: x"),
    ],
)
def test_normalize_subject(subject: str, normal: str) -> None:
    assert normalize_subject(subject) == normal


def test_fold_keeps_text_when_everything_would_be_quoted() -> None:
    assert fold("> only a quote").new == "> only a quote"


def test_sanitize_removes_active_content_and_defers_remote_images() -> None:
    html = sanitize_html(
        '<div onclick="x()"><script>alert(1)</script><img src="https://t.example/p.gif" onerror="x()">'
        '<img src="//t.example/q.gif"><form action="https://evil"><input name="p"></form>'
        '<a href="javascript:alert(1)">x</a><p style="color:red;background:url(https://t.example/b)">k</p>'
        '<img src="cid:&lt;logo@acme&gt;"><iframe src="https://evil"></iframe></div>'
    )
    for bad in ("script", "onerror", "onclick", "<form", "<input", "javascript:", "iframe", "url("):
        assert bad not in html, (bad, html)
    assert 'data-src="https://t.example/p.gif"' in html
    assert ' src="https://' not in html and "//t.example/q.gif" not in html
    assert 'src="cid:logo@acme"' in html
    assert 'style="color:red"' in html
