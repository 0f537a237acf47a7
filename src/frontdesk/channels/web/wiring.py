"""What the website channel brings: the widget's script, public endpoints and socket, the preview page,
the visitors API, the CORS the widget's cross-site requests need, and the start-up check of the
geo-IP file."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from starlette.middleware import Middleware

from frontdesk.channels.base import ChannelRouter, SocketRoute

if TYPE_CHECKING:
    from frontdesk.services import Services

VISITOR_SOCKET_PATH = re.compile(r"/widget/v1/(?P<inbox_uid>[^/]+)/socket")


def routers() -> Sequence[ChannelRouter]:
    from frontdesk.channels.web import visitors_api, widget, widget_asset, widget_preview, widget_socket

    return [
        ChannelRouter(widget.router),
        ChannelRouter(widget_socket.router),
        ChannelRouter(widget_preview.router),
        ChannelRouter(widget_asset.router),
        ChannelRouter(visitors_api.router, "/api/v1"),
    ]


def socket_routes() -> Sequence[SocketRoute]:
    from frontdesk.channels.web import widget_socket

    return [SocketRoute(VISITOR_SOCKET_PATH, widget_socket.visitor_socket)]


def middleware() -> Sequence[Middleware]:
    from frontdesk.channels.web import widget

    return [Middleware(widget.WidgetCors)]


@contextlib.asynccontextmanager
async def geoip_checked(services: Services) -> AsyncIterator[None]:
    """A configured geo-IP file that cannot be read is reported at start-up (logged; serving goes
    on with the bundled data), not at the first visitor."""
    from frontdesk.channels.web.geo import geoip_for

    await asyncio.to_thread(geoip_for(services.settings.geoip_db).check_configured)
    yield


def background(services: Services) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
    return [geoip_checked(services)]
