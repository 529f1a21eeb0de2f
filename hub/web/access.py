"""The customer access policy (hub/customer_access.py) for one request's agent."""

from __future__ import annotations

from aiohttp import web

from hub.customer_access import CustomerAccess, CustomerMode, Viewer
from hub.keys import CONFIG_KEY, STORE_KEY
from hub.web.routes import visible_inbox_ids


def customer_mode(request: web.Request) -> CustomerMode:
    """The configured mode (`access.customers`)."""
    return CustomerMode(request.config_dict[CONFIG_KEY].access.customers)


async def customer_access(request: web.Request) -> CustomerAccess:
    """The policy for the request's agent (API token or inbox session alike)."""
    viewer = Viewer.of(await visible_inbox_ids(request))
    return CustomerAccess(request.config_dict[STORE_KEY], customer_mode(request), viewer)
