"""API: inboxes, agents and the caller."""

from __future__ import annotations

from aiohttp import web

from hub.errors import InvalidInput
from hub.keys import ACTIONS_KEY, CHANNELS_KEY, CONFIG_KEY, LOOKUPS_KEY, STORE_KEY
from hub.web.jsonio import json_response, read_json
from hub.web.routes import Route, agent_of, require_admin, visible_inbox_ids
from hub.web.schemas import InboxIn


async def list_inboxes(request: web.Request) -> web.Response:
    visible = await visible_inbox_ids(request)
    inboxes = await request.config_dict[LOOKUPS_KEY].inboxes()
    return json_response(
        {"items": [i for i in inboxes if visible is None or i.id in visible], "next_cursor": None}
    )


async def create_inbox(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(
        request, InboxIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
    )
    channels = request.config_dict[CHANNELS_KEY]
    installed = sorted(channels)
    if body.channel not in installed:
        raise InvalidInput(
            f"unknown channel {body.channel!r}; installed: {', '.join(installed)}",
            field="channel",
        )
    store = request.config_dict[STORE_KEY]
    inbox = await store.create_inbox(
        name=body.name,
        channel=body.channel,
        team_id=body.team_id,
        config=body.config,
        now=request.config_dict[ACTIONS_KEY].clock(),
    )
    request.config_dict[LOOKUPS_KEY].forget()
    return json_response(inbox, status=201)


async def list_agents(request: web.Request) -> web.Response:
    agents = await request.config_dict[STORE_KEY].list_agents()
    return json_response({"items": agents, "next_cursor": None})


async def me(request: web.Request) -> web.Response:
    return json_response(agent_of(request))


ROUTES = [
    Route(
        method="GET",
        path="/v1/inboxes",
        handler=list_inboxes,
        tag="admin",
        summary="Inboxes visible to the caller",
        response="Page[Inbox]",
    ),
    Route(
        method="POST",
        path="/v1/inboxes",
        handler=create_inbox,
        tag="admin",
        summary="Create an inbox (admin)",
        body=InboxIn,
        response="Inbox",
        status=201,
        admin=True,
    ),
    Route(
        method="GET",
        path="/v1/agents",
        handler=list_agents,
        tag="admin",
        summary="All agents",
        response="Page[Agent]",
    ),
    Route(
        method="GET",
        path="/v1/me",
        handler=me,
        tag="admin",
        summary="The agent the token belongs to",
        response="Agent",
    ),
]
