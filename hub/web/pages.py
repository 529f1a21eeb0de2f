"""The HTML pages' routes: `/` → /inbox, the /inbox placeholder, sign-in and the admin.

`add_pages(app)` registers them all on the root app (hub/app.py calls it once). The inbox
pages replace `inbox` below; the request already holds the agent (request[AGENT_KEY]) and
`visible_inbox_ids(request)` (hub/web/routes.py) says which inboxes they may see.
"""

from __future__ import annotations

from aiohttp import web

from hub.keys import LOOKUPS_KEY
from hub.web.admin import add_admin_routes
from hub.web.auth import add_auth_routes
from hub.web.routes import visible_inbox_ids
from hub.web.templating import render


async def home(request: web.Request) -> web.StreamResponse:
    """GET /: the inbox is the home page."""
    raise web.HTTPFound("/inbox")


async def inbox(request: web.Request) -> web.StreamResponse:
    """GET /inbox: placeholder listing the inboxes this agent sees (the inbox pages replace it)."""
    visible = await visible_inbox_ids(request)
    inboxes = [
        i
        for i in await request.config_dict[LOOKUPS_KEY].inboxes()
        if visible is None or i.id in visible
    ]
    return render(request, "inbox/index.html", {"inboxes": inboxes})


def add_pages(app: web.Application) -> None:
    """Register every HTML page route on the root app."""
    app.router.add_get("/", home, name="home")
    app.router.add_get("/inbox", inbox, name="inbox")
    add_auth_routes(app)
    add_admin_routes(app)
