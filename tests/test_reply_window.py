"""The reply window as a pure function of the rules and an explicit clock (decision 0039)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.domain.channel_rules import NO_RULES, ChannelRules
from frontdesk.domain.errors import Conflict
from frontdesk.domain.reply_window import Way, WindowState, check_free_text, reply_window

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAY = ChannelRules(reply_window=timedelta(hours=24))


def test_a_channel_without_a_window_always_takes_free_text() -> None:
    for last in (None, NOW - timedelta(days=400)):
        w = reply_window(NO_RULES, NOW, last, 99, other_inbox=True)
        assert (w.state, w.closes_at, w.messages_left, w.allowed) == (
            WindowState.NONE,
            None,
            None,
            (Way.FREE_TEXT,),
        )
        check_free_text(w)


def test_open_then_closing_in_the_last_hour_then_closed() -> None:
    last = NOW - timedelta(hours=20)
    w = reply_window(DAY, NOW, last, 0, other_inbox=False)
    assert w.state == WindowState.OPEN and w.closes_at == last + timedelta(hours=24)
    assert w.allowed == (Way.FREE_TEXT,) and w.messages_left is None
    # Exactly one hour left is already the closing hour; one second more is not.
    assert (
        reply_window(DAY, NOW, NOW - timedelta(hours=23), 0, other_inbox=False).state == WindowState.CLOSING
    )
    assert (
        reply_window(DAY, NOW, NOW - timedelta(hours=23) + timedelta(seconds=1), 0, other_inbox=False).state
        == WindowState.OPEN
    )
    closing = reply_window(DAY, NOW, NOW - timedelta(hours=23, minutes=59), 0, other_inbox=False)
    assert closing.state == WindowState.CLOSING and closing.allowed == (Way.FREE_TEXT,)
    # The window closes at closes_at itself.
    closed = reply_window(DAY, NOW, NOW - timedelta(hours=24), 0, other_inbox=False)
    assert closed.state == WindowState.CLOSED and closed.allowed == () and closed.messages_left == 0
    assert closed.refusal == "reply_window_closed"


def test_closed_offers_exactly_the_ways_the_channel_has() -> None:
    rules = ChannelRules(
        reply_window=timedelta(hours=24), tagged_window=timedelta(days=7), has_templates=True
    )
    two_days = NOW - timedelta(days=2)
    w = reply_window(rules, NOW, two_days, 0, other_inbox=True)
    assert w.allowed == (Way.TEMPLATE, Way.TAGGED_REPLY, Way.OTHER_INBOX)
    eight_days = NOW - timedelta(days=8)
    assert reply_window(rules, NOW, eight_days, 0, other_inbox=False).allowed == (Way.TEMPLATE,)
    assert reply_window(DAY, NOW, two_days, 0, other_inbox=True).allowed == (Way.OTHER_INBOX,)
    # Open: free text (and templates where there are any); the other inbox is not offered.
    assert reply_window(rules, NOW, NOW, 0, other_inbox=True).allowed == (Way.FREE_TEXT, Way.TEMPLATE)


def test_a_customer_who_never_wrote_leaves_the_window_closed() -> None:
    w = reply_window(DAY, NOW, None, 0, other_inbox=True)
    assert (w.state, w.closes_at, w.allowed) == (WindowState.CLOSED, None, (Way.OTHER_INBOX,))
    first = ChannelRules(customer_writes_first=True)
    w = reply_window(first, NOW, None, 0, other_inbox=False)
    assert w.state == WindowState.CLOSED and w.refusal == "customer_writes_first"
    assert reply_window(first, NOW, NOW - timedelta(days=30), 0, other_inbox=False).state == WindowState.NONE


def test_the_cap_counts_replies_since_the_customers_last_message() -> None:
    rules = ChannelRules(reply_window=timedelta(hours=48), messages_in_window=5)
    last = NOW - timedelta(hours=1)
    assert reply_window(rules, NOW, last, 0, other_inbox=False).messages_left == 5
    four = reply_window(rules, NOW, last, 4, other_inbox=False)
    assert four.state == WindowState.OPEN and four.messages_left == 1
    full = reply_window(rules, NOW, last, 5, other_inbox=False)
    assert (full.state, full.messages_left, full.refusal) == (WindowState.CLOSED, 0, "reply_limit_reached")
    assert full.closes_at == last + timedelta(hours=48)


def test_the_refusal_names_its_code_and_what_is_allowed_instead() -> None:
    w = reply_window(DAY, NOW, NOW - timedelta(days=2), 0, other_inbox=True)
    with pytest.raises(Conflict) as caught:
        check_free_text(w)
    assert caught.value.code == "reply_window_closed"
    assert "another inbox" in caught.value.message
    assert caught.value.details == {"allowed": ["other_inbox"]}
    nothing = reply_window(DAY, NOW, NOW - timedelta(days=2), 0, other_inbox=False)
    with pytest.raises(Conflict, match="wait until the customer writes again"):
        check_free_text(nothing)


def test_as_json() -> None:
    w = reply_window(DAY, NOW, NOW - timedelta(hours=1), 0, other_inbox=False)
    assert w.as_json() == {
        "state": "open",
        "closes_at": "2026-12-08T11:00:00+00:00",
        "messages_left": None,
        "allowed": ["free_text"],
        "refusal": None,
    }
