"""What a *Test connection* of an own-server email inbox reports (E3): the stage that failed,
the server's own words, and advice for the providers whose refusals confuse people.

The IMAP check (channels/email/imap.py) and the SMTP check (channels/email/smtp_check.py) walk
the same stages in order: dns → connect → tls → login → (IMAP) folder; the first failure ends the
check.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Advice",
    "ConnectionReport",
    "Stage",
    "StageFailed",
    "connect_tcp",
    "provider_advice",
    "resolve",
]

_ADDRESSES = socket.AddressFamily.AF_INET, socket.AddressFamily.AF_INET6

Stage = Literal["dns", "connect", "tls", "login", "folder"]
STAGES: tuple[Stage, ...] = ("dns", "connect", "tls", "login", "folder")
# Codes, not sentences: the dashboard words them in the agent's language.
Advice = Literal["gmail_app_password", "outlook_app_password"]

_GMAIL = ("gmail.com", "googlemail.com")
_OUTLOOK = ("outlook.com", "office365.com", "hotmail.com", "live.com")


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    stage: Stage | None  # the failing stage; None when everything passed
    detail: str  # English, with the server's own text where it gave one
    passed: tuple[Stage, ...]  # the stages that passed, in order
    advice: Advice | None = None


class StageFailed(Exception):
    """One stage of a connection failed; `detail` says how, in the server's words if any."""

    def __init__(self, stage: Stage, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage: Stage = stage
        self.detail = detail


def provider_advice(host: str) -> Advice | None:
    """Gmail and Outlook refuse the account password over IMAP/SMTP: they need an app password
    (with two-step verification on), which the seed's setup screen tells people."""
    name = host.strip().lower().rstrip(".")
    if any(name == d or name.endswith("." + d) for d in _GMAIL):
        return "gmail_app_password"
    if any(name == d or name.endswith("." + d) for d in _OUTLOOK):
        return "outlook_app_password"
    return None


async def resolve(host: str, port: int, timeout: float) -> list[tuple[socket.AddressFamily, str]]:
    """The stage "dns": the host's IPv4 and IPv6 addresses."""
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


async def connect_tcp(
    host: str, port: int, addresses: list[tuple[socket.AddressFamily, str]], timeout: float
) -> socket.socket:
    """The stage "connect": a TCP connection to the first of the addresses that answers."""
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
