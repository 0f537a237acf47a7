"""Receiving mail from the user's own IMAP server (E3): the connection check, and the import of
one inbox's folder.

The import only reads: the folder is opened with EXAMINE (read-only) and bodies are fetched with
BODY.PEEK[], so no flag changes and nothing is deleted, moved or expunged. Each message is stored
in the transaction that advances the cursor (UIDVALIDITY + last UID); a new UIDVALIDITY starts
again from UID 1 and the Message-ID check keeps what was already imported from coming twice.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from frontdesk.actions.email.imap_states import (
    Cursor,
    advance_cursor,
    do_record_checked,
    do_record_error,
    do_start_folder,
)
from frontdesk.actions.email.store import MailTarget, do_store_mail
from frontdesk.channels.email.connection import (
    STAGES,
    ConnectionReport,
    StageFailed,
    provider_advice,
)
from frontdesk.channels.email.imap_client import ImapClient, ImapClosed, ImapRefused, Security, open_imap
from frontdesk.channels.email.smtp_spool import SPOOL_MEMORY_BYTES, new_spool_folder
from frontdesk.mail.parse import ParsedEmail, parse_email, parse_email_file
from frontdesk.mail.tls import mail_tls_context
from frontdesk.services import Services
from frontdesk.store.db import Tx

__all__ = ["ImapAccount", "ImapSettings", "account_of", "check_imap", "import_inbox"]

log = logging.getLogger(__name__)
STEP_SECONDS = 10.0
LOGIN_SECONDS = 20.0
IDLE_SECONDS = 24 * 60.0  # re-issued before the 29 minutes after which servers may hang up


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    security: Security
    username: str
    password: str
    folder: str


def account_of(settings: Mapping[str, Any], secrets: Mapping[str, Any]) -> ImapAccount:
    """The IMAP side of an own-server email inbox's settings and secrets."""
    security = str(settings.get("imap_security") or "ssl")
    if security not in ("ssl", "starttls", "none"):
        raise ValueError(f"imap_security must be ssl, starttls or none, not {security!r}")
    return ImapAccount(
        host=str(settings.get("imap_host") or ""),
        port=int(settings.get("imap_port") or 993),
        security=security,  # type: ignore[arg-type]  # checked just above
        username=str(settings.get("imap_username") or ""),
        password=str(secrets.get("imap_password") or ""),
        folder=str(settings.get("imap_folder") or "INBOX"),
    )


async def _open(account: ImapAccount, ca_file: Path | None, timeout: float) -> tuple[ImapClient, int]:
    """Connected, logged in, the folder open read-only: the client and the folder's UIDVALIDITY."""
    client = await open_imap(account.host, account.port, account.security, mail_tls_context(ca_file), timeout)
    try:
        # Servers slow down logins from an address that just failed one (Dovecot: up to 15 s),
        # so the login may take longer than any other step before it is called unanswered.
        step, client.timeout = client.timeout, max(client.timeout, LOGIN_SECONDS)
        try:
            await client.login(account.username, account.password)
        except ImapRefused as exc:
            raise StageFailed("login", exc.text or "the server refused the login") from exc
        except TimeoutError as exc:
            raise StageFailed(
                "login", f"the server did not answer the login within {client.timeout:g} s"
            ) from exc
        except ImapClosed as exc:
            raise StageFailed("login", f"the server stopped answering during login: {exc}") from exc
        finally:
            client.timeout = step
        try:
            mailbox = await client.examine(account.folder)
        except ImapRefused as exc:
            missing = "NONEXISTENT" in exc.text.upper() or "exist" in exc.text.lower()
            what = "does not exist" if missing else "could not be opened"
            raise StageFailed("folder", f"the folder {account.folder!r} {what} ({exc.text})") from exc
        except (ImapClosed, TimeoutError) as exc:
            raise StageFailed("folder", f"the server stopped answering opening the folder: {exc}") from exc
    except BaseException:
        await client.close()
        raise
    return client, mailbox.uidvalidity


class ImapSettings(Protocol):
    """What the check reads of an inbox's settings (EmailSettings has these fields)."""

    @property
    def imap_host(self) -> str | None: ...
    @property
    def imap_port(self) -> int: ...
    @property
    def imap_security(self) -> Security: ...
    @property
    def imap_username(self) -> str | None: ...
    @property
    def imap_folder(self) -> str: ...


async def check_imap(
    settings: ImapSettings, password: str | None, ca_file: Path | None = None, timeout: float = STEP_SECONDS
) -> ConnectionReport:
    """The *Test connection* of the IMAP side: the first failing stage, in the server's words;
    `timeout` bounds each step."""
    host = settings.imap_host or ""
    if not host:
        return ConnectionReport(False, "dns", "no IMAP server is set (imap_host)", ())
    account = ImapAccount(
        host,
        settings.imap_port,
        settings.imap_security,
        settings.imap_username or "",
        password or "",
        settings.imap_folder,
    )
    try:
        client, _ = await _open(account, ca_file, timeout)
    except StageFailed as failed:
        passed = STAGES[: STAGES.index(failed.stage)]
        advice = provider_advice(host) if failed.stage == "login" else None
        return ConnectionReport(False, failed.stage, failed.detail, passed, advice)
    await client.close()
    return ConnectionReport(True, None, "connected, logged in and opened the folder", STAGES)


@dataclass
class _Session:
    services: Services
    inbox: Mapping[str, Any]
    reply_secret: str
    owner: str
    client: ImapClient
    cursor: Cursor

    @property
    def inbox_id(self) -> int:
        return int(self.inbox["id"])

    async def import_new(self) -> int:
        """Everything above the cursor, oldest first; returns how many were stored."""
        settings = self.services.settings
        stored = 0
        for item in await self.client.sizes_after(self.cursor.last_uid):
            if item.size > settings.smtp_listen_max_bytes:
                await self._skip(
                    item.uid,
                    f"message UID {item.uid} skipped: {item.size:,} bytes is over "
                    f"the limit of {settings.smtp_listen_max_bytes:,} bytes",
                )
                continue
            if item.size > SPOOL_MEMORY_BYTES:
                stored += await self._import_big(item.uid)
                continue
            raw = await self.client.body(item.uid)
            if raw is None:  # removed on the server between the two commands
                await self._skip(item.uid, None)
                continue
            stored += await self._store(item.uid, await asyncio.to_thread(parse_email, raw, ()))
        return stored

    async def _import_big(self, uid: int) -> int:
        """A big mail goes to a spool file as it arrives and is taken apart on disk, as the SMTP
        listener does (decision 0017): never held whole, its attachments decoded in chunks."""
        folder = await asyncio.to_thread(new_spool_folder, self.services.settings.data_dir / "tmp")
        try:
            path = await self.client.body_to_file(uid, folder / "message.eml")
            if path is None:  # removed on the server between the two commands
                await self._skip(uid, None)
                return 0
            return await self._store(uid, await asyncio.to_thread(parse_email_file, path, ()))
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    async def _store(self, uid: int, mail: ParsedEmail) -> int:
        cursor = self.cursor

        async def advance(tx: Tx, count: int) -> None:
            await advance_cursor(tx, self.inbox_id, self.owner, cursor, uid, count)

        target = MailTarget(self.inbox, self.reply_secret)
        outcome = await do_store_mail(self.services.db, self.services.settings, [target], mail, advance)
        self.cursor = Cursor(cursor.uidvalidity, uid)
        return outcome.stored

    async def _skip(self, uid: int, note: str | None) -> None:
        async with self.services.db.write() as tx:
            await advance_cursor(tx, self.inbox_id, self.owner, self.cursor, uid, 0)
        self.cursor = Cursor(self.cursor.uidvalidity, uid)
        if note is not None:
            log.warning("IMAP message skipped", extra={"inbox_id": self.inbox_id, "detail": note})
            await do_record_error(self.services.db, self.inbox_id, self.owner, "import", note)


async def import_inbox(services: Services, inbox: Mapping[str, Any], owner: str) -> None:
    """Import the inbox's folder, then wait for more (IDLE, else polling) until cancelled.
    A connection problem raises StageFailed; the caller records it and tries again later."""
    secrets = services.box.open(inbox["secrets_encrypted"])
    account = account_of(inbox["settings"], secrets)
    client, uidvalidity = await _open(account, services.settings.mail_ca_file, STEP_SECONDS)
    try:
        cursor = await do_start_folder(services.db, int(inbox["id"]), owner, account.folder, uidvalidity)
        session = _Session(services, inbox, str(secrets.get("reply_secret") or ""), owner, client, cursor)
        idle = "IDLE" in client.capabilities
        while True:
            try:
                stored = await session.import_new()
            except (ImapClosed, ImapRefused, TimeoutError) as exc:
                raise StageFailed("connect", f"the connection to {account.host} failed: {exc}") from exc
            await do_record_checked(services.db, session.inbox_id, owner, idle)
            if stored:
                log.info("IMAP mail imported", extra={"inbox_id": session.inbox_id, "count": stored})
            await _wait(client, idle, services.settings.imap_poll_seconds, account.host)
    finally:
        await client.close()


async def _wait(client: ImapClient, idle: bool, poll_seconds: float, host: str) -> None:
    if client.new_mail_noted:
        return  # mail arrived while the last batch was fetched: look again before waiting
    try:
        if idle:
            await client.idle(IDLE_SECONDS)
        else:
            await asyncio.sleep(poll_seconds)
            await client.command("NOOP")  # lets the server tell about new mail
    except (ImapClosed, ImapRefused, TimeoutError) as exc:
        raise StageFailed("connect", f"the connection to {host} failed: {exc}") from exc
