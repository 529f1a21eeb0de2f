"""The app factory: the one place the store, bus, actions, outbox and channels are wired."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web

from hub.actions import (
    ActionContext,
    do_add_identity,
    do_create_customer,
    do_ingest,
    do_ingest_many,
    do_typing,
    do_wake_snoozed,
    wire_presence,
)
from hub.actions.admin import inbox_settings
from hub.actions.inbox_secrets import do_seal_plaintext_secrets
from hub.channel import (
    Channel,
    ChannelContext,
    ChannelReads,
    ServesPublicRoutes,
    installed_channels,
)
from hub.config import HubConfig
from hub.errors import HubError
from hub.events import EventBus
from hub.inbox_settings import InboxSettings
from hub.keys import (
    ACTIONS_KEY,
    BUS_KEY,
    CHANNELS_KEY,
    CONFIG_KEY,
    LOOKUPS_KEY,
    OUTBOX_KEY,
    STORE_KEY,
)
from hub.model import Customer, Identity, IdentityKind, Inbound, Inbox, IngestResult
from hub.outbox import OutboxDispatcher
from hub.routing import RoundRobinSelector
from hub.secret_key import load_secret_key
from hub.store import create_store
from hub.store.urls import redact_url
from hub.web.agent_ws import add_agent_ws
from hub.web.api import create_api_app
from hub.web.bad_requests import server_handler_args
from hub.web.jsonio import json_response
from hub.web.lookups import Lookups
from hub.web.middleware import error_middleware
from hub.web.page_guard import page_middleware, security_headers
from hub.web.pages import add_pages
from hub.web.ratelimit import LOGIN_THROTTLE_KEY, LoginThrottle
from hub.web.templating import setup_templates

log = logging.getLogger(__name__)
SNOOZE_TICK_SECONDS = 5.0
SECRET_KEY_KEY = web.AppKey("secret_key", bytes)  # the hub secret, loaded once per app


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    store = create_store(
        config.store.url,
        synchronous=config.store.synchronous,
        batch_max=config.store.batch_max,
        connect_timeout=config.store.connect_timeout_seconds,
    )
    await store.open()
    log.info("store open: %s (%s)", redact_url(config.store.url), store.backend)
    app[STORE_KEY] = store
    yield
    await store.close()


async def _core_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG_KEY]
    bus = EventBus(queue_size=config.events.queue_size, replay_size=config.events.replay_size)
    store = app[STORE_KEY]
    assigner = RoundRobinSelector(store) if config.routing.policy == "round_robin" else None
    ctx = ActionContext(store=store, bus=bus, config=config, assigner=assigner)
    # one hub secret for the process (an in-memory hub without one draws it once, here)
    app[SECRET_KEY_KEY] = load_secret_key(config)
    channels = app[CHANNELS_KEY]
    ctx.inbox_settings = InboxSettings.for_channels(app[SECRET_KEY_KEY], channels)
    # secrets stored in plain text by an older release are encrypted before anything reads them
    sealed = await do_seal_plaintext_secrets(ctx)
    if sealed:
        log.info("encrypted the secret settings of %d inbox(es) stored in plain text", sealed)
    app[BUS_KEY] = bus
    app[ACTIONS_KEY] = ctx
    app[LOOKUPS_KEY] = Lookups(store)
    yield
    bus.close()


async def _channels_ctx(app: web.Application) -> AsyncIterator[None]:
    ctx = app[ACTIONS_KEY]
    store = app[STORE_KEY]

    async def ingest(inbound: Inbound) -> IngestResult:
        return await do_ingest(ctx, inbound)

    async def ingest_many(inbounds: Sequence[Inbound]) -> list[IngestResult | HubError]:
        return await do_ingest_many(ctx, inbounds)

    async def add_identity(customer_id: str, kind: IdentityKind, address: str) -> Identity:
        return await do_add_identity(ctx, customer_id, kind, address)

    async def create_customer(identities: Sequence[tuple[IdentityKind, str]]) -> Customer:
        return (await do_create_customer(ctx, name=None, identities=identities)).customer

    async def typing(conversation_id: str, is_typing: bool) -> None:
        await do_typing(ctx, conversation_id, typing=is_typing)

    # presence starts with the channels: the web chat is its first reader (offline mode)
    wire_presence(ctx, grace_seconds=app[CONFIG_KEY].presence.offline_grace_seconds)
    secret_key = app[SECRET_KEY_KEY]
    reads = ChannelReads(store)
    settings = inbox_settings(ctx)

    async def get_inbox(inbox_id: str) -> Inbox | None:
        # the one place channels read inbox settings: secrets arrive decrypted
        inbox = await store.get_inbox(inbox_id)
        return settings.reveal(inbox) if inbox is not None else None

    channels = app[CHANNELS_KEY]
    for channel in channels.values():
        await channel.start(
            ChannelContext(
                ingest=ingest,
                ingest_many=ingest_many,
                config=dict(channel.default_config),
                get_inbox=get_inbox,
                secret_key=secret_key,
                subscribe=ctx.bus.subscribe,
                reads=reads,
                add_identity=add_identity,
                create_customer=create_customer,
                typing=typing,
                online_agents=ctx.presence.online_agents,
            )
        )
    dispatcher = OutboxDispatcher(ctx, channels)
    ctx.wake_outbox = dispatcher.wake
    app[OUTBOX_KEY] = dispatcher
    await dispatcher.start()
    yield
    await dispatcher.stop()
    for channel in channels.values():
        await channel.stop()
    ctx.presence.close()


async def _snooze_ctx(app: web.Application) -> AsyncIterator[None]:
    """Reopen snoozed conversations when their time comes (checked every few seconds)."""
    ctx = app[ACTIONS_KEY]

    async def loop() -> None:
        while True:
            try:
                await do_wake_snoozed(ctx)
            except Exception:  # a failed round is retried on the next tick
                log.exception("waking snoozed conversations failed")
            await asyncio.sleep(SNOOZE_TICK_SECONDS)

    task = asyncio.get_running_loop().create_task(loop(), name="snooze-waker")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def healthz(request: web.Request) -> web.Response:
    """Liveness plus a cheap store read."""
    store = request.app[STORE_KEY]
    return json_response(
        {"status": "ok", "store": store.backend, "schema": await store.schema_version()}
    )


def create_app(config: HubConfig) -> web.Application:
    """Build the hub's aiohttp application from a config."""
    app = web.Application(
        middlewares=[error_middleware, page_middleware],
        client_max_size=config.server.max_body_bytes,
        handler_args=server_handler_args(),  # malformed requests: one warning line, rate-limited
    )
    app[CONFIG_KEY] = config
    app[LOGIN_THROTTLE_KEY] = LoginThrottle.from_config(config.auth)
    setup_templates(app)  # jinja2 + /static
    app.on_response_prepare.append(security_headers)
    # built now (routes must exist before the app freezes), started in _channels_ctx
    channels = build_channels()
    app[CHANNELS_KEY] = channels
    app.cleanup_ctx.extend([_store_ctx, _core_ctx, _channels_ctx, _snooze_ctx])
    app.router.add_get("/healthz", healthz)
    add_pages(app)  # /, /login, /logout, /inbox, /admin/...
    add_agent_ws(app)  # /ws: the inbox pages' live events, typing and presence
    channel_routes = [route for channel in channels.values() for route in channel.routes()]
    app.add_subapp("/api", create_api_app(config, channel_routes))
    # a channel's public routes (widget script, visitor websocket) sit on the main app: the
    # router prefers the longer path to the /api sub-app, whose token check they must skip
    for channel in channels.values():
        if isinstance(channel, ServesPublicRoutes):
            for public in channel.public_routes():
                app.router.add_route(public.method, "/api" + public.path, public.handler)
            app.on_shutdown.append(_connections_closer(channel))
    return app


def _connections_closer(
    channel: ServesPublicRoutes,
) -> Callable[[web.Application], Awaitable[None]]:
    async def close(_: web.Application) -> None:
        await channel.close_connections()

    return close


def build_channels() -> dict[str, Channel]:
    """One instance of every installed channel, by name (not yet started)."""
    return {name: cls() for name, cls in installed_channels().items()}
