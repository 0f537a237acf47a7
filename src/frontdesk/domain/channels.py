"""What the domain needs to know of a channel to add an inbox: its settings and secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Protocol

from pydantic import BaseModel


class ChannelSpec(Protocol):
    channel_type: ClassVar[str]
    settings_schema: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[tuple[str, ...]]
    unique_settings: ClassVar[tuple[str, ...]]

    @classmethod
    def generated_secrets(cls) -> dict[str, str]: ...

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]: ...

    @classmethod
    def generated_secret_names(cls) -> frozenset[str]: ...


# Given a channel type, its spec; raises InvalidInput for an unknown type. The registry lives
# with the adapters, outside the domain, and is handed in by the caller.
ChannelLookup = Callable[[str], type[ChannelSpec]]
