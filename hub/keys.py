"""Typed application and request keys (no string keys, no module globals)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from hub.actions.context import ActionContext
    from hub.channel import Channel
    from hub.config import HubConfig
    from hub.events import EventBus
    from hub.model import Agent, ApiToken
    from hub.outbox import OutboxDispatcher
    from hub.store.base import Store
    from hub.web.lookups import Lookups

CONFIG_KEY: web.AppKey[HubConfig] = web.AppKey("config")
STORE_KEY: web.AppKey[Store] = web.AppKey("store")
BUS_KEY: web.AppKey[EventBus] = web.AppKey("bus")
ACTIONS_KEY: web.AppKey[ActionContext] = web.AppKey("actions")
CHANNELS_KEY: web.AppKey[dict[str, Channel]] = web.AppKey("channels")
OUTBOX_KEY: web.AppKey[OutboxDispatcher] = web.AppKey("outbox")
LOOKUPS_KEY: web.AppKey[Lookups] = web.AppKey("lookups")
AGENT_KEY: web.RequestKey[Agent] = web.RequestKey("agent")
# the bearer token an API request came with; absent for the pages' session-cookie calls
TOKEN_KEY: web.RequestKey[ApiToken] = web.RequestKey("token")
