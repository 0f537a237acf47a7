"""TLS for every mail connection (the installation's relay, an own-server inbox's IMAP and SMTP
servers): one verifying context, and the TLS error a library wrapped in its own."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import TypeVar

__all__ = ["cause_of", "mail_tls_context"]

E = TypeVar("E", bound=BaseException)


def mail_tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates are always verified: the system's authorities, plus FRONTDESK_MAIL_CA_FILE."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def cause_of(exc: BaseException, kind: type[E]) -> E | None:
    """`exc` or the first exception of `kind` in its chain of causes (libraries wrap TLS errors)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__
    return None
