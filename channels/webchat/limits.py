"""Token-bucket rate limits for visitors and client addresses.

A bucket holds up to `capacity` tokens and refills at `rate` tokens per second; each frame
takes one. The per-key table forgets a bucket once it has refilled completely, so an idle
visitor or address costs no memory (a new bucket starts full, which is the same thing).
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """One bucket; `take` answers 0 when allowed, else the seconds until a token is back."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        if capacity < 1 or rate < 0:
            raise ValueError("capacity must be >= 1 and rate >= 0")
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take `cost` tokens if there are enough; else take none and say how long to wait."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate == 0:
            return float("inf")
        return (cost - self.tokens) / self.rate

    def is_full(self, now: float) -> bool:
        """True once the bucket has refilled completely (it can then be forgotten)."""
        self._refill(now)
        return self.tokens >= self.capacity


class BucketTable:
    """Buckets by key (visitor id, client address), each with the capacity and rate given."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sweep_seconds: float = 60.0
    ) -> None:
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._buckets: dict[str, TokenBucket] = {}
        self._next_sweep = clock() + sweep_seconds

    def take(self, key: str, capacity: float, rate: float) -> float:
        """0 if `key` may go on, else the seconds to wait (nothing is taken then)."""
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
            bucket = self._buckets[key] = TokenBucket(capacity, rate, now)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_seconds
        for key in [k for k, b in self._buckets.items() if b.is_full(now)]:
            del self._buckets[key]
