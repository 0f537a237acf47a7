"""*Test connection* for an own-server inbox's SMTP server (E3): walks dns → connect → tls → login
and reports the first stage that fails, in the server's words. It sends nothing: the session ends
with QUIT after the login.

The stages are taken one by one (resolve, then a TCP connection of our own, then TLS over it)
so that "the name does not resolve", "nothing answers" and "the certificate is wrong" stay apart.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path
from typing import Protocol

import aiosmtplib

from frontdesk.channels.email.connection import (
    ConnectionReport,
    Stage,
    StageFailed,
    connect_tcp,
    provider_advice,
    resolve,
)
from frontdesk.mail.outbound import Security, smtp_reason
from frontdesk.mail.tls import cause_of, mail_tls_context

__all__ = ["SmtpSettings", "check_smtp"]


class SmtpSettings(Protocol):
    """What the check reads of an inbox's settings (EmailSettings has these fields)."""

    @property
    def smtp_host(self) -> str | None: ...
    @property
    def smtp_port(self) -> int: ...
    @property
    def smtp_security(self) -> Security: ...
    @property
    def smtp_username(self) -> str | None: ...


async def check_smtp(
    settings: SmtpSettings, password: str | None, ca_file: Path | None = None, timeout: float = 10.0
) -> ConnectionReport:
    """Try the server as a reply would use it; `timeout` bounds each stage."""
    host, port, security = settings.smtp_host or "", settings.smtp_port, settings.smtp_security
    username = settings.smtp_username
    if not host:
        return ConnectionReport(False, "dns", "no SMTP server is set (smtp_host)", ())
    passed: list[Stage] = []
    try:
        addresses = await resolve(host, port, timeout)
        passed.append("dns")
        sock = await connect_tcp(host, port, addresses, timeout)
        passed.append("connect")
        client = await _greet(host, sock, security, ca_file, timeout)
        try:
            if security != "none":
                passed.append("tls")
            if username:
                await _login(client, host, username, password or "")
                passed.append("login")
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit(timeout=timeout)
            client.close()
    except StageFailed as failed:
        advice = provider_advice(host) if failed.stage == "login" else None
        return ConnectionReport(False, failed.stage, failed.detail, tuple(passed), advice)
    return ConnectionReport(True, None, f"connected to {host}:{port}", tuple(passed))


async def _greet(
    host: str, sock: socket.socket, security: Security, ca_file: Path | None, timeout: float
) -> aiosmtplib.SMTP:
    """The server's greeting (over TLS from the start for ssl), then STARTTLS when asked for."""
    client = aiosmtplib.SMTP(
        hostname=host,
        sock=sock,
        use_tls=security == "ssl",
        start_tls=False,
        tls_context=mail_tls_context(ca_file),
        timeout=timeout,
    )
    try:
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            stage: Stage = "tls" if security == "ssl" and cause_of(exc, ssl.SSLError) else "connect"
            raise StageFailed(stage, _describe(host, exc)) from None
        if security == "starttls":
            await _starttls(client, host)
    except BaseException:
        client.close()
        sock.close()
        raise
    return client


async def _starttls(client: aiosmtplib.SMTP, host: str) -> None:
    try:
        await client.ehlo()
    except aiosmtplib.SMTPException as exc:
        raise StageFailed("connect", _describe(host, exc)) from None
    if not client.supports_extension("starttls"):
        raise StageFailed("tls", f"{host} does not offer STARTTLS; choose ssl or none as security")
    try:
        await client.starttls()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise StageFailed("tls", _describe(host, exc)) from None


async def _login(client: aiosmtplib.SMTP, host: str, username: str, password: str) -> None:
    try:
        await client.login(username, password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise StageFailed("login", smtp_reason(exc)) from None
    except aiosmtplib.SMTPException as exc:
        # No login method in common, or the server does not offer AUTH at all.
        raise StageFailed("login", f"{host} refused the login: {exc}") from None


def _describe(host: str, exc: BaseException) -> str:
    if (certificate := cause_of(exc, ssl.SSLCertVerificationError)) is not None:
        return f"the certificate of {host} is not trusted: {certificate.verify_message or certificate}"
    if (tls := cause_of(exc, ssl.SSLError)) is not None:
        return f"the TLS handshake with {host} failed: {tls.reason or tls}"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return smtp_reason(exc)
    return f"{host}: {exc}"
