"""The admin pages under /admin (agents, teams, inboxes, canned responses, sign-in throttling).

The page middleware (hub/web/page_guard.py) lets only admins in. Every form posts back to
its own URL, is validated server-side (errors next to the field, values kept, status
422), and on success redirects with a flash message (hub/web/admin/forms.py).
"""

from __future__ import annotations

from aiohttp import web

from hub.web.admin.agents import add_agent_routes
from hub.web.admin.canned import add_canned_routes
from hub.web.admin.inboxes import add_inbox_routes
from hub.web.admin.teams import add_team_routes
from hub.web.admin.throttling import add_throttling_routes


async def admin_home(request: web.Request) -> web.StreamResponse:
    """GET /admin: the agents list is the admin's front page."""
    raise web.HTTPFound("/admin/agents")


def add_admin_routes(app: web.Application) -> None:
    """Register every /admin page on the root app."""
    app.router.add_get("/admin", admin_home, name="admin")
    add_agent_routes(app)
    add_team_routes(app)
    add_inbox_routes(app)
    add_canned_routes(app)
    add_throttling_routes(app)
