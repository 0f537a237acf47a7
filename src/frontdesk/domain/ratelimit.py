"""Token buckets for the website widget's rate limits (pure: the caller passes the clock).

A bucket holds up to `burst` tokens and gains `rate` tokens per second; each request takes one.
Buckets are kept in a dict by key (a visitor, an IP address); a bucket that has been idle long
enough to be full again is indistinguishable from a new one, so it is dropped: memory follows the
number of recently active keys, never the number ever seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rate:
    per_window: int  # requests allowed per window, steady state
    window_seconds: float
    burst: int  # requests allowed at once after a quiet spell

    @property
    def per_second(self) -> float:
        return self.per_window / self.window_seconds


@dataclass
class Buckets:
    rate: Rate
    max_keys: int = 100_000  # a hard ceiling even under a flood of new keys
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)  # key → (tokens, at)
    _last_sweep: float = 0.0

    def take(self, key: str, now: float) -> float:
        """Take one token for `key`; 0.0 when allowed, else the seconds until one is available."""
        self._sweep(now)
        # Popped and put back: the dict stays ordered from least to most recently used.
        tokens, at = self._state.pop(key, (float(self.rate.burst), now))
        tokens = min(float(self.rate.burst), tokens + (now - at) * self.rate.per_second)
        if len(self._state) >= self.max_keys:
            del self._state[next(iter(self._state))]
        if tokens < 1.0:
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.rate.per_second
        self._state[key] = (tokens - 1.0, now)
        return 0.0

    def __len__(self) -> int:
        return len(self._state)

    def _refill_seconds(self) -> float:
        return self.rate.burst / self.rate.per_second

    def _sweep(self, now: float) -> None:
        # At most once per refill period: drop buckets that are full again (idle keys).
        full_after = self._refill_seconds()
        if now - self._last_sweep < full_after:
            return
        self._last_sweep = now
        idle = []
        for key, (_, at) in self._state.items():
            if now - at < full_after:
                break  # the rest were used more recently
            idle.append(key)
        for key in idle:
            del self._state[key]


def retry_after_seconds(wait: float) -> int:
    """Whole seconds for Retry-After, never 0."""
    return max(1, math.ceil(wait))
