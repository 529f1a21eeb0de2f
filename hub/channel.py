"""The Channel contract, and discovery of installed channels by entry point.

The contract lives in the core so the core can drive channels without importing any of
them: channel packages register under the `contact_hub.channels` entry-point group
(pyproject.toml) and are found by name at start-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from aiohttp import web

from hub.errors import HubError
from hub.events import Event, EventType, Subscription
from hub.model import (
    Agent,
    Conversation,
    ConversationFilter,
    Customer,
    Identity,
    IdentityKind,
    Inbound,
    Inbox,
    IngestResult,
    Message,
    Outbound,
    Page,
    Receipt,
)
from hub.store.base import Store
from hub.web.routes import Route

ENTRY_POINT_GROUP = "contact_hub.channels"


class Subscribe(Protocol):
    """EventBus.subscribe: live events from now on (see hub/events.py)."""

    def __call__(
        self,
        *,
        types: Iterable[EventType] | None = None,
        since: int | None = None,
        where: Callable[[Event], bool] | None = None,
        queue_size: int | None = None,
    ) -> Subscription: ...


class ChannelReads:
    """Read-only store access for channels: history, conversations, agents.

    Writes go through actions only, so this exposes no write method of the store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    async def find_identity(self, kind: IdentityKind, address: str) -> Identity | None:
        """The identity with this normalised address."""
        return await self._store.find_identity(kind, address)

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        """One conversation."""
        return await self._store.get_conversation(conversation_id)

    async def list_conversations(
        self, flt: ConversationFilter, *, limit: int = 25, cursor: str | None = None
    ) -> Page[Conversation]:
        """Conversations matching the filter, most recent activity first."""
        return await self._store.list_conversations(flt, limit=limit, cursor=cursor)

    async def get_message(self, message_id: str) -> Message | None:
        """One message."""
        return await self._store.get_message(message_id)

    async def list_messages(
        self, conversation_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> Page[Message]:
        """Messages of a conversation, newest first."""
        return await self._store.list_messages(conversation_id, limit=limit, cursor=cursor)

    async def list_agents(self) -> list[Agent]:
        """All agents."""
        return await self._store.list_agents()


@dataclass(frozen=True, kw_only=True, slots=True)
class ChannelContext:
    """What the hub gives a channel at start: ingest is the only way in."""

    ingest: Callable[[Inbound], Awaitable[IngestResult]]
    # several messages in one store round trip; each gets its result or its error
    ingest_many: Callable[[Sequence[Inbound]], Awaitable[list[IngestResult | HubError]]]
    config: Mapping[str, Any]
    # inbox settings, read when needed; secret settings arrive decrypted
    get_inbox: Callable[[str], Awaitable[Inbox | None]]
    secret_key: bytes  # the hub's secret: sign what the channel hands out (own salt per use)
    subscribe: Subscribe  # live events, e.g. to push a conversation's news to a customer
    reads: ChannelReads
    add_identity: Callable[[str, IdentityKind, str], Awaitable[Identity]]  # do_add_identity
    # do_create_customer with these addresses; Conflict if one already has an owner
    create_customer: Callable[[Sequence[tuple[IdentityKind, str]]], Awaitable[Customer]]
    typing: Callable[[str, bool], Awaitable[None]]  # the customer types in a conversation
    online_agents: Callable[[], frozenset[str]]  # agents online and available now (presence)


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


@runtime_checkable
class DeclaresSettings(Protocol):
    """A channel whose inbox settings include secrets, or that checks its settings on write.

    Secret settings (passwords, signing keys) are stored encrypted, given to the channel
    decrypted by `ChannelContext.get_inbox`, and never shown to people (hub/inbox_settings.py).
    """

    secret_settings: ClassVar[frozenset[str]]

    @staticmethod
    def check_settings(settings: Mapping[str, Any]) -> None:
        """InvalidInput (naming the `field`) for settings this channel cannot use."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PublicRoute:
    """An unauthenticated route under /api (a widget script, a visitor websocket)."""

    method: str
    path: str  # below /api, e.g. /v1/webchat/ws
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]


@runtime_checkable
class ServesPublicRoutes(Protocol):
    """A channel that also serves customers directly, without an agent's token."""

    def public_routes(self) -> Sequence[PublicRoute]:
        """Routes mounted on the main app under /api, outside the API's token check."""

    async def close_connections(self) -> None:
        """Close the customers' open connections (at shutdown, before the server waits for
        its handlers to end; a websocket left open would hold shutdown up)."""


def installed_channels() -> dict[str, type[Channel]]:
    """Every installed channel class, by name."""
    found: dict[str, type[Channel]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        cls = point.load()
        found[cls.name] = cls
    return found
