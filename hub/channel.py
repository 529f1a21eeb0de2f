"""The Channel contract, and discovery of installed channels by entry point.

The contract lives in the core so the core can drive channels without importing any of
them: channel packages register under the `contact_hub.channels` entry-point group
(pyproject.toml) and are found by name at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

from hub.errors import HubError
from hub.model import Inbound, Inbox, IngestResult, Outbound, Receipt
from hub.web.routes import Route

ENTRY_POINT_GROUP = "contact_hub.channels"


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelContext:
    """What the hub gives a channel at start: ingest is the only way in."""

    ingest: Callable[[Inbound], Awaitable[IngestResult]]
    # several messages in one store round trip; each gets its result or its error
    ingest_many: Callable[[Sequence[Inbound]], Awaitable[list[IngestResult | HubError]]]
    config: Mapping[str, Any]
    get_inbox: Callable[[str], Awaitable[Inbox | None]]  # inbox settings, read when needed


class Channel(Protocol):
    """One customer channel: receives natively, ingests, and sends replies."""

    name: ClassVar[str]
    default_config: ClassVar[Mapping[str, Any]]

    def routes(self) -> Sequence[Route]:
        """API routes the channel serves under /api (webhooks, inbound); mounted at build."""

    async def start(self, ctx: ChannelContext) -> None:
        """Begin receiving (connect, subscribe)."""

    async def stop(self) -> None:
        """Stop receiving and release connections."""

    async def send(self, outbound: Outbound) -> Receipt:
        """Send one reply; raise hub.errors.SendError (permanent or not) on failure."""


def installed_channels() -> dict[str, type[Channel]]:
    """Every installed channel class, by name."""
    found: dict[str, type[Channel]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        cls = point.load()
        found[cls.name] = cls
    return found
