"""What every store backend shares: the time format, the keyset cursor codec, outbox rules.

Both backends keep times to the millisecond and hand out the same cursors, so a cursor (or a
hub transferred with `hub transfer`) means the same on either one.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from hub.errors import InvalidInput
from hub.model import DeliveryStatus, as_utc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

# an outbox entry left `sending` this long (its dispatcher crashed) is claimed again
SENDING_LEASE = timedelta(minutes=5)

# provider callbacks arrive out of order; a status never moves back down this order
# (FAILED is outside it: it always applies)
DELIVERY_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


def ms(value: datetime | None) -> int | None:
    """Milliseconds since the epoch (the store's time format), truncated to the millisecond.

    Integer arithmetic on purpose: `int(value.timestamp() * 1000)` went through a float and
    lost a millisecond for some times (2038-03-31 22:55:36.470 came back as .469), and it
    read naive datetimes as local time where hub.model takes them as UTC (`as_utc`).
    """
    if value is None:
        return None
    return msn(value)


def msn(value: datetime) -> int:
    """`ms` of a datetime that is never None (a NOT NULL column)."""
    return (as_utc(value) - _EPOCH) // _MS


def dt(value: int | None) -> datetime | None:
    """A UTC datetime from stored milliseconds."""
    if value is None:
        return None
    return dtn(value)


def dtn(value: int) -> datetime:
    """A UTC datetime from NOT NULL milliseconds (exact: no float in between)."""
    return _EPOCH + value * _MS


def encode_cursor(*parts: Any) -> str:
    """An opaque keyset cursor."""
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The parts of a cursor made by encode_cursor; InvalidInput if it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("invalid cursor", code="invalid_cursor") from exc
    if not isinstance(parts, list) or len(parts) != arity:
        raise InvalidInput("invalid cursor", code="invalid_cursor")
    return parts
