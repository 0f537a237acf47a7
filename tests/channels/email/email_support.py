"""Helpers for the email channel's tests: a real SMTP relay on 127.0.0.1 that captures what it
is handed (and can be told to refuse), mail sent to the listener with Python's smtplib, and email
inboxes made through the API."""

from __future__ import annotations

import asyncio
import email
import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.conftest import Server, free_port
from tests.factories import Agent

MAIL_DOMAIN = "mail.test"


class Relay:
    """The installation's SMTP relay: answers DATA with the scripted replies first (e.g. a 451,
    then a 550), then 250, and keeps every accepted message."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.answers: list[str] = []
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.attempts = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.attempts += 1
            if self.answers:
                return self.answers.pop(0)
            msg = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(msg, EmailMessage)
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    async def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                await asyncio.sleep(0.02)
        with self._lock:
            return list(self.messages)


@contextmanager
def relay_on(port: int) -> Iterator[Relay]:
    relay = Relay(port)
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield relay
    finally:
        controller.stop()


def new_port() -> int:
    return free_port()


def relay_settings(relay_port: int, listen_port: int | None = None, **extra: Any) -> dict[str, Any]:
    """Server settings for an email test: the hosted mail domain, replies handed to a relay on
    127.0.0.1 at `relay_port` (plain SMTP), and the SMTP listener at `listen_port` when given."""
    settings: dict[str, Any] = {
        "mail_domain": MAIL_DOMAIN,
        "smtp_host": "127.0.0.1",
        "smtp_port": relay_port,
        "smtp_starttls": False,
        **extra,
    }
    if listen_port is not None:
        settings["smtp_listen_port"] = listen_port
    return settings


def relay_fixture(port: int) -> Any:
    """A module's `relay` fixture: the relay at `port`, for the length of one test."""

    @pytest.fixture
    def relay() -> Iterator[Relay]:
        with relay_on(port) as r:
            yield r

    return relay


def _send(port: int, sender: str, recipients: list[str], raw: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(sender, recipients, raw)


async def deliver(port: int, recipients: list[str], raw: bytes, sender: str = "ali@customer.test") -> Any:
    """Hand a mail to the listener as a sending server would (blocking smtplib in a thread:
    the listener runs on this test's event loop)."""
    return await asyncio.to_thread(_send, port, sender, recipients, raw)


def mail(
    to: str,
    subject: str = "Where is my order?",
    text: str = "Hello, my order 1042 has not arrived.",
    *,
    sender: str = "Ali Yılmaz <ali@customer.test>",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    return wire(msg)


def wire(msg: EmailMessage) -> bytes:
    """The message as it travels over SMTP: CRLF line ends (smtplib sends bytes as they are)."""
    return msg.as_bytes(policy=default_policy.clone(linesep="\r\n"))


async def make_email_inbox(
    http: httpx.AsyncClient, admin: Agent, workspace_id: int, **settings: Any
) -> dict[str, Any]:
    r = await http.post(
        f"/api/v1/workspaces/{workspace_id}/inboxes",
        headers=admin.headers,
        json={"name": "Support mail", "channel_type": "email", "settings": settings},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def rows(server: Server, table: sa.Table, *where: Any) -> list[dict[str, Any]]:
    """The table's rows (matching `where`), oldest first, read straight from the database."""
    async with server.services.db.read() as conn:
        result = await conn.execute(sa.select(table).where(*where).order_by(table.c.id))
        return [dict(r) for r in result.mappings().all()]
