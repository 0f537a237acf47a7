"""What the website channel brings: the widget's public endpoints and socket, the preview page,
the visitors API, and the CORS the widget's cross-site requests need."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.middleware import Middleware

from frontdesk.channels.base import ChannelRouter, SocketRoute

VISITOR_SOCKET_PATH = re.compile(r"/widget/v1/(?P<inbox_uid>[^/]+)/socket")


def routers() -> Sequence[ChannelRouter]:
    from frontdesk.channels.web import visitors_api, widget, widget_preview, widget_socket

    return [
        ChannelRouter(widget.router),
        ChannelRouter(widget_socket.router),
        ChannelRouter(widget_preview.router),
        ChannelRouter(visitors_api.router, "/api/v1"),
    ]


def socket_routes() -> Sequence[SocketRoute]:
    from frontdesk.channels.web import widget_socket

    return [SocketRoute(VISITOR_SOCKET_PATH, widget_socket.visitor_socket)]


def middleware() -> Sequence[Middleware]:
    from frontdesk.channels.web import widget

    return [Middleware(widget.WidgetCors)]
