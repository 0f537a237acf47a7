"""Mail whose MIME structure is broken or cut off, sent byte for byte to the real SMTP listener:
the text the sender wrote is shown, the original is kept as message.eml, and the message is
marked as partly read in the API."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.channels.email.email_support import MAIL_DOMAIN, deliver, make_email_inbox, new_port
from tests.conftest import Server
from tests.factories import make_admin

LISTEN_PORT = new_port()
SETTINGS = {"mail_domain": MAIL_DOMAIN, "smtp_listen_port": LISTEN_PORT}
with_listener = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"
TEXT = "Merhaba, the parcel came open and two cups are broken."


def broken(n: int, content_type: str, body: str) -> bytes:
    head = (
        f"From: Ayşe <ayse@customer.test>\r\nTo: {ADDRESS}\r\nSubject: Broken cups {n}\r\n"
        f"Message-ID: <broken-{n}@customer.test>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n"
    )
    return (head + body).encode()


PART = f"Content-Type: text/plain; charset=utf-8\r\n\r\n{TEXT}\r\n"
CASES = {
    # The boundary parameter was lost (a gateway rewrote the header).
    "no boundary": ("multipart/alternative", f"--b7\r\n{PART}--b7--\r\n"),
    # Another boundary used than the one declared.
    "other boundary": ('multipart/mixed; boundary="declared"', f"--used\r\n{PART}--used--\r\n"),
    # A multipart with no parts at all: the body is the text.
    "no parts": ('multipart/mixed; boundary="x1"', f"{TEXT}\r\n"),
    # Nested deeper than parts are followed (a forwarding loop of gateways): the first text
    # part is read from the bytes, its encoding and charset decoded.
    "too deep": (
        'multipart/mixed; boundary="d0"',
        "".join(f'--d{i}\r\nContent-Type: multipart/mixed; boundary="d{i + 1}"\r\n\r\n' for i in range(40))
        + "--d40\r\nContent-Transfer-Encoding: base64\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + base64.b64encode(TEXT.encode()).decode()
        + "\r\n--d40--\r\n",
    ),
}


async def messages(http: httpx.AsyncClient, admin: Any, ws_id: int) -> list[dict[str, Any]]:
    found = []
    page = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()
    for conversation in page["conversations"]:
        url = f"/api/v1/workspaces/{ws_id}/conversations/{conversation['id']}/messages"
        found += (await http.get(url, headers=admin.headers)).json()["messages"]
    return sorted(found, key=lambda m: m["id"])


@with_listener
async def test_the_text_of_a_broken_mail_is_shown_and_the_message_marked_partly_read(
    server: Server, http: httpx.AsyncClient
) -> None:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws_id, local_part="support")
    for n, (content_type, body) in enumerate(CASES.values()):
        assert await deliver(LISTEN_PORT, [ADDRESS], broken(n, content_type, body)) == {}
    whole = broken(9, "text/plain; charset=utf-8", f"{TEXT}\r\n")
    assert await deliver(LISTEN_PORT, [ADDRESS], whole) == {}
    stored = await messages(http, admin, ws_id)
    for name, message in zip([*CASES, "whole"], stored, strict=True):
        email = message["data"]["email"]
        assert message["text"].startswith(TEXT), name
        if name == "whole":
            assert email["partly_read"] is False and email["problem"] is None
            assert "attachments" not in message["data"]
            continue
        assert email["partly_read"] is True and (
            "broken" in email["problem"] or "deep" in email["problem"]
        ), name
        [original] = message["data"]["attachments"]
        assert original["file_name"] == "message.eml", name
        kept = await http.get(original["url"])
        assert kept.content.startswith(b"From: Ay") and b"Subject: Broken cups" in kept.content
