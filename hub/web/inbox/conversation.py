"""The conversation view: messages (or the customer's whole timeline), controls, sidebar.

GET /inbox/c/{id}                 the page (marks the conversation read)
GET /inbox/c/{id}?timeline=customer  the customer's messages from all channels, in one list
GET /inbox/c/{id}/earlier?cursor=  older messages (a fragment, prepended by inbox.js/htmx)
GET /inbox/m/{message_id}          one message (a fragment, for a live `message.*` event)
GET /inbox/c/{id}/sidebar?<page query>  the customer file (a fragment, for a live
                                   `customer.*` event; the query is the page's own)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from hub.actions import do_mark_read
from hub.actions.mentions import mention_spans
from hub.errors import InvalidInput
from hub.model import Agent, Conversation, Direction, Message, MessageKind, Page, Priority, Status
from hub.web.inbox.access import actions, agent_of, visible_conversation, visible_message
from hub.web.inbox.customers import sidebar_context
from hub.web.inbox.filters import read_query
from hub.web.inbox.listing import Names, colleagues, list_context, load_names
from hub.web.routes import visible_inbox_ids
from hub.web.templating import render

MESSAGES_PAGE = 50
TIMELINE = "customer"


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageView:
    """One message as the page shows it."""

    message: Message
    author: str  # the agent's name, or the customer's name/address
    # a note's text cut at its @mentions: (segment, mentioned agent id or None)
    parts: list[tuple[str, str | None]]
    mentions_me: bool
    elsewhere: bool  # from another conversation (timeline view): links to it


def message_views(
    messages: Iterable[Message], names: Names, me: Agent, customer_name: str | None, current: str
) -> list[MessageView]:
    """Views of messages, oldest first as given."""
    agents = list(names.agents.values())
    views = []
    for m in messages:
        if m.direction == Direction.OUT:
            author_agent = names.agents.get(m.author_id) if m.author_id else None
            author = author_agent.name if author_agent else "Agent"
        else:
            author = customer_name or m.sender or "Customer"
        parts = mention_spans(m.text, agents) if m.kind == MessageKind.NOTE and m.text else []
        views.append(
            MessageView(
                message=m,
                author=author,
                parts=parts,
                mentions_me=any(agent_id == me.id for _, agent_id in parts),
                elsewhere=m.conversation_id != current,
            )
        )
    return views


def _timeline(request: web.Request) -> bool:
    value = request.query.get("timeline", "")
    if value not in ("", TIMELINE):
        raise InvalidInput(f"timeline must be {TIMELINE!r} or empty", field="timeline")
    return value == TIMELINE


async def _messages(
    request: web.Request, conversation: Conversation, *, timeline: bool, cursor: str | None
) -> Page[Message]:
    store = actions(request).store
    if timeline:
        return await store.list_customer_messages(
            conversation.customer_id,
            limit=MESSAGES_PAGE,
            cursor=cursor,
            inbox_ids=await visible_inbox_ids(request),
        )
    return await store.list_messages(conversation.id, limit=MESSAGES_PAGE, cursor=cursor)


def assignable(names: Names, conversation: Conversation) -> list[Agent]:
    """Active agents who can see the conversation's inbox (admins see every inbox)."""
    inbox = names.inboxes.get(conversation.inbox_id)
    team = inbox.team_id if inbox else None
    return sorted(
        (
            a
            for a in names.agents.values()
            if a.active and (a.role == "admin" or team is None or team in a.team_ids)
        ),
        key=lambda a: a.name.lower(),
    )


async def conversation_page(request: web.Request) -> web.StreamResponse:
    """GET /inbox/c/{conversation_id}: the conversation, marked read."""
    last_event_id = actions(request).bus.last_id  # before any read: the socket resumes here
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    timeline = _timeline(request)
    q = read_query(request)
    if conversation.unread_count:
        conversation = await do_mark_read(actions(request), conversation.id)
    names = await load_names(request)
    sidebar = await sidebar_context(request, conversation)
    page = await _messages(request, conversation, timeline=timeline, cursor=None)
    me = agent_of(request)
    customer_name = sidebar["customer"].name
    context: dict[str, Any] = await list_context(request, q, names, current=conversation.id)
    context.update(sidebar)
    context.update(
        conversation=conversation,
        messages=message_views(reversed(page.items), names, me, customer_name, conversation.id),
        earlier_cursor=page.next_cursor,
        timeline=timeline,
        names=names,
        colleagues=colleagues(request, names),
        assignable=assignable(names, conversation),
        statuses=list(Status),
        priorities=list(Priority),
        idempotency_key=f"web:{secrets.token_hex(16)}",
        mention_agents=sorted(
            (a for a in names.agents.values() if a.active and a.id != me.id),
            key=lambda a: a.name.lower(),
        ),
        return_to=request.rel_url.path_qs,
        last_event_id=last_event_id,
    )
    return render(request, "inbox/conversation.html", context)


async def earlier_messages(request: web.Request) -> web.StreamResponse:
    """GET /inbox/c/{conversation_id}/earlier?cursor=: older messages, oldest first."""
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    timeline = _timeline(request)
    cursor = request.query.get("cursor") or None
    page = await _messages(request, conversation, timeline=timeline, cursor=cursor)
    names = await load_names(request)
    customer = await actions(request).store.get_customer(conversation.customer_id)
    context = {
        "conversation": conversation,
        "timeline": timeline,
        "messages": message_views(
            reversed(page.items),
            names,
            agent_of(request),
            customer.name if customer else None,
            conversation.id,
        ),
        "earlier_cursor": page.next_cursor,
    }
    return render(request, "inbox/_messages.html", context)


async def one_message(request: web.Request) -> web.StreamResponse:
    """GET /inbox/m/{message_id}?current=<conversation id>: one message, rendered."""
    message, conversation = await visible_message(request, request.match_info["message_id"])
    names = await load_names(request)
    customer = await actions(request).store.get_customer(message.customer_id)
    current = request.query.get("current") or conversation.id
    views = message_views(
        [message], names, agent_of(request), customer.name if customer else None, current
    )
    return render(request, "inbox/_message.html", {"view": views[0]})


async def sidebar_fragment(request: web.Request) -> web.StreamResponse:
    """GET /inbox/c/{conversation_id}/sidebar?<the page's query>: the customer file alone."""
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    context = await sidebar_context(request, conversation)
    # the page's own path and query, as the page gives them: its forms go back there
    page = request.rel_url.with_path(f"/inbox/c/{conversation.id}", keep_query=True)
    context.update(conversation=conversation, q=read_query(request), return_to=page.path_qs)
    return render(request, "inbox/_sidebar.html", context)


def add_conversation_routes(app: web.Application) -> None:
    """Register the conversation view and its fragments."""
    app.router.add_get("/inbox/c/{conversation_id}", conversation_page, name="conversation")
    app.router.add_get("/inbox/c/{conversation_id}/earlier", earlier_messages)
    app.router.add_get("/inbox/c/{conversation_id}/sidebar", sidebar_fragment)
    app.router.add_get("/inbox/m/{message_id}", one_message)
