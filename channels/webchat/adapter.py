"""WebchatChannel: the website chat widget, its visitor websocket, and live agent replies."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from cachetools import TTLCache

from channels.webchat.config import SECRET_SETTINGS, WebchatInboxConfig, check_settings
from channels.webchat.connection import close_all, serve_visitor
from channels.webchat.fanout import VisitorRegistry
from channels.webchat.limits import BucketTable, ConnectionSlots
from channels.webchat.pages import StaticPages
from channels.webchat.parse import CHANNEL
from channels.webchat.socket import VisitorSession
from channels.webchat.status import StatusBoard
from channels.webchat.tokens import VisitorTokens
from hub.channel import ChannelContext, ChannelReads, PublicRoute
from hub.errors import Forbidden, HubError, NotFound, SendError, StoreUnavailable
from hub.model import (
    Customer,
    DeliveryStatus,
    Identity,
    IdentityKind,
    Inbound,
    Inbox,
    IngestResult,
    MessageKind,
    Outbound,
    Receipt,
)
from hub.web.routes import Route

INBOX_TTL = 5.0  # seconds an inbox's settings are cached (every connection reads them)


class ChatUnavailable(HubError):
    """The inbox's web-chat settings are invalid; the site owner must fix them."""

    code = "chat_unavailable"
    status = 503


@dataclass(kw_only=True, slots=True)
class WebchatRuntime:
    """What a visitor connection uses, built once the channel starts."""

    ingest: Callable[[Inbound], Awaitable[IngestResult]]
    reads: ChannelReads
    add_identity: Callable[[str, IdentityKind, str], Awaitable[Identity]]
    create_customer: Callable[[Sequence[tuple[IdentityKind, str]]], Awaitable[Customer]]
    typing: Callable[[str, bool], Awaitable[None]]
    secret_key: bytes
    tokens: VisitorTokens
    limits: BucketTable
    board: StatusBoard
    registry: VisitorRegistry
    heartbeat_seconds: float | None
    sessions: set[VisitorSession] = field(default_factory=set)
    slots: ConnectionSlots = field(default_factory=ConnectionSlots)  # open sockets per address


class WebchatChannel:
    """Serves the widget and its websocket; replies are pushed to the visitor's open tabs."""

    name: ClassVar[str] = CHANNEL
    default_config: ClassVar[Mapping[str, Any]] = {"heartbeat_seconds": 25.0}
    secret_settings: ClassVar[frozenset[str]] = SECRET_SETTINGS
    check_settings = staticmethod(check_settings)

    def __init__(self) -> None:
        self._ctx: ChannelContext | None = None
        self._rt: WebchatRuntime | None = None
        self._router: asyncio.Task[None] | None = None
        self._pages = StaticPages()
        self._inboxes: TTLCache[str, tuple[Inbox, WebchatInboxConfig]] = TTLCache(10_000, INBOX_TTL)

    def routes(self) -> Sequence[Route]:
        return []  # everything the web chat serves is public (see public_routes)

    def public_routes(self) -> Sequence[PublicRoute]:
        """The widget script, a demo host page, and the visitor websocket."""
        return [
            PublicRoute(method="GET", path="/v1/webchat/widget.js", handler=self._pages.widget),
            PublicRoute(method="GET", path="/v1/webchat/demo", handler=self._pages.demo),
            PublicRoute(method="GET", path="/v1/webchat/ws", handler=self._socket),
        ]

    @property
    def runtime(self) -> WebchatRuntime:
        """The started channel's runtime (StoreUnavailable before start)."""
        if self._rt is None:
            raise StoreUnavailable("the web chat is not started")
        return self._rt

    async def start(self, ctx: ChannelContext) -> None:
        self._ctx = ctx
        board = StatusBoard(ctx.reads, ctx.online_agents)
        heartbeat = ctx.config.get("heartbeat_seconds", 25.0)
        self._rt = WebchatRuntime(
            ingest=ctx.ingest,
            reads=ctx.reads,
            add_identity=ctx.add_identity,
            create_customer=ctx.create_customer,
            typing=ctx.typing,
            secret_key=ctx.secret_key,
            tokens=VisitorTokens(ctx.secret_key),
            limits=BucketTable(),
            board=board,
            registry=VisitorRegistry(board),
            heartbeat_seconds=float(heartbeat) if heartbeat else None,
        )
        self._router = asyncio.get_running_loop().create_task(
            self._rt.registry.run(ctx.subscribe), name="webchat-fanout"
        )

    async def close_connections(self) -> None:
        """Close every visitor socket (shutdown); widgets reconnect with backoff and resume."""
        if self._rt is not None:
            await close_all(self._rt.sessions)

    async def stop(self) -> None:
        if self._rt is not None:
            await close_all(self._rt.sessions)
            await self._rt.registry.close()
        if self._router is not None:
            self._router.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._router
            self._router = None

    async def send(self, outbound: Outbound) -> Receipt:
        rt = self.runtime
        if outbound.recipient_kind != IdentityKind.VISITOR:
            raise SendError(
                f"a web-chat reply needs a visitor address, not {outbound.recipient_kind.value}",
                permanent=True,
            )
        message = await rt.reads.get_message(outbound.message_id)
        if message is None or message.kind != MessageKind.MESSAGE:
            raise SendError("the message to send is gone", permanent=True)
        author = await rt.board.agent_name(message.author_id)
        # visitors offline now get it from the store when they resume: it is sent either way
        rt.registry.push_message(outbound.recipient, message, author)
        return Receipt(provider_id=f"webchat:{message.id}", status=DeliveryStatus.SENT)

    async def inbox(self, inbox_id: str | None) -> tuple[Inbox, WebchatInboxConfig]:
        """A web-chat inbox and its settings; NotFound for anything else."""
        if not inbox_id or len(inbox_id) > 64:
            raise NotFound("no such chat: pass ?inbox=<inbox id>", code="inbox_not_found")
        found = self._inboxes.get(inbox_id)
        if found is None:
            if self._ctx is None:
                raise StoreUnavailable("the web chat is not started")
            inbox = await self._ctx.get_inbox(inbox_id)
            if inbox is None or inbox.channel != CHANNEL:
                raise NotFound(f"no web chat {inbox_id!r}", code="inbox_not_found")
            try:
                config = WebchatInboxConfig.parse(inbox.config)
            except HubError as exc:
                raise ChatUnavailable(f"this chat is misconfigured: {exc.message}") from None
            found = self._inboxes[inbox_id] = (inbox, config)
        return found

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        inbox, config = await self.inbox(request.query.get("inbox"))
        origin = request.headers.get("Origin", "").rstrip("/")
        if config.allowed_origins and origin not in config.allowed_origins:
            raise Forbidden(f"this chat is not enabled on {origin or 'this page'}", code="origin")
        return await serve_visitor(self.runtime, request, inbox, config)
