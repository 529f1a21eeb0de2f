"""The HTML pages' routes: `/` → /inbox, the inbox (hub/web/inbox/), sign-in, account, admin.

`add_pages(app)` registers them all on the root app (hub/app.py calls it once). The request
already holds the agent (request[AGENT_KEY]) and `visible_inbox_ids(request)`
(hub/web/routes.py) says which inboxes they may see.
"""

from __future__ import annotations

from aiohttp import web

from hub.web.account import add_account_routes
from hub.web.admin import add_admin_routes
from hub.web.auth import add_auth_routes
from hub.web.inbox import add_inbox_routes


async def home(request: web.Request) -> web.StreamResponse:
    """GET /: the inbox is the home page."""
    raise web.HTTPFound("/inbox")


def add_pages(app: web.Application) -> None:
    """Register every HTML page route on the root app."""
    app.router.add_get("/", home, name="home")
    add_inbox_routes(app)
    add_auth_routes(app)
    add_admin_routes(app)
    add_account_routes(app)
