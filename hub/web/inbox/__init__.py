"""The agents' unified inbox: server-rendered pages under /inbox, kept live by /ws.

listing.py      /inbox: the conversation list (filters, counts, search, "load more")
conversation.py /inbox/c/{id}: messages or the customer's whole timeline, message fragments
compose.py      the reply box: replies through the outbox, notes with @mentions, canned
controls.py     status/snooze, priority, assignment/transfer, tags
customers.py    the customer file sidebar: attributes, tags, merge and undo
display.py      channel badges, sanitised email HTML, mention highlighting (jinja filters)

Every conversation is checked against the agent's teams (hub/web/routes.py): another team's
conversation answers 403. The page middleware (hub/web/page_guard.py) signs in and checks
CSRF. Live updates come from hub/web/agent_ws.py; static/inbox.js applies them.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from hub.web.inbox.compose import add_compose_routes
from hub.web.inbox.controls import add_control_routes
from hub.web.inbox.conversation import add_conversation_routes
from hub.web.inbox.customers import add_customer_routes
from hub.web.inbox.display import install_display
from hub.web.inbox.listing import add_listing_routes


def add_inbox_routes(app: web.Application) -> None:
    """Register every /inbox page on the root app (after setup_templates)."""
    install_display(aiohttp_jinja2.get_env(app))
    add_listing_routes(app)
    add_conversation_routes(app)
    add_compose_routes(app)
    add_control_routes(app)
    add_customer_routes(app)
