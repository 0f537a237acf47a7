"""The SMTP listener for hosted addresses (E1), run by `frontdesk serve` on
FRONTDESK_SMTP_LISTEN_HOST:PORT with aiosmtpd.

RCPT: only addresses of enabled email inboxes (hosted, reply+<token>, or an inbox's own address)
are accepted; anything else gets 550, so nothing is stored for it. DATA: the mail is parsed, its
files written, and it is stored for each inbox it reaches in one write transaction; 250 is answered
only after the commit, a database problem answers 451 so the sending server tries again later.
A repeated delivery (same Message-ID) is answered 250 and stores nothing new. Nothing is ever
answered automatically: auto-replies, bounces and list mail are stored, marked, and left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import ssl
import sys
from collections.abc import AsyncIterator, Sequence

from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.email_intake import do_receive_email
from frontdesk.domain.errors import DomainError
from frontdesk.mail.parse import MailFile, ParsedEmail, parse_email
from frontdesk.mail.routing import Refusal, Route, route_recipient
from frontdesk.services import Services
from frontdesk.settings import Settings

__all__ = ["HostedMailHandler", "mail_listener"]

log = logging.getLogger(__name__)
RECEIVED = Counter("frontdesk_mail_received_total", "Mail handed to the SMTP listener", ["outcome"])
ATTEMPTS = 3  # concurrent first mails of one sender may race on the unique keys


class HostedMailHandler:
    """aiosmtpd's handler: the RCPT and DATA hooks."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def _route(self, address: str) -> Route | Refusal:
        s = self.services
        async with s.db.read() as conn:
            return await route_recipient(conn, s.box, s.settings.mail_domain, address)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            route = await self._route(address)
        except SQLAlchemyError:
            log.warning("could not look up a mail recipient", exc_info=True)
            return "451 4.3.0 Temporary problem looking up the mailbox, try again later"
        if isinstance(route, Refusal):
            RECEIVED.labels("refused").inc()
            log.info("mail recipient refused", extra={"recipient": address, "reason": route.text})
            return f"{route.code} {route.text}: {address}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            routes = await self._routes(envelope.rcpt_tos)
        except SQLAlchemyError:
            log.warning("could not look up the mail's recipients", exc_info=True)
            return "451 4.3.0 Temporary problem, try again later"
        if not routes:  # every inbox was disabled or removed since RCPT
            return "550 5.2.1 No mailbox here takes this mail any more"
        mail = await asyncio.to_thread(parse_email, raw, tuple(envelope.rcpt_tos))
        try:
            stored, duplicates = await self._store(routes, mail)
        except (SQLAlchemyError, OSError):
            RECEIVED.labels("deferred").inc()
            log.warning("could not store a mail; the sender will retry", exc_info=True)
            return "451 4.3.0 Temporary problem storing the message, try again later"
        except Exception:
            # A bug of ours: the sender keeps the mail and retries (a fix can still take it),
            # rather than the mail being lost or bounced at once.
            RECEIVED.labels("error").inc()
            log.exception("could not store a mail", extra={"message_id": mail.message_id})
            return "451 4.3.0 Temporary problem storing the message, try again later"
        RECEIVED.labels("duplicate" if stored == 0 else "stored").inc()
        log.info(
            "mail received",
            extra={"message_id": mail.message_id, "inboxes": stored, "duplicates": duplicates},
        )
        return "250 2.0.0 OK: queued"

    async def _routes(self, recipients: Sequence[str]) -> list[Route]:
        found: dict[int, Route] = {}
        for address in recipients:
            route = await self._route(address)
            if isinstance(route, Route):
                found.setdefault(route.inbox["id"], route)  # one copy per inbox
        return list(found.values())

    async def _store(self, routes: list[Route], mail: ParsedEmail) -> tuple[int, int]:
        root = self.services.settings.attachments_dir
        prepared: list[tuple[ParsedEmail, list[StoredFile]]] = []
        try:
            for _ in routes:  # each inbox's message owns its copies of the files
                prepared.append(await asyncio.to_thread(self._files, mail))
        except BaseException:
            discard_files(root, [f for _, files in prepared for f in files])
            raise
        everything = [f for _, files in prepared for f in files]
        try:
            for attempt in range(ATTEMPTS):
                try:
                    results = []
                    async with self.services.db.write() as tx:
                        for route, (inbox_mail, files) in zip(routes, prepared, strict=True):
                            results.append(
                                await do_receive_email(tx, route.inbox, inbox_mail, files, route.reply_secret)
                            )
                    break
                except IntegrityError:
                    if attempt == ATTEMPTS - 1:
                        raise
        except BaseException:
            discard_files(root, everything)
            raise
        # A repeated delivery stored nothing new: its copies of the files go.
        for result, (_, files) in zip(results, prepared, strict=True):
            if result.duplicate:
                discard_files(root, files)
        duplicates = sum(1 for r in results if r.duplicate)
        return len(results) - duplicates, duplicates

    def _files(self, mail: ParsedEmail) -> tuple[ParsedEmail, list[StoredFile]]:
        """Write the mail's files; a file over the size limit or of a refused type is left out,
        and the message text says so (the mail is still taken: losing it all would be worse)."""
        settings = self.services.settings
        kept: list[MailFile] = []
        stored: list[StoredFile] = []
        notes: list[str] = []
        try:
            for file in mail.files:
                try:
                    stored.append(
                        store_file(
                            settings.attachments_dir,
                            file.file_name,
                            file.content_type,
                            file.content,
                            settings.max_attachment_bytes,
                        )
                    )
                    kept.append(file)
                except DomainError as exc:
                    notes.append(
                        f"[Attachment {file.file_name!r} ({len(file.content):,} bytes) left out: {exc}]"
                    )
        except BaseException:
            discard_files(settings.attachments_dir, stored)
            raise
        if not notes:
            return mail, stored
        text = "\n\n".join(p for p in (mail.text.rstrip(), *notes) if p)
        return dataclasses.replace(mail, files=tuple(kept), text=text), stored


def _tls(settings: Settings) -> ssl.SSLContext | None:
    if settings.smtp_tls_cert is None or settings.smtp_tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(settings.smtp_tls_cert), str(settings.smtp_tls_key))
    return context


@contextlib.asynccontextmanager
async def mail_listener(services: Services) -> AsyncIterator[asyncio.Server | None]:
    """Listen for mail while the block runs; nothing when FRONTDESK_SMTP_LISTEN_PORT is 0."""
    settings = services.settings
    if not settings.smtp_listen_port:
        yield None
        return
    handler = HostedMailHandler(services)
    tls = _tls(settings)
    loop = asyncio.get_running_loop()

    def protocol() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.smtp_listen_max_bytes,
            enable_SMTPUTF8=True,
            hostname=settings.mail_domain,
            ident="Frontdesk ESMTP",
            tls_context=tls,
            loop=loop,
        )

    server = await loop.create_server(
        protocol, host=settings.smtp_listen_host, port=settings.smtp_listen_port
    )
    log.info(
        "SMTP listener started",
        extra={
            "host": settings.smtp_listen_host,
            "port": settings.smtp_listen_port,
            "starttls": tls is not None,
        },
    )
    try:
        yield server
    finally:
        server.close()
        # Sessions still open are cut: a sender whose DATA was not answered will try again.
        if sys.version_info >= (3, 13):
            server.close_clients()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), timeout=5)
