"""What a job handler is and gets: the context, the kinds, and how a failure is described.

Apart from jobs/handlers.py so a channel package can declare its own job kinds (the registry
collects them) without importing the generic handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from frontdesk.domain.enums import FailureReason
from frontdesk.mail.outbound import MailConfig, MailError
from frontdesk.security import SecretBox
from frontdesk.store.db import Database, Tx

if TYPE_CHECKING:
    from frontdesk.settings import Settings


@dataclass(frozen=True)
class JobContext:
    db: Database
    http: httpx.AsyncClient
    box: SecretBox
    public_url: str  # absolute base for links the provider follows (attachments)
    mail: MailConfig | None = None  # the installation's relay for system mail; None: none
    settings: Settings | None = None  # the installation's settings, for channels that need them


@dataclass(frozen=True)
class JobFailure:
    """Why an attempt failed: a code the dashboard translates, and the words of whoever refused."""

    code: FailureReason
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class PermanentJobError(Exception):
    """Retrying cannot help: the job fails at once with this reason."""

    def __init__(self, code: FailureReason, detail: str) -> None:
        super().__init__(detail)
        self.failure = JobFailure(code, detail)


class DeliveryError(Exception):
    """A call to a provider failed: `code` says what kind of failure (the agent sees it
    translated), `detail` says it in the provider's own words, `retryable` whether trying again
    can help, `retry_after` how many seconds the provider asked us to wait (its Retry-After), if
    it said. Channels raise their ChannelError, a subclass."""

    def __init__(
        self, code: FailureReason, detail: str, *, retryable: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retryable = retryable
        self.retry_after = retry_after


def failure_of(exc: Exception) -> JobFailure:
    """What a handler's exception says of the failure; anything not typed is our own fault."""
    if isinstance(exc, PermanentJobError):
        return exc.failure
    if isinstance(exc, DeliveryError):
        return JobFailure(exc.code, exc.detail)
    if isinstance(exc, MailError):
        return JobFailure(exc.code, exc.reason)
    return JobFailure(FailureReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]
# Called in the transaction that fails the job for good, or that schedules its next attempt.
OnDead = Callable[[Tx, dict[str, Any], JobFailure], Awaitable[None]]
OnRetry = Callable[[Tx, dict[str, Any], JobFailure, datetime], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    handler: Handler
    on_dead: OnDead | None = None
    on_retry: OnRetry | None = None
