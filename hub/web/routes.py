"""The API route table: one declaration feeds both aiohttp's router and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from hub.errors import Forbidden
from hub.keys import AGENT_KEY, LOOKUPS_KEY
from hub.model import Agent, Conversation, Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """One API operation; `response` names a component schema ("Page[X]" for pages)."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: str | None = None
    status: int = 200
    replay_status: int | None = None  # an idempotent replay's status (same body schema)
    admin: bool = False
    headers: tuple[str, ...] = ()


def agent_of(request: web.Request) -> Agent:
    """The authenticated agent of an API request."""
    return request[AGENT_KEY]


def require_admin(request: web.Request) -> Agent:
    """The agent, if an admin; else 403 with the reason."""
    agent = agent_of(request)
    if agent.role != Role.ADMIN:
        raise Forbidden("this needs the admin role", code="admin_only")
    return agent


async def visible_inbox_ids(request: web.Request) -> tuple[str, ...] | None:
    """Inboxes the agent may see: admins all (None); agents their teams' and teamless ones."""
    agent = agent_of(request)
    if agent.role == Role.ADMIN:
        return None
    inboxes = await request.config_dict[LOOKUPS_KEY].inboxes()
    return tuple(i.id for i in inboxes if i.team_id is None or i.team_id in agent.team_ids)


async def check_visible(request: web.Request, conversation: Conversation) -> None:
    """403 if the agent's teams do not cover the conversation's inbox."""
    visible = await visible_inbox_ids(request)
    if visible is not None and conversation.inbox_id not in visible:
        raise Forbidden(
            "this conversation belongs to an inbox of a team you are not in",
            code="not_your_team",
        )
