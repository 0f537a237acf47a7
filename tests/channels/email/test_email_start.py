"""An agent writes first to a customer by email (POST …/inboxes/{id}/email-conversations): the
mail reaches a real SMTP relay on 127.0.0.1 with the agent's subject (or the template's), wrapped
in the inbox's template; the customer's answer threads back into the conversation; a follow-up
before any answer threads on the first mail; bad input changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from frontdesk.store import tables as t
from tests.channels.email.email_support import (
    MAIL_DOMAIN,
    Relay,
    deliver,
    mail,
    make_email_inbox,
    new_port,
    relay_fixture,
    relay_settings,
)
from tests.conftest import Server
from tests.factories import Agent, make_admin, make_inbox, make_member

LISTEN_PORT = new_port()
RELAY_PORT = new_port()
SETTINGS = relay_settings(RELAY_PORT, LISTEN_PORT)
pytestmark = pytest.mark.parametrize("server", [SETTINGS], indirect=True)
ADDRESS = f"support@acme.{MAIL_DOMAIN}"


relay = relay_fixture(RELAY_PORT)


async def email_inbox(
    server: Server, http: httpx.AsyncClient, template_subject: str = ""
) -> tuple[Agent, int, int]:
    admin, ws_id = await make_admin(server, http, workspace="Acme")
    inbox = await make_email_inbox(http, admin, ws_id, from_name="Acme Support")
    r = await http.put(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox['id']}/email-template",
        headers=admin.headers,
        json={"subject": template_subject, "heading": "Acme Destek", "body_text": "Size yazıyoruz."},
    )
    assert r.status_code == 200, r.text
    return admin, ws_id, int(inbox["id"])


async def start(
    http: httpx.AsyncClient, agent: Agent, ws_id: int, inbox_id: int, **body: Any
) -> httpx.Response:
    return await http.post(
        f"/api/v1/workspaces/{ws_id}/inboxes/{inbox_id}/email-conversations", headers=agent.headers, json=body
    )


async def messages(
    http: httpx.AsyncClient, agent: Agent, ws_id: int, conversation_id: int
) -> list[dict[str, Any]]:
    r = await http.get(
        f"/api/v1/workspaces/{ws_id}/conversations/{conversation_id}/messages", headers=agent.headers
    )
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["messages"]
    return found


async def sent_message(
    http: httpx.AsyncClient, agent: Agent, ws_id: int, conversation_id: int
) -> dict[str, Any]:
    """The conversation's latest outgoing message once the relay took it."""
    async with asyncio.timeout(10):
        while True:
            outgoing = [
                m for m in await messages(http, agent, ws_id, conversation_id) if m["kind"] == "outgoing"
            ]
            if outgoing and outgoing[-1]["delivery_status"] == "sent":
                return outgoing[-1]
            await asyncio.sleep(0.05)


async def counts(server: Server) -> tuple[int, int, int]:
    async with server.services.db.read() as conn:
        return (
            (await conn.execute(sa.select(sa.func.count()).select_from(t.conversations))).scalar_one(),
            (await conn.execute(sa.select(sa.func.count()).select_from(t.contacts))).scalar_one(),
            (await conn.execute(sa.select(sa.func.count()).select_from(t.messages))).scalar_one(),
        )


async def test_an_agent_writes_first_and_the_answer_threads_back(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http)
    r = await start(
        http, admin, ws_id, inbox_id, to=" Ayse@Customer.TEST ", name="Ayşe Kaya",
        subject="Siparişiniz hakkında", text="Merhaba Ayşe,\nsiparişiniz yarın çıkıyor.",
    )  # fmt: skip
    assert r.status_code == 201, r.text
    conversation_id = r.json()["conversation_id"]
    [first] = await relay.wait(1)
    assert str(first["To"]) == "Ayşe Kaya <ayse@customer.test>"
    assert str(first["From"]) == f"Acme Support <{ADDRESS}>"
    assert str(first["Subject"]) == "Siparişiniz hakkında"  # the first mail: no "Re:"
    assert first["In-Reply-To"] is None and first["References"] is None
    assert str(first["Reply-To"]).startswith("reply+")
    html = first.get_body(preferencelist=("html",))
    assert html is not None and "Acme Destek" in html.get_content()  # wrapped in the template
    conversation = (
        await http.get(f"/api/v1/workspaces/{ws_id}/conversations/{conversation_id}", headers=admin.headers)
    ).json()
    assert conversation["assignee_id"] == admin.user_id and conversation["contact"]["name"] == "Ayşe Kaya"
    sent = await sent_message(http, admin, ws_id, conversation_id)
    assert sent["source_id"] == first["Message-ID"].strip("<>")

    # The customer answers from her mail program: In-Reply-To names our mail.
    answer = mail(
        ADDRESS, "Re: Siparişiniz hakkında", "Teşekkürler!", sender="Ayşe Kaya <ayse@customer.test>",
        message_id="<a1@customer.test>", headers={"In-Reply-To": first["Message-ID"]},
    )  # fmt: skip
    assert await deliver(LISTEN_PORT, [ADDRESS], answer, sender="ayse@customer.test") == {}
    thread = await messages(http, admin, ws_id, conversation_id)
    assert [m["kind"] for m in thread] == ["outgoing", "incoming"]
    assert (await counts(server))[0] == 1

    # And the agent's reply answers her mail.
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/conversations/{conversation_id}/messages",
        headers=admin.headers,
        json={"text": "Rica ederiz."},
    )
    assert r.status_code == 201, r.text
    [_, reply] = await relay.wait(2)
    assert str(reply["Subject"]) == "Re: Siparişiniz hakkında"
    assert reply["In-Reply-To"] == "<a1@customer.test>"


async def test_a_follow_up_before_any_answer_threads_on_the_first_mail(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http)
    r = await start(
        http, admin, ws_id, inbox_id, to="ali@customer.test", subject="Fatura", text="Faturanız ekte."
    )
    conversation_id = r.json()["conversation_id"]
    [first] = await relay.wait(1)
    await sent_message(http, admin, ws_id, conversation_id)
    r = await http.post(
        f"/api/v1/workspaces/{ws_id}/conversations/{conversation_id}/messages",
        headers=admin.headers,
        json={"text": "Bir de şunu ekleyeyim."},
    )
    assert r.status_code == 201, r.text
    [_, follow_up] = await relay.wait(2)
    assert str(follow_up["Subject"]) == "Re: Fatura"
    assert follow_up["In-Reply-To"] == first["Message-ID"]
    assert follow_up["References"] == first["Message-ID"]
    assert str(follow_up["To"]) == "ali@customer.test"


async def test_the_template_subject_stands_in_for_a_missing_one(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http, template_subject="Acme'den haber var")
    r = await start(http, admin, ws_id, inbox_id, to="ali@customer.test", subject="  ", text="Merhaba")
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    assert str(sent["Subject"]) == "Acme'den haber var"


async def test_bad_input_is_refused_and_changes_nothing(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http)  # its template has no subject
    before = await counts(server)
    cases: list[tuple[dict[str, Any], str, str | None]] = [  # the body, the field named, the code
        ({"to": "ali@customer.test", "text": "Merhaba"}, "subject", "subject_required"),
        ({"to": "not an address", "subject": "S", "text": "Merhaba"}, "to", None),
        ({"to": "ali@localhost", "subject": "S", "text": "Merhaba"}, "to", None),
        ({"to": "ali@@customer.test", "subject": "S", "text": "Merhaba"}, "to", None),
        ({"to": "ali@customer.test", "subject": "S", "text": "   "}, "text", None),
    ]
    for body, field, code in cases:
        r = await start(http, admin, ws_id, inbox_id, **body)
        assert r.status_code == 422, (body, r.text)
        error = r.json()["error"]
        assert error["field"] == field, (body, error)
        if code is not None:
            assert error["code"] == code
    assert await counts(server) == before

    # Not an email inbox; an inbox the agent is not a member of; an unknown field.
    api = await make_inbox(http, admin, ws_id)
    r = await start(http, admin, ws_id, api.id, to="ali@customer.test", subject="S", text="x")
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_email_inbox", r.text
    agent = await make_member(server, http, ws_id)
    r = await start(http, agent, ws_id, inbox_id, to="ali@customer.test", subject="S", text="x")
    assert r.status_code == 404, r.text
    r = await start(
        http, admin, ws_id, inbox_id, to="ali@customer.test", subject="S", text="x", bcc="x@y.test"
    )
    assert r.status_code == 422, r.text
    assert await counts(server) == before


async def test_a_subject_is_one_line_whatever_is_typed(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http)
    r = await start(
        http, admin, ws_id, inbox_id, to="ali@customer.test", subject="Sipariş\r\nBcc: x@y.test", text="x"
    )
    assert r.status_code == 201, r.text
    [sent] = await relay.wait(1)
    assert str(sent["Subject"]) == "Sipariş Bcc: x@y.test" and sent["Bcc"] is None
    assert relay.envelopes[0][1] == ["ali@customer.test"]


async def test_the_contact_is_reused_and_a_blocked_one_is_not_written_to(
    server: Server, http: httpx.AsyncClient, relay: Relay
) -> None:
    admin, ws_id, inbox_id = await email_inbox(server, http)
    raw = mail(ADDRESS, "İade", "İade etmek istiyorum.", sender="Ali Yılmaz <ali@customer.test>")
    assert await deliver(LISTEN_PORT, [ADDRESS], raw) == {}
    [incoming] = (await http.get(f"/api/v1/workspaces/{ws_id}/conversations", headers=admin.headers)).json()[
        "conversations"
    ]
    r = await start(
        http, admin, ws_id, inbox_id, to="ALI@customer.test", subject="Kargo", text="Kargonuz yolda."
    )
    assert r.status_code == 201, r.text
    started = (
        await http.get(
            f"/api/v1/workspaces/{ws_id}/conversations/{r.json()['conversation_id']}", headers=admin.headers
        )
    ).json()
    assert started["id"] != incoming["id"]  # a new subject: a new conversation
    assert started["contact"]["id"] == incoming["contact"]["id"]
    assert (await counts(server))[1] == 1

    blocked = await http.post(
        f"/api/v1/workspaces/{ws_id}/contacts/{incoming['contact']['id']}/block", headers=admin.headers
    )
    assert blocked.status_code == 200, blocked.text
    before = await counts(server)
    r = await start(http, admin, ws_id, inbox_id, to="ali@customer.test", subject="Tekrar", text="x")
    assert r.status_code == 409 and r.json()["error"]["code"] == "contact_blocked", r.text
    assert await counts(server) == before
