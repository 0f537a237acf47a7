"""Errors the domain raises; the HTTP layer maps each kind to its status code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a machine code, a human message and, when known, the offending field and
    details a client can act on (such as the id of the existing object a conflict is with)."""

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    code = "invalid"


class MalformedRequest(DomainError):
    """The request cannot even be read (not JSON, wrong encoding): HTTP 400."""

    code = "malformed"


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    code = "conflict"


class Gone(DomainError):
    """The address exists but no longer takes requests (a disabled inbox): HTTP 410."""

    code = "gone"


class TooLarge(DomainError):
    code = "too_large"


class VisitorBlocked(Forbidden):
    """A website visitor whose contact an agent blocked (PRODUCT W4): HTTP 403, socket 4403."""

    code = "visitor_blocked"


class RateLimited(DomainError):
    """Too many requests from one visitor or address: HTTP 429 with Retry-After; nothing stored."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after
