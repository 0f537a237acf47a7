"""The channel seam: everything a channel is, behind one class with a default for each hook,
so a small channel stays small (docs/channels/README.md, decision 0035).

A channel package (channels/<name>/) subclasses ChannelAdapter and adds one line to
channels/registry.py. Generic code (app.py, http/, actions/, jobs/) only calls these hooks and
never names a channel: the registry hands app.py each channel's routes, background services and
job kinds, the webhook route calls handshake/verify/parse, the ingest action stores the typed
events of domain/inbound.py, and the worker calls prepare/send/fetch_media.
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.domain.channel_rules import NO_RULES, ChannelRules
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.inbound import InboundEvent, MediaRef
from frontdesk.jobs.kinds import DeliveryError, JobKind

if TYPE_CHECKING:
    from fastapi import APIRouter, WebSocket
    from starlette.middleware import Middleware

    from frontdesk.services import Services
    from frontdesk.settings import Settings
    from frontdesk.store.channel_state import InboxState

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "ChannelRouter",
    "ChannelRules",
    "ConnectionCheck",
    "EntryPoint",
    "FetchedMedia",
    "HandshakeReply",
    "InboxAddress",
    "Installation",
    "Outbound",
    "Profile",
    "ProviderReceipt",
    "SocketRoute",
    "WebhookRejected",
    "WebhookRequest",
    "assign_on_reply_field",
    "call_failures",
    "download_failures",
    "retry_after_seconds",
    "save_response",
]


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None
    when absent or unreadable (the worker's own back-off applies)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _shown(text: str) -> str:
    return text


@contextlib.contextmanager
def call_failures(timed_out: str, unreachable: str, hide: Callable[[str], str] = _shown) -> Iterator[None]:
    """A provider call's timeouts and network errors as retryable ChannelErrors: `timed_out`
    and `unreachable` say what was being done ("LINE did not answer reply in time", "could not
    reach LINE for reply"; the error follows the latter); `hide` scrubs a credential from the
    detail (Telegram's token is in its URLs). A TimeoutError is a caller's own deadline
    (asyncio.timeout around a whole download)."""
    try:
        yield
    except (TimeoutError, httpx.TimeoutException):
        raise ChannelError(FailureReason.TIMEOUT, timed_out, retryable=True) from None
    except httpx.HTTPError as exc:
        raise ChannelError(
            FailureReason.CONNECTION_FAILED,
            hide(f"{unreachable}: {type(exc).__name__} {exc}"),
            retryable=True,
        ) from None


def download_failures(
    provider: str = "", hide: Callable[[str], str] = _shown
) -> contextlib.AbstractContextManager[None]:
    """call_failures for fetch_media's download; `provider` names who served it ("WeChat")."""
    source = f" from {provider}" if provider else ""
    return call_failures(
        f"timed out downloading the file{source}", f"could not download the file{source}", hide
    )


async def save_response(response: httpx.Response, destination: Path, max_bytes: int) -> None:
    """Stream a provider's file to `destination`, refusing more than `max_bytes` (TOO_LARGE)
    whether or not the answer declared its length: for fetch_media."""
    too_large = ChannelError(
        FailureReason.TOO_LARGE, f"the file is larger than {max_bytes} bytes", retryable=False
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    written = 0
    with destination.open("wb") as out:
        async for chunk in response.aiter_bytes():
            written += len(chunk)
            if written > max_bytes:
                raise too_large
            out.write(chunk)


def assign_on_reply_field() -> Any:
    """The inbox setting every channel offers (domain/rules.py takes_on_reply reads it)."""
    return Field(
        default=True,
        description="An agent who replies to an unassigned conversation is assigned to it, so no "
        "second agent answers the same customer.",
    )


@dataclass(frozen=True)
class WebhookRequest:
    """What an adapter may look at of an inbound HTTP request: nothing framework-specific."""

    method: str
    headers: Mapping[str, str]  # lower-case names
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class HandshakeReply:
    """The answer to a provider's GET verification (Meta's hub.challenge, WeChat's echostr)."""

    body: str
    media_type: str = "text/plain"


@dataclass(frozen=True)
class Installation:
    """The installation around an adapter: its settings (the channel reads its own from them),
    the public address providers reach it at, and the inbox's channel state shared by every
    process (store/channel_state.py: a cached access token; None where no inbox is at hand)."""

    settings: Settings | None = None
    public_url: str = ""
    state: InboxState | None = None

    @property
    def files_root(self) -> Path | None:
        return self.settings.attachments_dir if self.settings is not None else None


@dataclass(frozen=True)
class InboxAddress:
    """Where an inbox is reached: what on_saved registers and entry_points link to."""

    inbox_id: int
    uid: str
    webhook_url: str  # absolute: <public url>/webhooks/<channel type>/<uid>


@dataclass(frozen=True)
class Outbound:
    message_id: int
    conversation_id: int
    conversation_number: int
    text: str
    content_type: str
    recipient_source_id: str
    recipient_name: str
    sender_name: str | None
    # Each: file_name, content_type, size and an absolute url the provider can fetch.
    attachments: tuple[dict[str, Any], ...] = ()
    # The data of the conversation's latest incoming message ({} if none): what a channel that
    # threads its replies answers to (email: Message-ID; LINE: the reply token).
    thread: Mapping[str, Any] = field(default_factory=dict)
    # The message's own data as the agent's request left it (a subject, a template choice).
    data: Mapping[str, Any] = field(default_factory=dict)
    # What the channel's prepare() added for its own send (email: copies, template, opening).
    extras: object = None


@dataclass(frozen=True)
class ProviderReceipt:
    source_id: str | None


@dataclass(frozen=True)
class FetchedMedia:
    """A file fetch_media wrote to disk (the path is the caller's; the size is checked)."""

    content_type: str | None  # as the provider's answer says; checked again by magic bytes
    file_name: str | None = None


@dataclass(frozen=True)
class Profile:
    """The customer as the provider knows them (LINE's and WeChat's profile APIs)."""

    name: str | None
    picture_url: str | None = None  # the provider's address of the picture (may expire)
    language: str | None = None


@dataclass(frozen=True)
class ConnectionCheck:
    """The dashboard's Test connection: ok, or what is wrong in words the admin can act on."""

    ok: bool
    detail: str
    code: str | None = None  # a FailureReason value where the failure has one


@dataclass(frozen=True)
class EntryPoint:
    """A way for a customer to start a conversation: a deep link (shown with a QR code made
    locally) or an address."""

    kind: str  # deep_link, address, …
    label: str
    url: str


@dataclass(frozen=True)
class ChannelRouter:
    """HTTP routes a channel brings; prefix "/api/v1" for its admin API, "" for public paths."""

    router: APIRouter
    prefix: str = ""


@dataclass(frozen=True)
class SocketRoute:
    """A websocket path served before the middleware stack and router (an idle socket that
    holds a frame per layer for hours costs memory: bench/widget.py)."""

    path: re.Pattern[str]
    handler: Callable[[WebSocket], Awaitable[None]]


class WebhookRejected(Exception):
    """The request failed the provider's signature or handshake: refused, logged, never stored."""


class ChannelError(DeliveryError):
    """A send, fetch or provider call failed: `code` says what kind of failure (the agent sees
    it translated), `detail` says it in the provider's own words, `retryable` whether trying
    again can help."""


class ChannelAdapter(ABC):
    channel_type: ClassVar[str]
    # The rules of every inbox of this channel; rules_for may read an inbox's settings.
    rules: ClassVar[ChannelRules] = NO_RULES
    # What the administrator fills in; fields listed in secret_fields are encrypted at rest.
    settings_schema: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # Settings no two inboxes of this channel in one workspace may share (email: local_part).
    unique_settings: ClassVar[tuple[str, ...]] = ()
    # What each secret is, for the administrator's form (secrets are write-only there).
    secret_descriptions: ClassVar[Mapping[str, str]] = {}
    # Secrets that only matter for some settings (email: the IMAP password in own_server mode):
    # {secret: {setting: (values…)}}; the form shows them only then.
    secret_shown_when: ClassVar[Mapping[str, Mapping[str, tuple[str, ...]]]] = {}
    # Whether /webhooks/<type>/<uid> takes this channel's traffic (email and web have their own ways in).
    takes_webhooks: ClassVar[bool] = True
    # The channel's setup guide, linked from the inbox form.
    docs_path: ClassVar[str | None] = None
    # An agent may open a conversation on this channel (email): what a closed reply window on
    # another inbox of the same contact offers instead (decision 0039).
    starts_conversations: ClassVar[bool] = False

    def __init__(
        self,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
        http: httpx.AsyncClient,
        installation: Installation | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.http = http
        self.installation = installation or Installation()

    # --- What the channel brings to the installation (collected by channels/registry.py) ---

    @classmethod
    def routers(cls) -> Sequence[ChannelRouter]:
        """The channel's own HTTP routes (its admin API, its public endpoints)."""
        return ()

    @classmethod
    def socket_routes(cls) -> Sequence[SocketRoute]:
        return ()

    @classmethod
    def middleware(cls) -> Sequence[Middleware]:
        """ASGI middleware the channel's public paths need (the widget's CORS), outermost."""
        return ()

    @classmethod
    def background(
        cls, services: Services, *, with_worker: bool
    ) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
        """Services that run while the app does (a listener, a poller): entered at start-up,
        left at shutdown. `with_worker`: this process also runs the job worker."""
        return ()

    @classmethod
    def job_kinds(cls) -> Mapping[str, JobKind]:
        """The channel's own durable job kinds, by name (unique across channels)."""
        return {}

    # --- Secrets and rules ---

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        """Secrets Frontdesk creates itself when the inbox is added."""
        return {}

    @classmethod
    def generated_secret_names(cls) -> frozenset[str]:
        """The names of the generated secrets, for forms, without making any (a key takes time)."""
        return frozenset(cls.generated_secrets())

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]:
        """New values for the secrets the rotate action replaces: by default every generated one."""
        return cls.generated_secrets()

    @classmethod
    def rules_for(cls, settings: Mapping[str, Any]) -> ChannelRules:
        """The rules of one inbox (an inbox setting may change them: the API channel's window)."""
        return cls.rules

    # --- Inbound ---

    def handshake(self, request: WebhookRequest) -> HandshakeReply | None:
        """Answer the provider's GET verification; raise WebhookRejected unless it is genuine.
        None: the channel has none (the GET is answered 405, POST only)."""
        return None

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected unless the request really comes from the provider. Called on
        the raw bytes before anything is parsed."""
        raise WebhookRejected(f"the {self.channel_type} channel takes no webhooks")

    def webhook_answer(self, request: WebhookRequest) -> HandshakeReply | None:
        """The body a provider expects once its POST is stored (WeChat: "success"); None: the
        generic JSON answer with each event's result."""
        return None

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        """Provider payload to typed events; raise InvalidInput naming what is wrong. Events the
        channel does not handle become InboundUnknown (acknowledged, counted, ignored)."""
        return []

    async def fetch_media(self, media: MediaRef, destination: Path, max_bytes: int) -> FetchedMedia:
        """Download one file the provider holds to `destination`, streamed, refusing more than
        `max_bytes` (ChannelError TOO_LARGE); run by the fetch_media job at arrival."""
        raise ChannelError(
            FailureReason.MISCONFIGURED, f"the {self.channel_type} channel fetches no media", retryable=False
        )

    @classmethod
    def fetches_profiles(cls) -> bool:
        """Whether this channel overrides fetch_profile: the ingest then queues a fetch_profile
        job for each new contact of its inboxes (jobs/profiles.py)."""
        return cls.fetch_profile is not ChannelAdapter.fetch_profile

    async def fetch_profile(self, source_id: str) -> Profile | None:
        """The customer's name and picture from the provider, for a contact whose first message
        did not carry them. None: the channel has no profile API (the default)."""
        return None

    # --- Outbound ---

    async def prepare(self, conn: AsyncConnection, outbound: Outbound) -> Outbound:
        """Add what this channel needs to send (read in the worker, before the attempt)."""
        return outbound

    @abstractmethod
    async def send(self, outbound: Outbound) -> ProviderReceipt:
        """Deliver one outgoing message; raise ChannelError on failure."""

    async def send_typing(self, recipient_source_id: str) -> None:
        """Show the customer that an agent is typing, where the provider can (best effort)."""
        return None

    async def mark_read(
        self, recipient_source_id: str, up_to_source_id: str | None, *, read_token: str | None = None
    ) -> None:
        """Tell the provider the customer's messages were read by an agent (best effort).
        `read_token`: the token the provider gave with the latest message for this (LINE's
        markAsReadToken, data.read_token), where it gave one."""
        return None

    # --- Setup ---

    def entry_points(self, address: InboxAddress) -> Sequence[EntryPoint] | Awaitable[Sequence[EntryPoint]]:
        """Deep links and addresses a customer starts a conversation at (QR codes are made from
        their urls). May be async where the provider makes them (WeChat's scene QR codes)."""
        return ()

    async def check_connection(self) -> ConnectionCheck:
        """The dashboard's Test connection: call the provider with the saved credentials."""
        return ConnectionCheck(ok=True, detail="this channel has no provider to call")

    async def on_saved(self, address: InboxAddress) -> None:
        """After the inbox was added or its settings changed: register the webhook with the
        provider (idempotent); raise ChannelError to tell the admin what failed."""
        return None
