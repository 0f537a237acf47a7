"""Every file a customer mails is kept (within the size limit), whatever its type, sent byte for
byte to the real SMTP listener; what is not safe to show inline is served as a sandboxed
download, and empty parts that are named or pointed to are kept as empty files."""

from __future__ import annotations

import base64

import httpx
import pytest

from frontdesk.store import tables as t
from tests.channels.email.email_support import MAIL_DOMAIN, deliver, make_email_inbox, new_port, rows
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, post_inbound

LISTEN_PORT = new_port()
SETTINGS = {
    "mail_domain": MAIL_DOMAIN,
    "smtp_listen_port": LISTEN_PORT,
    "smtp_listen_max_bytes": 400_000,
    "max_attachment_bytes": 50_000,
}
with_listener = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme-cicek.{MAIL_DOMAIN}"
# A 2x1 24-bit BMP, as a RISC OS mail client labels it.
BMP = (
    b"BM" + (62).to_bytes(4, "little") + b"\0\0\0\0" + (54).to_bytes(4, "little")
    + (40).to_bytes(4, "little") + (2).to_bytes(4, "little") + (1).to_bytes(4, "little")
    + b"\x01\x00\x18\x00" + b"\0" * 24 + b"\x00\x00\xff\xff\x00\x00\x00\x00"
)  # fmt: skip
SIGNATURE = (
    b"-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCAAdFiEEmadeupmadeupmadeup\n=AbCd\n"
    b"-----END PGP SIGNATURE-----\n"
)


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def customer_mail() -> bytes:
    """A signed mail with the files real clients send: a BMP under a RISC OS type, the PGP
    signature, an HTML page, an "image" that is HTML, an empty inline image the HTML points
    to, an empty named file and an empty part nothing names."""
    return b"\r\n".join(
        [
            b"From: Ali Yilmaz <ali@customer.test>",
            f"To: {ADDRESS}".encode(),
            b"Subject: Screenshot of the fault",
            b"Message-ID: <files-1@customer.test>",
            b"MIME-Version: 1.0",
            b'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary="sig"',
            b"",
            b"--sig",
            b'Content-Type: multipart/mixed; boundary="mix"',
            b"",
            b"--mix",
            b'Content-Type: multipart/related; boundary="rel"',
            b"",
            b"--rel",
            b"Content-Type: text/html; charset=utf-8",
            b"",
            b'<p>The screen went blank: <img src="cid:blank@customer.test"></p>',
            b"--rel",
            b"Content-Type: image/png",
            b"Content-ID: <blank@customer.test>",
            b"Content-Transfer-Encoding: base64",
            b"",
            b"",
            b"--rel--",
            b"--mix",
            b'Content-Type: application/riscos; name="screen.bmp"',
            b"Content-Transfer-Encoding: base64",
            b"",
            b64(BMP),
            b"--mix",
            b'Content-Type: text/html; name="page.html"',
            b"Content-Disposition: attachment",
            b"",
            b"<script>alert('saved page')</script>",
            b"--mix",
            b'Content-Type: image/png; name="fake.png"',
            b"",
            b"<html><script>alert(1)</script></html>",
            b"--mix",
            b'Content-Type: text/plain; name="empty.txt"',
            b"Content-Disposition: attachment",
            b"",
            b"",
            b"--mix",
            b"Content-Type: application/octet-stream",
            b"",
            b"",
            b"--mix--",
            b"--sig",
            b'Content-Type: application/pgp-signature; name="signature.asc"',
            b"",
            SIGNATURE.replace(b"\n", b"\r\n"),
            b"--sig--",
            b"",
        ]
    )


@with_listener
async def test_every_file_is_kept_and_what_is_unsafe_is_served_as_a_download(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme Çiçek")
    await make_email_inbox(http, admin, ws_id, local_part="support")
    assert await deliver(LISTEN_PORT, [ADDRESS], customer_mail()) == {}
    [message] = await rows(server, t.messages)
    assert "left out" not in message["text"]
    kept = {a["file_name"]: a for a in await rows(server, t.attachments)}
    assert {name: (a["content_type"], a["size"]) for name, a in kept.items()} == {
        "attachment-1.png": ("image/png", 0),  # the empty inline image, named for its type
        "screen.bmp": ("application/riscos", len(BMP)),
        "page.html": ("text/html", 36),
        "fake.png": ("application/octet-stream", 38),  # not a PNG: never shown as an image
        "empty.txt": ("text/plain", 0),
        "signature.asc": ("application/pgp-signature", len(SIGNATURE) + SIGNATURE.count(b"\n")),
    }
    # The inline image's link resolves to its (empty) stored file.
    html = message["data"]["email"]["html"]
    assert f'src="/files/{kept["attachment-1.png"]["path"]}"' in html

    for name, content_type, content in (
        ("screen.bmp", "application/riscos", BMP),
        ("page.html", "text/html", b"<script>alert('saved page')</script>"),
        ("fake.png", "application/octet-stream", b"<html><script>alert(1)</script></html>"),
        ("empty.txt", "text/plain", b""),
    ):
        download = await http.get(f"/files/{kept[name]['path']}")
        assert download.status_code == 200 and download.content == content, name
        assert download.headers["content-type"].split(";")[0] == content_type, name
        assert download.headers["content-disposition"].startswith("attachment;"), name
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
    inline = await http.get(f"/files/{kept['attachment-1.png']['path']}")
    assert inline.headers["content-disposition"].startswith("inline;")
    assert inline.headers["content-security-policy"] == "sandbox; default-src 'none'"


@with_listener
async def test_a_file_over_the_size_limit_is_still_left_out_with_a_note(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme Çiçek")
    await make_email_inbox(http, admin, ws_id, local_part="support")
    raw = customer_mail().replace(b64(BMP), b64(BMP + b"\0" * 60_000))
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [message] = await rows(server, t.messages)
    assert "screen.bmp" not in message["text"]
    [note] = message["annotations"]
    assert note["code"] == "attachment_too_large" and note["filename"] == "screen.bmp"
    assert "screen.bmp" not in {a["file_name"] for a in await rows(server, t.attachments)}


async def test_files_of_other_channels_are_served_the_same_way(
    server: Server, http: httpx.AsyncClient
) -> None:
    """The download route decides by the stored type alone, whatever channel the file came by."""
    admin, ws_id = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws_id)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
    files = [
        ("notes.txt", "text/plain", b"<script>x</script>"),
        ("a.pdf", "application/pdf", b"%PDF-1.4"),
        ("p.png", "image/png", png),
    ]
    payload = {
        "type": "message",
        "source_id": "m-1",
        "text": "",
        "contact": {"source_id": "c-1"},
        "attachments": [
            {"file_name": n, "content_type": ct, "data": base64.b64encode(data).decode()}
            for n, ct, data in files
        ],
    }
    r = await post_inbound(http, inbox, payload)
    assert r.status_code == 200, r.text
    served = {a["file_name"]: a["path"] for a in await rows(server, t.attachments)}
    for name, disposition in (("notes.txt", "attachment"), ("a.pdf", "attachment"), ("p.png", "inline")):
        download = await http.get(f"/files/{served[name]}")
        assert download.headers["content-disposition"].startswith(f"{disposition};"), name
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.headers["content-security-policy"] == "sandbox; default-src 'none'"
