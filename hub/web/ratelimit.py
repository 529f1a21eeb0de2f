"""Failed-sign-in counting: N failures per key within a sliding window, then a wait.

    limits = LoginLimits.from_config(config.auth)          # one per app (LOGIN_LIMITS_KEY)
    wait = limits.retry_after(ip=ip, account=email)        # seconds, or None: may try
    limits.failed(ip=ip, account=email)                    # after a wrong password
    limits.succeeded(account=email)                        # resets the account's count

Counts live in this process only: with N web processes an attacker gets N times the
budget per window, which still stops guessing. Idle keys are forgotten after one window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from cachetools import TTLCache

from hub.config import AuthConfig

MAX_KEYS = 100_000  # bounds memory under a flood of distinct addresses


class FailureLimiter:
    """At most `max_failures` failures per key in any `window` seconds."""

    def __init__(
        self,
        max_failures: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        # a key's entry lives one window after its last failure, the most it can matter
        self._failures: TTLCache[str, deque[float]] = TTLCache(MAX_KEYS, window, timer=clock)

    def _recent(self, key: str) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        horizon = self.clock() - self.window
        while times and times[0] <= horizon:
            times.popleft()
        return times

    def retry_after(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None if it may try now."""
        times = self._recent(key)
        if len(times) < self.max_failures:
            return None
        return max(times[-self.max_failures] + self.window - self.clock(), 0.001)

    def fail(self, key: str) -> None:
        """Count one failure for `key`."""
        times = self._recent(key)
        times.append(self.clock())
        while len(times) > self.max_failures:  # older failures can no longer matter
            times.popleft()
        self._failures[key] = times

    def reset(self, key: str) -> None:
        """Forget every failure of `key`."""
        self._failures.pop(key, None)


@dataclass(frozen=True, kw_only=True, slots=True)
class LoginLimits:
    """The two limits on signing in: per client address and per account."""

    by_ip: FailureLimiter
    by_account: FailureLimiter

    @classmethod
    def from_config(
        cls, auth: AuthConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> LoginLimits:
        """Limits as configured in [auth]."""
        window = float(auth.login_window_seconds)
        return cls(
            by_ip=FailureLimiter(auth.login_max_failures_per_ip, window, clock=clock),
            by_account=FailureLimiter(auth.login_max_failures, window, clock=clock),
        )

    def retry_after(self, *, ip: str, account: str) -> int | None:
        """Whole seconds to wait (for the Retry-After header), or None if allowed."""
        waits = [
            w
            for w in (self.by_ip.retry_after(ip), self.by_account.retry_after(account))
            if w is not None
        ]
        return math.ceil(max(waits)) if waits else None

    def failed(self, *, ip: str, account: str) -> None:
        """Count a failed sign-in against both the address and the account."""
        self.by_ip.fail(ip)
        self.by_account.fail(account)

    def succeeded(self, *, account: str) -> None:
        """A correct password: the account starts afresh (the address does not)."""
        self.by_account.reset(account)


LOGIN_LIMITS_KEY: web.AppKey[LoginLimits] = web.AppKey("login_limits", LoginLimits)
