"""Rules about conversations and deliveries that do not need the database."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from frontdesk.domain.enums import DeliveryStatus, Role

_DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}

MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|[\w.-]+)")


def delivery_may_advance(current: DeliveryStatus, new: DeliveryStatus) -> bool:
    """Receipts arrive out of order; a status only moves forward, and failed is final.

    A "failed" report is accepted for a message not yet delivered: providers report
    asynchronous failures after they first said "sent".
    """
    if current in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED):
        return False
    if new == DeliveryStatus.CANCELLED:
        return current == DeliveryStatus.QUEUED
    if new == DeliveryStatus.FAILED:
        return current in (DeliveryStatus.QUEUED, DeliveryStatus.SENT)
    return _DELIVERY_RANK[new] > _DELIVERY_RANK[current]


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with "equal jitter": a random delay between half and all of
    min(cap, base * 2^(n-1)), so retries spread out but never come back at once."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    r = (rng or random).random()
    return float(ceiling / 2 + r * ceiling / 2)


def retry_span(max_attempts: int, base: float, cap: float) -> tuple[float, float]:
    """The shortest and longest time from a job's first attempt to its last, in seconds, under
    retry_delay's jitter: what the back-off settings promise before a reply is given up."""
    ceilings = [min(cap, base * (2 ** (n - 1))) for n in range(1, max(1, max_attempts))]
    return sum(ceilings) / 2, float(sum(ceilings))


def can_manage_workspace(role: Role) -> bool:
    return role == Role.ADMINISTRATOR


def sees_every_inbox(role: Role) -> bool:
    """Administrators and supervisors see every inbox; agents only those they belong to."""
    return role in (Role.ADMINISTRATOR, Role.SUPERVISOR)


def extract_mentions(text: str) -> list[str]:
    """The handles after '@' in a note: an email address or a name without spaces."""
    return [m.group(1).lower() for m in MENTION_PATTERN.finditer(text)]


def first_reply_seconds(opened_at: datetime, replied_at: datetime) -> int:
    return max(0, int((replied_at - opened_at).total_seconds()))


def takes_on_reply(inbox_settings: Mapping[str, Any], assignee_id: int | None) -> bool:
    """Whether an agent's reply assigns the conversation to them: only an unassigned one, and only
    where the inbox keeps `assign_on_reply` (on unless an administrator turned it off, so inboxes
    saved before the setting existed behave the same). Two agents must not both answer a visitor
    unknowingly; the first reply claims the conversation."""
    return assignee_id is None and inbox_settings.get("assign_on_reply", True) is not False
