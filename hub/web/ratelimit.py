"""Sign-in throttling: growing delays per account and address, per address, and per account.

    throttle = LoginThrottle.from_config(config.auth)         # one per app (LOGIN_THROTTLE_KEY)
    wait = throttle.retry_after(account=email, address=ip)     # whole seconds, or None: may try
    throttle.failed(account=email, address=ip)                 # before checking the password
    throttle.succeeded(account=email, address=ip)              # it was right: refunded, pair reset

Why this shape (OWASP ASVS v4 2.2.1): a lock per account lets anyone who knows an agent's
email shut them out. Here the delays fall on the addresses that fail:
- per (account, address): a few free failures, then a delay that doubles per failure up to
  a cap; a success from that address clears it;
- per address (all accounts): more free failures (an office shares one address), same
  growth and cap; a success does not clear it (else one valid account would launder it);
- per account (all addresses): a soft delay with a low cap, applied only to addresses that
  have themselves failed on that account. It slows a botnet spreading guesses over many
  addresses, yet an address that has not failed is never delayed by what others did.

Counts live in this process's memory only, as before: a restart forgets them, and with N
web processes a guesser gets N times the budget, which still stops guessing. Each table
is bounded (MAX_KEYS, least recently used dropped first) and forgets a key
`forget_after` seconds after its last failure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web
from cachetools import TTLCache

from hub.config import AuthConfig

MAX_KEYS = 100_000  # per table: bounds memory under a flood of distinct addresses
MAX_DOUBLINGS = 60  # 2**60 seconds outlasts any cap; keeps the power finite

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, kw_only=True, slots=True)
class DelayPolicy:
    """`free_failures` without a wait, then `first_delay` doubled per failure, up to `max_delay`."""

    free_failures: int
    first_delay: float
    max_delay: float

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last of `failures` failures."""
        if failures < self.free_failures or self.max_delay <= 0:
            return 0.0
        doublings = min(failures - self.free_failures, MAX_DOUBLINGS)
        return min(self.max_delay, self.first_delay * 2**doublings)


@dataclass(frozen=True, kw_only=True, slots=True)
class Failures:
    """A key's failure count and the clock reading of its last failure."""

    count: int
    last: float


class FailureTable(Generic[K]):
    """Failures per key under one DelayPolicy; bounded, idle keys forgotten."""

    def __init__(
        self,
        policy: DelayPolicy,
        *,
        forget_after: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._failures: TTLCache[K, Failures] = TTLCache(max_keys, forget_after, timer=clock)

    def retry_after(self, key: K) -> float | None:
        """Seconds until `key` may try again, or None if it may try now."""
        entry = self._failures.get(key)
        if entry is None:
            return None
        wait = entry.last + self.policy.delay(entry.count) - self.clock()
        return wait if wait > 0 else None

    def count(self, key: K) -> int:
        """How many failures `key` has (0 once forgotten)."""
        entry = self._failures.get(key)
        return entry.count if entry is not None else 0

    def fail(self, key: K) -> None:
        """Count one failure for `key` (re-setting it also restarts its time to live)."""
        self._failures[key] = Failures(count=self.count(key) + 1, last=self.clock())

    def refund(self, key: K) -> None:
        """Take back one failure of `key` (an attempt counted up front that succeeded)."""
        entry = self._failures.get(key)
        if entry is None:
            return
        if entry.count <= 1:
            self.reset(key)
        else:
            self._failures[key] = Failures(count=entry.count - 1, last=entry.last)

    def reset(self, key: K) -> None:
        """Forget every failure of `key`."""
        self._failures.pop(key, None)

    def items(self) -> Iterator[tuple[K, Failures]]:
        """The keys still remembered, with their failures."""
        self._failures.expire()
        yield from list(self._failures.items())


@dataclass(frozen=True, kw_only=True, slots=True)
class Throttled:
    """One row of the admin page: a remembered count and its current wait."""

    scope: str  # "account+address", "address" or "account"
    account: str
    address: str
    failures: int
    seconds_since_last: int
    wait_seconds: int  # 0: may try now (the count still makes the next delay longer)


def _whole(seconds: float | None) -> int:
    return math.ceil(seconds) if seconds else 0


class LoginThrottle:
    """The three sign-in failure tables and how they combine."""

    def __init__(
        self,
        *,
        pair: DelayPolicy,
        address: DelayPolicy,
        account: DelayPolicy,
        forget_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.by_pair: FailureTable[tuple[str, str]] = FailureTable(
            pair, forget_after=forget_after, clock=clock
        )
        self.by_address: FailureTable[str] = FailureTable(
            address, forget_after=forget_after, clock=clock
        )
        self.by_account: FailureTable[str] = FailureTable(
            account, forget_after=forget_after, clock=clock
        )

    @classmethod
    def from_config(
        cls, auth: AuthConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> LoginThrottle:
        """The throttle as configured in [auth]."""
        first, longest = auth.login_first_delay_seconds, float(auth.login_max_delay_seconds)
        return cls(
            pair=DelayPolicy(
                free_failures=auth.login_free_failures, first_delay=first, max_delay=longest
            ),
            address=DelayPolicy(
                free_failures=auth.login_free_failures_per_address,
                first_delay=first,
                max_delay=longest,
            ),
            account=DelayPolicy(
                free_failures=auth.login_free_failures_per_account,
                first_delay=first,
                max_delay=float(auth.login_max_account_delay_seconds),
            ),
            forget_after=float(auth.login_forget_after_seconds),
            clock=clock,
        )

    def retry_after(self, *, account: str, address: str) -> int | None:
        """Whole seconds to wait (for the Retry-After header), or None if allowed now."""
        waits = [self.by_pair.retry_after((account, address)), self.by_address.retry_after(address)]
        if self.by_pair.count((account, address)):  # only an address that failed here
            waits.append(self.by_account.retry_after(account))
        longest = max((w for w in waits if w is not None), default=None)
        return max(1, math.ceil(longest)) if longest is not None else None

    def failed(self, *, account: str, address: str) -> None:
        """Count a wrong password for the pair, the address and the account."""
        self.by_pair.fail((account, address))
        self.by_address.fail(address)
        self.by_account.fail(account)

    def succeeded(self, *, account: str, address: str) -> None:
        """The right password (after `failed` counted the attempt): the pair and the account
        start afresh; the address gets back only this attempt's failure."""
        self.by_pair.reset((account, address))
        self.by_account.reset(account)
        self.by_address.refund(address)

    def clear_pair(self, *, account: str, address: str) -> None:
        """An admin's reset of one account at one address."""
        self.by_pair.reset((account, address))

    def clear_account(self, account: str) -> None:
        """An admin's reset: the account and every (account, address) pair of it."""
        self.by_account.reset(account)
        for key, _ in self.by_pair.items():
            if key[0] == account:
                self.by_pair.reset(key)

    def clear_address(self, address: str) -> None:
        """An admin's reset: the address and every (account, address) pair from it."""
        self.by_address.reset(address)
        for key, _ in self.by_pair.items():
            if key[1] == address:
                self.by_pair.reset(key)

    def throttled(self) -> list[Throttled]:
        """Every remembered count, those waiting longest first."""
        now = self.clock()
        rows = [
            *(
                self._row("account+address", key[0], key[1], f, self.by_pair.retry_after(key), now)
                for key, f in self.by_pair.items()
            ),
            *(
                self._row("address", "", key, f, self.by_address.retry_after(key), now)
                for key, f in self.by_address.items()
            ),
            *(
                self._row("account", key, "", f, self.by_account.retry_after(key), now)
                for key, f in self.by_account.items()
            ),
        ]
        return sorted(rows, key=lambda r: (-r.wait_seconds, -r.failures, r.account, r.address))

    @staticmethod
    def _row(
        scope: str, account: str, address: str, f: Failures, wait: float | None, now: float
    ) -> Throttled:
        return Throttled(
            scope=scope,
            account=account,
            address=address,
            failures=f.count,
            seconds_since_last=int(now - f.last),
            wait_seconds=_whole(wait),
        )


LOGIN_THROTTLE_KEY: web.AppKey[LoginThrottle] = web.AppKey("login_throttle", LoginThrottle)
