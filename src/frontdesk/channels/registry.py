"""Channel adapters by channel type: the built-ins plus entry points "frontdesk.channels".

Adding a channel is one package under channels/ and one line in BUILT_INS; everything the
channel brings (routes, sockets, background services, job kinds) is collected from it here and
handed to app.py and the worker, which name no channel.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from frontdesk.channels.api.adapter import ApiAdapter
from frontdesk.channels.base import ChannelAdapter, ChannelRouter, Installation, SocketRoute
from frontdesk.channels.email.adapter import EmailAdapter
from frontdesk.channels.line.adapter import LineAdapter
from frontdesk.channels.telegram.adapter import TelegramAdapter
from frontdesk.channels.web.adapter import WebAdapter
from frontdesk.channels.wechat.adapter import WechatAdapter
from frontdesk.domain.errors import InvalidInput
from frontdesk.jobs.kinds import JobKind
from frontdesk.store.channel_state import InboxState

if TYPE_CHECKING:
    from starlette.middleware import Middleware

    from frontdesk.security import SecretBox
    from frontdesk.services import Services
    from frontdesk.settings import Settings
    from frontdesk.store.db import Database

BUILT_INS: tuple[type[ChannelAdapter], ...] = (
    ApiAdapter,
    EmailAdapter,
    LineAdapter,
    TelegramAdapter,
    WebAdapter,
    WechatAdapter,
)


@cache
def adapters() -> dict[str, type[ChannelAdapter]]:
    found = {cls.channel_type: cls for cls in BUILT_INS}
    for ep in entry_points(group="frontdesk.channels"):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, ChannelAdapter):
            found.setdefault(cls.channel_type, cls)
    return found


def adapter_class(channel_type: str) -> type[ChannelAdapter]:
    try:
        return adapters()[channel_type]
    except KeyError:
        known = ", ".join(sorted(adapters()))
        raise InvalidInput(
            f"unknown channel type {channel_type!r}; known: {known}", field="channel_type"
        ) from None


def installation_for(
    settings: Settings | None, db: Database, box: SecretBox, inbox_id: int
) -> Installation:
    """What an adapter of one inbox is built with, wherever it is built (the webhook, the
    dashboard's setup hooks, the jobs): the installation's settings and public address, and the
    inbox's state shared by every process (one cached access token per inbox)."""
    return Installation(
        settings=settings,
        public_url=settings.effective_public_url if settings is not None else "",
        state=InboxState(db, box, inbox_id),
    )


def channel_routers() -> list[ChannelRouter]:
    return [router for cls in adapters().values() for router in cls.routers()]


def channel_socket_routes() -> list[SocketRoute]:
    return [route for cls in adapters().values() for route in cls.socket_routes()]


def channel_middleware() -> list[Middleware]:
    return [m for cls in adapters().values() for m in cls.middleware()]


def channel_background(
    services: Services, *, with_worker: bool
) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
    return [
        service
        for cls in adapters().values()
        for service in cls.background(services, with_worker=with_worker)
    ]


def channel_job_kinds() -> dict[str, JobKind]:
    found: dict[str, JobKind] = {}
    for cls in adapters().values():
        for name, kind in cls.job_kinds().items():
            if name in found:
                raise RuntimeError(f"job kind {name!r} is declared by two channels")
            found[name] = kind
    return found
