"""The reply window of one conversation (PRODUCT C14, decision 0039): whether an agent may answer
freely now, until when, how many more replies, and what else is allowed once it is closed.

Pure: the caller hands in the channel's rules, the time, the provider's timestamp of the
customer's last message and the replies sent since it, so tests use an explicit clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from frontdesk.domain.channel_rules import ChannelRules
from frontdesk.domain.errors import Conflict

# The window shows as closing (the dashboard turns amber) in its last hour.
CLOSING_AHEAD = timedelta(hours=1)


class WindowState(StrEnum):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"
    NONE = "none"  # the channel has no window: replies are always allowed


class Way(StrEnum):
    """A way an agent may reach the customer now."""

    FREE_TEXT = "free_text"
    TEMPLATE = "template"  # a provider-approved template
    TAGGED_REPLY = "tagged_reply"  # a reply with the human-agent tag, inside the tagged window
    OTHER_INBOX = "other_inbox"  # the contact's identity on another inbox without a window


@dataclass(frozen=True)
class ReplyWindow:
    state: WindowState
    closes_at: datetime | None
    messages_left: int | None  # None: no cap
    allowed: tuple[Way, ...]
    # Why free text is not allowed: "reply_window_closed", "reply_limit_reached",
    # "customer_writes_first", "quota_exhausted" or "customer_unreachable"; None while it is.
    refusal: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "messages_left": self.messages_left,
            "allowed": [w.value for w in self.allowed],
            "refusal": self.refusal,
        }


def reply_window(
    rules: ChannelRules,
    now: datetime,
    customer_last_at: datetime | None,
    replies_since: int,
    *,
    other_inbox: bool,
    customer_left: bool = False,
) -> ReplyWindow:
    """`customer_last_at`: the provider's time of the customer's last message (None: the customer
    never wrote). `replies_since`: agent replies sent after it. `other_inbox`: the contact has an
    identity on another inbox whose channel has no window (email, SMS). `customer_left`: the
    customer unfollowed or blocked the account, so nothing sent here reaches them."""
    if customer_left:
        ways: tuple[Way, ...] = (Way.OTHER_INBOX,) if other_inbox else ()
        return ReplyWindow(WindowState.CLOSED, None, None, ways, "customer_unreachable")
    if customer_last_at is None and rules.customer_writes_first:
        return _closed(rules, now, None, None, other_inbox, "customer_writes_first")
    if rules.quota_exhausted:
        free_until = _free_reply_until(rules, customer_last_at, replies_since)
        if free_until is None or now >= free_until:
            return _closed(rules, now, customer_last_at, None, other_inbox, "quota_exhausted")
        return ReplyWindow(WindowState.CLOSING, free_until, 1, (Way.FREE_TEXT,))
    if rules.reply_window is None:
        return ReplyWindow(WindowState.NONE, None, None, (Way.FREE_TEXT,))
    if customer_last_at is None:
        return _closed(rules, now, None, None, other_inbox, "reply_window_closed")
    closes_at = customer_last_at + rules.reply_window
    left = None if rules.messages_in_window is None else max(rules.messages_in_window - replies_since, 0)
    if now >= closes_at:
        return _closed(rules, now, customer_last_at, closes_at, other_inbox, "reply_window_closed")
    if left == 0:
        closed = _closed(rules, now, customer_last_at, closes_at, other_inbox, "reply_limit_reached")
        return ReplyWindow(closed.state, closes_at, 0, closed.allowed, closed.refusal)
    state = WindowState.CLOSING if closes_at - now <= CLOSING_AHEAD else WindowState.OPEN
    allowed = (Way.FREE_TEXT, Way.TEMPLATE) if rules.has_templates else (Way.FREE_TEXT,)
    return ReplyWindow(state, closes_at, left, allowed)


def _free_reply_until(
    rules: ChannelRules, customer_last_at: datetime | None, replies_since: int
) -> datetime | None:
    """Until when the reply token of the customer's last message still sends one reply free:
    none once a reply answered that message (it took the token)."""
    if rules.reply_token_validity is None or customer_last_at is None or replies_since > 0:
        return None
    return customer_last_at + rules.reply_token_validity


def _closed(
    rules: ChannelRules,
    now: datetime,
    customer_last_at: datetime | None,
    closes_at: datetime | None,
    other_inbox: bool,
    refusal: str,
) -> ReplyWindow:
    allowed: list[Way] = []
    if rules.has_templates:
        allowed.append(Way.TEMPLATE)
    if (
        rules.tagged_window is not None
        and customer_last_at is not None
        and now < customer_last_at + rules.tagged_window
    ):
        allowed.append(Way.TAGGED_REPLY)
    if other_inbox:
        allowed.append(Way.OTHER_INBOX)
    return ReplyWindow(WindowState.CLOSED, closes_at, 0 if closes_at else None, tuple(allowed), refusal)


_WAYS = {
    Way.TEMPLATE: "send an approved template",
    Way.TAGGED_REPLY: "send a tagged human-agent reply",
    Way.OTHER_INBOX: "write to the contact on another inbox (email, SMS)",
}
_WHY = {
    "reply_window_closed": "the channel's reply window is closed: the customer's last message is too old",
    "reply_limit_reached": "the channel allows no more replies until the customer writes again",
    "customer_writes_first": "on this channel the customer must write first",
    "customer_unreachable": "the customer unfollowed or blocked the account: nothing sent here "
    "reaches them until they follow it again",
    "quota_exhausted": "the account's monthly message quota is used up: only a quick answer to the "
    "customer's latest message (free by its reply token) can still go",
}


def check_free_text(window: ReplyWindow) -> None:
    """Refuses (409) a free-text reply the window does not allow, naming what is allowed instead."""
    if window.refusal is None:
        return
    ways = [_WAYS[w] for w in window.allowed if w in _WAYS]
    instead = "; instead you may " + " or ".join(ways) if ways else "; wait until the customer writes again"
    raise Conflict(
        _WHY[window.refusal] + instead,
        field="text",
        code=window.refusal,
        details={"allowed": [w.value for w in window.allowed]},
    )
