"""The rules of a website visit (PRODUCT W2, W3): when a visit continues, when a visitor counts as
on the site now, how long they have been there. No I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

# A visitor back within 30 minutes of their last sign of life continues the same visit (the usual
# analytics session length).
VISIT_IDLE = timedelta(minutes=30)
# A socket that closed less than this ago still counts as there: a page load closes and reopens it.
LEFT_GRACE = timedelta(seconds=30)
# The widget's server refreshes last_seen_at of open sockets every few minutes; a visit not
# refreshed for this long lost its socket without a goodbye (a process crash) and is not live.
LIVE_STALE = timedelta(minutes=10)
PAGES_KEPT = 50


def continues(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at < VISIT_IDLE


def is_live(last_seen_at: datetime, left_at: datetime | None, now: datetime) -> bool:
    if now - last_seen_at >= LIVE_STALE:
        return False
    return left_at is None or now - left_at < LEFT_GRACE


def time_on_site_seconds(
    started_at: datetime, last_seen_at: datetime, left_at: datetime | None, now: datetime
) -> int:
    """Until now while the visitor is there; until they left (or were last seen) after."""
    still_there = left_at is None and now - last_seen_at < LIVE_STALE
    end = now if still_there else (left_at or last_seen_at)
    return max(0, int((end - started_at).total_seconds()))
