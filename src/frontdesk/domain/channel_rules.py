"""What a channel allows an agent to send (PRODUCT C14): declared by each channel's adapter,
enforced by the reply action and shown to the agent as the conversation's `reply_window`.

Plain values, no I/O: the adapter hands these to the domain through the channel lookup
(domain/channels.py), so the reply action never imports a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class ChannelRules:
    # The business may not open a conversation: only answer one the customer started.
    customer_writes_first: bool = False
    # Free replies are allowed this long after the customer's last message, measured from the
    # provider's timestamp of that message (None: no window, replies are always allowed).
    reply_window: timedelta | None = None
    # At most this many replies inside one window (WeChat: 5 per 48 h); None: no cap.
    messages_in_window: int | None = None
    # A shorter window opened by a customer's action that is not a written message (WeChat: a
    # menu click, a follow or a QR scan allow 3 replies within a minute), with its own cap;
    # None: an action opens the ordinary window. An action never shortens an open window.
    action_window: timedelta | None = None
    messages_in_action_window: int | None = None
    # A longer window for a human agent's reply sent with a tag (Messenger/Instagram
    # HUMAN_AGENT: 7 days); None: the channel has no such tag.
    tagged_window: timedelta | None = None
    # A token the provider gives with each inbound message that makes a reply free while it is
    # valid (LINE: about a minute); None: no reply tokens.
    reply_token_validity: timedelta | None = None
    # The channel has provider-approved templates that may be sent outside the window.
    has_templates: bool = False
    # The provider meters outgoing messages per month (LINE's free message quota).
    monthly_quota: bool = False
    # That quota is used up now (the adapter reads it from the provider): only a reply the
    # provider does not count (a valid, unused reply token) may still go.
    quota_exhausted: bool = False
    max_text_length: int = 65_536
    # Media types a reply may carry (None: any) and the largest file the provider takes.
    media_types: frozenset[str] | None = None
    max_media_bytes: int | None = None


NO_RULES = ChannelRules()
