"""Demo equipment, never production: a capturing SMTP relay for `make demo`.

With FRONTDESK_DEMO_RELAY_PORT set (allowed in dev mode only), `frontdesk serve` runs this relay
on 127.0.0.1 and the demo points FRONTDESK_SMTP_HOST/PORT at it, so an agent's email reply
leaves exactly as it would through a real relay, and is then kept as a file under
data_dir/demo-outbox instead of being delivered. /demo/outbox (http/demo_outbox.py) lists what
it kept. docs/decisions/0020 says why it lives in the serve process.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from frontdesk.settings import Settings

__all__ = ["CapturedMail", "demo_relay", "outbox_dir", "read_outbox"]

log = logging.getLogger(__name__)
DEMO_RELAY_HOST = "127.0.0.1"
# The page shows the newest ones; older files stay on disk.
SHOWN = 100


def outbox_dir(settings: Settings) -> Path:
    return settings.data_dir / "demo-outbox"


class CapturingHandler:
    """aiosmtpd's DATA hook: the mail is written, with its envelope in the headers a delivering
    server adds (Return-Path, Delivered-To), and answered 250; nothing is sent on."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        if content is None:
            content = envelope.content if isinstance(envelope.content, bytes) else b""
        trace = [f"Return-Path: <{envelope.mail_from or ''}>"]
        trace += [f"Delivered-To: {address}" for address in envelope.rcpt_tos]
        raw = ("\r\n".join(trace) + "\r\n").encode() + content
        name = f"{time.time_ns()}-{secrets.token_hex(4)}.eml"
        await asyncio.to_thread(_write, self.folder / name, raw)
        log.info("demo relay captured a mail", extra={"file": name, "recipients": envelope.rcpt_tos})
        return "250 2.0.0 OK: captured by the demo relay, not delivered"


def _write(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(raw)
    partial.rename(path)  # the page never reads half a mail


@contextlib.asynccontextmanager
async def demo_relay(settings: Settings) -> AsyncIterator[None]:
    """Run the capturing relay while the block runs."""
    handler = CapturingHandler(outbox_dir(settings))
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="demo-relay.localhost",
            ident="Frontdesk demo relay (captures mail, delivers nothing)",
            enable_SMTPUTF8=True,
            loop=loop,
        )

    server = await loop.create_server(protocol, host=DEMO_RELAY_HOST, port=settings.demo_relay_port)
    log.info(
        "demo relay started: mail sent through it is kept, not delivered",
        extra={"host": DEMO_RELAY_HOST, "port": settings.demo_relay_port},
    )
    try:
        yield
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=5)


@dataclass(frozen=True)
class CapturedMail:
    name: str
    captured_at: datetime
    envelope_from: str
    envelope_to: list[str]
    from_: str
    to: str
    cc: str
    subject: str
    text: str


def read_outbox(folder: Path, limit: int = SHOWN) -> list[CapturedMail]:
    """The captured mails, newest first (their names begin with the time they came)."""
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_captured(path) for path in files]


def _captured(path: Path) -> CapturedMail:
    msg: Any = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain", "html"))
    text = str(body.get_content()) if body is not None else ""
    return CapturedMail(
        name=path.name,
        captured_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        envelope_from=str(msg.get("Return-Path", "")).strip("<>"),
        envelope_to=[str(v) for v in msg.get_all("Delivered-To", [])],
        from_=str(msg.get("From", "")),
        to=str(msg.get("To", "")),
        cc=str(msg.get("Cc", "")),
        subject=str(msg.get("Subject", "")),
        text=text,
    )
