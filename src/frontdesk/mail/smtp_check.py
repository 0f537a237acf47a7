"""*Test connection* for an own-server inbox's SMTP server (E3): walks dns → connect → tls → login
and reports the first stage that fails, in the server's words. It sends nothing: the session ends
with QUIT after the login.

The stages are taken one by one (resolve, then a TCP connection of our own, then TLS over it)
so that "the name does not resolve", "nothing answers" and "the certificate is wrong" stay apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from pathlib import Path
from typing import Protocol

import aiosmtplib

from frontdesk.mail.connection import ConnectionReport, Stage, StageFailed, mail_tls_context, provider_advice
from frontdesk.mail.outbound import Security, smtp_reason

__all__ = ["SmtpSettings", "check_smtp"]

_ADDRESSES = socket.AddressFamily.AF_INET, socket.AddressFamily.AF_INET6


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
        addresses = await _resolve(host, port, timeout)
        passed.append("dns")
        sock = await _connect(host, port, addresses, timeout)
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


async def _resolve(host: str, port: int, timeout: float) -> list[tuple[socket.AddressFamily, str]]:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise StageFailed("dns", f"resolving {host} took longer than {timeout:g} s") from None
    except (socket.gaierror, UnicodeError) as exc:
        raise StageFailed("dns", f"{host} does not resolve: {exc}") from None
    addresses: list[tuple[socket.AddressFamily, str]] = [
        (family, str(addr[0])) for family, _, _, _, addr in found if family in _ADDRESSES
    ]
    if not addresses:
        raise StageFailed("dns", f"{host} has no IPv4 or IPv6 address")
    return addresses


async def _connect(
    host: str, port: int, addresses: list[tuple[socket.AddressFamily, str]], timeout: float
) -> socket.socket:
    """A TCP connection to the first address that answers."""
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    for family, address in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                await loop.sock_connect(sock, (address, port))
            return sock
        except TimeoutError:
            errors.append(f"{address}: no answer in {timeout:g} s")
        except OSError as exc:
            # asyncio's message hides the reason ("Connect call failed"); errno names it.
            errors.append(f"{address}: {os.strerror(exc.errno) if exc.errno else exc}")
        sock.close()
    raise StageFailed("connect", f"cannot connect to {host} port {port} ({'; '.join(errors)})")


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
            stage: Stage = "tls" if security == "ssl" and _tls_failure(exc) else "connect"
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


def _tls_failure(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__
    return False


def _describe(host: str, exc: BaseException) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"the certificate of {host} is not trusted: {cause.verify_message or cause}"
        if isinstance(cause, ssl.SSLError):
            return f"the TLS handshake with {host} failed: {cause.reason or cause}"
        cause = cause.__cause__
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return smtp_reason(exc)
    return f"{host}: {exc}"
