"""Driver errors turned into the hub's typed errors, with credentials kept out of messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pymongo.errors import ConnectionFailure, PyMongoError

from hub.errors import StoreUnavailable
from hub.store.urls import redact_url

_REASON_CHARS = 300


def reason_of(exc: BaseException, url: str) -> str:
    """The driver's reason, shortened (it appends a whole topology description) and redacted."""
    text = str(exc).split(", Timeout:")[0].split(" Topology Description:")[0]
    text = text.replace(url, redact_url(url))
    return redact_url(text)[:_REASON_CHARS]


def unavailable(exc: PyMongoError, url: str) -> StoreUnavailable:
    """The hub error for a server that cannot be reached."""
    return StoreUnavailable(
        f"MongoDB at {redact_url(url)} is unreachable: {reason_of(exc, url)}",
        url=redact_url(url),
    )


@asynccontextmanager
async def translated(url: str) -> AsyncIterator[None]:
    """Raise StoreUnavailable (a 503 with a reason) for a lost or unreachable server."""
    try:
        yield
    except ConnectionFailure as exc:  # includes ServerSelectionTimeoutError and AutoReconnect
        raise unavailable(exc, url) from exc
