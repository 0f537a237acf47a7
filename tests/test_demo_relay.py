"""The demo's email loop with nothing installed: a customer's mail sent with `frontdesk
send-test-mail` reaches the SMTP listener, the agent's reply leaves through the demo's capturing
relay (a real SMTP server in the serve process), shows as sent, and is listed at /demo/outbox.
The relay and its page exist only in dev mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError

from frontdesk.cli import main
from frontdesk.settings import Settings
from tests.channels.email.email_support import MAIL_DOMAIN, make_email_inbox, relay_settings
from tests.conftest import TEST_SECRET, Server, free_port
from tests.factories import make_admin

LISTEN_PORT = free_port()
RELAY_PORT = free_port()
ADDRESS = f"support@acme.{MAIL_DOMAIN}"
with_demo_relay = pytest.mark.parametrize(
    "server", [relay_settings(RELAY_PORT, LISTEN_PORT, demo_relay_port=RELAY_PORT)], indirect=True
)


async def send_test_mail(*args: str) -> Result:
    # In a thread: the listener answers on this test's event loop.
    return await asyncio.to_thread(CliRunner().invoke, main, ["send-test-mail", *args])


@with_demo_relay
async def test_a_reply_reaches_the_demo_outbox(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http, workspace="Acme")
    await make_email_inbox(http, admin, ws, from_name="Acme Support")
    sent = await send_test_mail(
        "--to", ADDRESS, "--from", "Ali <ali@customer.test>", "--subject", "Kargom nerede?",
        "--text", "Siparişim gelmedi.", "--port", str(LISTEN_PORT),
    )  # fmt: skip
    assert sent.exit_code == 0, sent.output
    assert f"sent to {ADDRESS} through 127.0.0.1:{LISTEN_PORT}: 250" in sent.output
    base = f"/api/v1/workspaces/{ws}/conversations"
    [conversation] = (await http.get(base, headers=admin.headers)).json()["conversations"]
    messages = f"{base}/{conversation['id']}/messages"
    r = await http.post(messages, headers=admin.headers, json={"text": "Bugün kargoda, Ali."})
    assert r.status_code == 201, r.text
    reply_id = r.json()["id"]
    async with asyncio.timeout(10):
        while True:
            listed = (await http.get(messages, headers=admin.headers)).json()["messages"]
            reply = next(m for m in listed if m["id"] == reply_id)
            if reply["delivery_status"] != "queued":
                break
            await asyncio.sleep(0.05)
    assert reply["delivery_status"] == "sent", reply
    [kept] = list((Path(server.services.settings.data_dir) / "demo-outbox").glob("*.eml"))
    assert b"Delivered-To: ali@customer.test" in kept.read_bytes()
    page = await http.get("/demo/outbox", headers={"Accept-Language": "tr"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Demo giden kutusu" in page.text and f"127.0.0.1:{RELAY_PORT}" in page.text
    assert "Re: Kargom nerede?" in page.text and "Bugün kargoda, Ali." in page.text
    assert "Acme Support &lt;support@acme.mail.test&gt;" in page.text


async def test_no_relay_no_outbox_page_and_never_outside_dev_mode(http: httpx.AsyncClient) -> None:
    assert (await http.get("/demo/outbox")).status_code == 404
    with pytest.raises(ValidationError, match="FRONTDESK_DEMO_RELAY_PORT"):
        Settings(secret_key=TEST_SECRET, dev_mode=False, demo_relay_port=2526)


@with_demo_relay
async def test_the_outbox_says_when_nothing_was_sent(http: httpx.AsyncClient) -> None:
    page = await http.get("/demo/outbox", headers={"Accept-Language": "fa-IR"})
    assert 'dir="rtl"' in page.text and "هنوز چیزی فرستاده نشده است" in page.text


@with_demo_relay
async def test_send_test_mail_names_what_went_wrong(server: Server) -> None:
    refused = await send_test_mail("--to", f"nobody@nowhere.{MAIL_DOMAIN}", "--port", str(LISTEN_PORT))
    assert refused.exit_code == 1 and "the server refused RCPT TO: 550" in refused.output
    closed = free_port()
    unreachable = await send_test_mail("--to", ADDRESS, "--port", str(closed))
    assert unreachable.exit_code == 1
    assert f"no answer from an SMTP server at 127.0.0.1:{closed}" in unreachable.output
    bad = await send_test_mail("--to", "not-an-address", "--port", str(LISTEN_PORT))
    assert bad.exit_code == 2 and "'not-an-address' is not an email address" in bad.output
