"""What the domain needs to know of a channel: its settings and secrets (to add an inbox) and its
rules (what a reply may be)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from frontdesk.domain.channel_rules import ChannelRules


class ChannelSpec(Protocol):
    channel_type: ClassVar[str]
    settings_schema: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[tuple[str, ...]]
    unique_settings: ClassVar[tuple[str, ...]]
    # An agent may open a conversation on this channel (email): what "write by email / SMS
    # instead" of a closed reply window offers (decision 0039).
    starts_conversations: ClassVar[bool]

    @classmethod
    def generated_secrets(cls) -> dict[str, str]: ...

    @classmethod
    def rotated_secrets(cls) -> dict[str, str]: ...

    @classmethod
    def generated_secret_names(cls) -> frozenset[str]: ...

    @classmethod
    def rules_for(cls, settings: Mapping[str, Any]) -> ChannelRules: ...

    @classmethod
    def fetches_profiles(cls) -> bool: ...


# Given a channel type, its spec; raises InvalidInput for an unknown type. The registry lives
# with the adapters, outside the domain, and is handed in by the caller.
ChannelLookup = Callable[[str], type[ChannelSpec]]
