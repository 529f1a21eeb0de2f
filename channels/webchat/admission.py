"""Admitting a visitor socket per client address: an open-socket cap and a connection rate.

A refusal is a 429 before the upgrade, with the JSON error shape and Retry-After, like the
other refusals of the socket route (404 no such chat, 403 page not allowed).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from aiohttp import web

from channels.webchat.config import WebchatInboxConfig
from hub.web.jsonio import error_body, json_response

if TYPE_CHECKING:
    from channels.webchat.adapter import WebchatRuntime

# Retry-After of a refusal at the open-socket cap: a slot frees whenever one of the address's
# sockets closes, which no clock predicts; the widget backs off further on its own
FULL_RETRY_SECONDS = 5
MAX_RETRY_SECONDS = 3_600  # a bucket that never refills (rate 0) still names a finite wait


def address_key(inbox_id: str, ip: str) -> str:
    """What the per-address limits count: one client address on one chat."""
    return f"{inbox_id}:{ip}"


def connection_wait(rt: WebchatRuntime, key: str, config: WebchatInboxConfig) -> float:
    """0 if the address `key` may start another session (a new socket, a repeated hello)."""
    wait = rt.limits.take(f"c:{key}", config.ip_connect_burst, config.ip_connect_per_second)
    return min(wait, MAX_RETRY_SECONDS)


def _refuse(code: str, message: str, seconds: int) -> web.Response:
    """A 429 before the upgrade, with the reason and when to come back."""
    return json_response(
        error_body(code, message, retry_after=seconds),
        status=429,
        headers={"Retry-After": str(seconds)},
    )


def admit(rt: WebchatRuntime, key: str, config: WebchatInboxConfig) -> web.Response | None:
    """Take an open-socket slot for the address `key`, or the 429 that says why not.

    The cap is checked first, so a refused connection costs no token of the rate bucket.
    """
    cap = config.ip_max_connections
    if rt.slots.held(key) >= cap:
        return _refuse(
            "too_many_connections",
            f"this address already has {cap} chat connections open, the most allowed; "
            "close one or try again later",
            FULL_RETRY_SECONDS,
        )
    wait = connection_wait(rt, key, config)
    if wait:
        seconds = max(1, math.ceil(wait))
        return _refuse(
            "connection_rate_limited",
            f"too many new chat connections from this address; try again in {seconds} s",
            seconds,
        )
    rt.slots.acquire(key, cap)  # cannot fail: nothing awaited since the check
    return None
