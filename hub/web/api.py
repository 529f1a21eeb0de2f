"""The /api sub-app: token auth, JSON errors, body limits, and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from aiohttp import web

from hub.config import HubConfig
from hub.web import api_admin, api_conversations, api_customers, api_tokens
from hub.web.jsonio import json_response
from hub.web.middleware import error_middleware, token_middleware
from hub.web.openapi import build_openapi
from hub.web.routes import Route

CORE_ROUTES: list[Route] = [
    *api_customers.ROUTES,
    *api_conversations.ROUTES,
    *api_admin.ROUTES,
    *api_tokens.ROUTES,
]


def _version() -> str:
    try:
        return version("contact-hub")
    except PackageNotFoundError:
        return "0.0.0"


def create_api_app(config: HubConfig, channel_routes: Sequence[Route] = ()) -> web.Application:
    """The API sub-application (mounted at /api by hub.app), with the channels' routes."""
    routes = [*CORE_ROUTES, *channel_routes]
    app = web.Application(
        middlewares=[error_middleware, token_middleware],
        client_max_size=config.server.max_body_bytes,
    )
    document = build_openapi(routes, version=_version())

    async def openapi(_: web.Request) -> web.Response:
        return json_response(document)

    app.router.add_get("/openapi.json", openapi)
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler)
    return app
