"""API: inboxes, agents and the caller."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.actions import do_create_inbox, do_update_inbox
from hub.actions.admin import inbox_settings
from hub.errors import InvalidInput, NotFound
from hub.keys import ACTIONS_KEY, CHANNELS_KEY, CONFIG_KEY, LOOKUPS_KEY, STORE_KEY
from hub.web.jsonio import json_response, read_json
from hub.web.routes import Route, agent_of, require_admin, visible_inbox_ids
from hub.web.schemas import InboxIn, InboxPatchIn


async def list_inboxes(request: web.Request) -> web.Response:
    visible = await visible_inbox_ids(request)
    inboxes = await request.config_dict[LOOKUPS_KEY].inboxes()
    settings = inbox_settings(request.config_dict[ACTIONS_KEY])
    # secrets: left out for agents, only set/not set for admins (visible None: an admin)
    items = [
        settings.redacted(i, admin=visible is None)
        for i in inboxes
        if visible is None or i.id in visible
    ]
    return json_response({"items": items, "next_cursor": None})


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
    ctx = request.config_dict[ACTIONS_KEY]
    inbox = await do_create_inbox(
        ctx, name=body.name, channel=body.channel, team_id=body.team_id, config=body.config
    )
    request.config_dict[LOOKUPS_KEY].forget()
    return json_response(inbox_settings(ctx).redacted(inbox, admin=True), status=201)


async def update_inbox(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(
        request, InboxPatchIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
    )
    inbox_id = request.match_info["inbox_id"]
    ctx = request.config_dict[ACTIONS_KEY]
    if await ctx.store.get_inbox(inbox_id) is None:
        raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
    changes: dict[str, Any] = {}
    if body.name is not None:
        changes["name"] = body.name
    if "team_id" in body.model_fields_set:
        changes["team_id"] = body.team_id
    if body.config is not None:
        changes["config"] = body.config
    inbox = await do_update_inbox(ctx, inbox_id, **changes)
    request.config_dict[LOOKUPS_KEY].forget()
    return json_response(inbox_settings(ctx).redacted(inbox, admin=True))


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
        summary="Inboxes visible to the caller; secret settings are left out (admins: only "
        '{"set": true|false})',
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
        method="PATCH",
        path="/v1/inboxes/{inbox_id}",
        handler=update_inbox,
        tag="admin",
        summary="Edit an inbox (admin): name, team, settings. A secret setting is replaced by "
        "a string, cleared by null, and kept when left out; it is never shown.",
        body=InboxPatchIn,
        response="Inbox",
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
