"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the browser tests: it keeps every message it
is handed so a test can read the link a person would click."""

from __future__ import annotations

import asyncio
import email
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Mailbox:
    """What the SMTP server received (the controller runs in its own thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        with self._lock:
            self.messages.append(msg)
        return "250 OK"

    async def wait(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                await asyncio.sleep(0.02)
        with self._lock:
            return list(self.messages)


def plain_text(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None, msg
    return str(body.get_content())


def find_link(text: str, base_url: str, path: str) -> str:
    """The full link to `path` in a message body, as a mail client would make it clickable."""
    found = re.search(rf"{re.escape(base_url)}/{re.escape(path)}\?token=\S+", text)
    assert found, text
    return found.group(0)


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
