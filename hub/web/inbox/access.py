"""What every inbox handler needs: the agent, a conversation they may see, safe redirects."""

from __future__ import annotations

from aiohttp import web

from hub.actions import ActionContext
from hub.errors import NotFound
from hub.keys import ACTIONS_KEY, AGENT_KEY
from hub.model import Agent, Conversation, Message
from hub.web.auth import safe_next
from hub.web.routes import check_visible
from hub.web.templating import see_other

FRAGMENT_HEADER = "X-Hub-Fragment"  # inbox.js asks for an HTML fragment instead of a redirect


def actions(request: web.Request) -> ActionContext:
    """The app's action context."""
    return request.config_dict[ACTIONS_KEY]


def agent_of(request: web.Request) -> Agent:
    """The signed-in agent (the page middleware put it there)."""
    return request[AGENT_KEY]


async def visible_conversation(request: web.Request, conversation_id: str) -> Conversation:
    """The conversation, 404 if there is none, 403 if the agent's teams do not cover it."""
    conversation = await actions(request).store.get_conversation(conversation_id)
    if conversation is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    await check_visible(request, conversation)
    return conversation


async def visible_message(request: web.Request, message_id: str) -> tuple[Message, Conversation]:
    """A message and its conversation, under the same rules as the conversation."""
    message = await actions(request).store.get_message(message_id)
    if message is None:
        raise NotFound(f"message {message_id!r} does not exist", code="message_not_found")
    return message, await visible_conversation(request, message.conversation_id)


def wants_fragment(request: web.Request) -> bool:
    """Whether a script (inbox.js or htmx) asked for HTML to insert, not a whole page."""
    return (
        request.headers.get(FRAGMENT_HEADER) == "1" or request.headers.get("HX-Request") == "true"
    )


def back(return_to: str | None, default: str) -> web.Response:
    """303 to the page the form came from (only a path on this site), else `default`."""
    return see_other(safe_next(return_to, default))
