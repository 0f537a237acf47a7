"""Channel adapters by channel type: the built-ins plus entry points "frontdesk.channels"."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from frontdesk.channels.api import ApiAdapter
from frontdesk.channels.base import ChannelAdapter
from frontdesk.channels.email import EmailAdapter
from frontdesk.channels.web import WebAdapter
from frontdesk.domain.errors import InvalidInput

BUILT_INS: tuple[type[ChannelAdapter], ...] = (ApiAdapter, EmailAdapter, WebAdapter)


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
