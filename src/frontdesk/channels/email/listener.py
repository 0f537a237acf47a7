"""The SMTP listener for hosted addresses (E1), run by `frontdesk serve` on
FRONTDESK_SMTP_LISTEN_HOST:PORT with aiosmtpd.

RCPT: only addresses of enabled email inboxes (hosted, reply+<token>, or an inbox's own address)
are accepted; anything else gets 550, so nothing is stored for it. DATA: the mail is spooled
(to a file under data_dir/tmp when large, see smtp_spool), parsed (large files decoded to disk,
see spool_parts), its files written, and it is stored for each inbox it reaches in one write
transaction; 250 is answered only after the commit, a database problem answers 451 so the
sending server tries again later.
A repeated delivery (same Message-ID) is answered 250 and stores nothing new. Nothing is ever
answered automatically: auto-replies, bounces and list mail are stored, marked, and left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import sys
import time
from collections.abc import AsyncIterator, Iterable

from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client import Counter
from sqlalchemy.exc import SQLAlchemyError

from frontdesk.actions.email.store import MailTarget, do_store_mail
from frontdesk.channels.email.routing import Refusal, Route, route_recipient
from frontdesk.channels.email.smtp_spool import Spool, SpooledEnvelope, SpoolingSMTP, remove_stale_spools
from frontdesk.mail.parse import ParsedEmail, parse_email, parse_email_file
from frontdesk.services import Services
from frontdesk.settings import Settings

__all__ = ["HostedMailHandler", "mail_listener"]

log = logging.getLogger(__name__)
# A mail this small is parsed on the event loop: a fraction of a millisecond, less than the
# hand-over to a thread and back (and the GIL contention with it) costs. Larger ones, and every
# spooled file, are parsed on a thread so the other sessions are not held up.
INLINE_PARSE_BYTES = 64 * 1024
RECEIVED = Counter("frontdesk_mail_received_total", "Mail handed to the SMTP listener", ["outcome"])
# A found route is reused for this long by later RCPTs to the same address (mail arrives in
# bursts to a few addresses); the inbox's enabled state is checked again in the transaction
# that stores the mail, and a change to any inbox in this process empties the cache.
ROUTE_SECONDS = 2.0


class RoutedEnvelope(SpooledEnvelope):
    """The envelope with the route found for each recipient accepted at RCPT."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}


class HostedMailHandler:
    """aiosmtpd's handler: the RCPT and DATA hooks."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._cache: dict[str, tuple[float, Route]] = {}
        self._generation = services.inboxes.generation

    async def _route(self, address: str) -> Route | Refusal:
        """The route of a recipient; refusals are never cached (a new inbox takes mail at once)."""
        s = self.services
        now = time.monotonic()
        if self._generation != s.inboxes.generation:
            self._cache.clear()
            self._generation = s.inboxes.generation
        key = address.lower()
        cached = self._cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with s.db.read() as conn:
            route = await route_recipient(conn, s.box, s.settings.mail_domain, address)
        if isinstance(route, Route):
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now + ROUTE_SECONDS, route)
        return route

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
        assert isinstance(envelope, RoutedEnvelope)
        envelope.routes[address] = route
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # mail_listener runs this handler under SpoolingSMTP with RoutedEnvelope: the spool (and
        # the files parsing decodes next to it) is removed by SpoolingSMTP once this has answered.
        assert isinstance(envelope, RoutedEnvelope) and envelope.spool is not None
        spool = envelope.spool
        routes = _one_per_inbox(envelope.routes.values())
        if not routes:
            return _GONE
        args = (spool, tuple(envelope.rcpt_tos), envelope.mail_from or "")
        if spool.path is None and spool.size <= INLINE_PARSE_BYTES:
            mail = _parse(*args)
        else:
            mail = await asyncio.to_thread(_parse, *args)
        try:
            stored, duplicates, refused = await self._store(routes, mail)
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
        if stored == 0 and duplicates == 0 and refused:
            return _GONE  # every inbox was disabled or removed since RCPT: nothing was stored
        RECEIVED.labels("duplicate" if stored == 0 else "stored").inc()
        log.info(
            "mail received",
            extra={"message_id": mail.message_id, "inboxes": stored, "duplicates": duplicates},
        )
        return "250 2.0.0 OK: queued"

    async def _store(self, routes: list[Route], mail: ParsedEmail) -> tuple[int, int, int]:
        s = self.services
        targets = [MailTarget(route.inbox, route.reply_secret) for route in routes]
        outcome = await do_store_mail(s.db, s.settings, targets, mail, only_enabled=True)
        return outcome.stored, outcome.duplicates, outcome.refused


_GONE = "550 5.2.1 No mailbox here takes this mail any more"


def _one_per_inbox(accepted: Iterable[Route]) -> list[Route]:
    found: dict[int, Route] = {}
    for route in accepted:
        found.setdefault(route.inbox["id"], route)
    return list(found.values())


def _parse(spool: Spool, recipients: tuple[str, ...], sender: str) -> ParsedEmail:
    if spool.path is not None:
        return parse_email_file(spool.path, recipients, envelope_sender=sender)
    return parse_email(spool.data or b"", recipients, envelope_sender=sender)


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
    spool_dir = settings.data_dir / "tmp"
    if stale := await asyncio.to_thread(remove_stale_spools, spool_dir):
        log.warning("removed mail spools left by an earlier process", extra={"count": stale})

    def protocol() -> SMTP:
        return SpoolingSMTP(
            handler,
            spool_dir=spool_dir,
            envelope_class=RoutedEnvelope,
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
