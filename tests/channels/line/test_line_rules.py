"""The LINE rules as the reply action and the composer see them (pure, explicit clock): no
window until the monthly quota is used up; then only the reply token's short free reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.channels.line.adapter import REPLY_TOKEN_VALIDITY, LineAdapter, quota_exhausted
from frontdesk.domain.errors import Conflict
from frontdesk.domain.reply_window import WindowState, check_free_text, reply_window

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
USED_UP = {"channel_id": "1657000000", "quota": {"limit": 200, "used": 200, "checked_at": NOW.isoformat()}}


def test_without_a_used_up_quota_there_is_no_window() -> None:
    rules = LineAdapter.rules_for({"channel_id": "1"})
    w = reply_window(rules, NOW, NOW - timedelta(days=90), 3, other_inbox=False)
    assert w.state == WindowState.NONE and w.refusal is None
    unlimited = {"quota": {"limit": None, "used": 10**6, "checked_at": NOW.isoformat()}}
    assert not quota_exhausted(unlimited) and not quota_exhausted({"quota": "garbage"})


def test_a_used_up_quota_leaves_only_the_reply_tokens_free_reply() -> None:
    rules = LineAdapter.rules_for(USED_UP)
    fresh = reply_window(rules, NOW, NOW - timedelta(seconds=10), 0, other_inbox=False)
    assert fresh.refusal is None and fresh.messages_left == 1
    assert fresh.closes_at == NOW - timedelta(seconds=10) + REPLY_TOKEN_VALIDITY
    for last, replies in ((NOW - timedelta(seconds=10), 1), (NOW - REPLY_TOKEN_VALIDITY, 0), (None, 0)):
        closed = reply_window(rules, NOW, last, replies, other_inbox=False)
        assert closed.state == WindowState.CLOSED and closed.refusal == "quota_exhausted"
        assert closed.as_json()["refusal"] == "quota_exhausted"
        with pytest.raises(Conflict) as caught:
            check_free_text(closed)
        assert caught.value.code == "quota_exhausted" and "quota" in str(caught.value)
