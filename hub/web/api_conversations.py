"""API: conversations, their messages, replies and notes, and search."""

from __future__ import annotations

from aiohttp import web

from hub.actions import (
    clean_tags,
    do_assign,
    do_mark_read,
    do_reply,
    do_set_priority,
    do_set_status,
    do_tag,
)
from hub.actions.replies import do_note_once
from hub.errors import InvalidInput, NotFound
from hub.keys import ACTIONS_KEY, CONFIG_KEY, STORE_KEY
from hub.model import Conversation, ConversationFilter, Status
from hub.web.access import customer_access
from hub.web.jsonio import json_response, read_json, validate
from hub.web.routes import Route, agent_of, check_visible, visible_inbox_ids
from hub.web.schemas import (
    ConversationPatchIn,
    ConversationQuery,
    MessageIn,
    PageQuery,
    SearchQuery,
)


async def _visible_conversation(request: web.Request) -> Conversation:
    conversation_id = request.match_info["conversation_id"]
    conversation = await request.config_dict[STORE_KEY].get_conversation(conversation_id)
    if conversation is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    await check_visible(request, conversation)
    return conversation


async def list_conversations(request: web.Request) -> web.Response:
    q = validate(ConversationQuery, dict(request.query))
    agent = agent_of(request)
    visible = await visible_inbox_ids(request)
    assignee = q.assignee
    flt = ConversationFilter(
        status=q.status,
        assignee_id=agent.id
        if assignee == "me"
        else (None if assignee in (None, "none") else assignee),
        unassigned=assignee == "none",
        inbox_id=q.inbox,
        inbox_ids=visible,
        team_id=q.team,
        tag=q.tag.lower() if q.tag else None,
        customer_id=q.customer,
        channel=q.channel,
    )
    page = await request.config_dict[STORE_KEY].list_conversations(
        flt, limit=q.limit, cursor=q.cursor
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def get_conversation(request: web.Request) -> web.Response:
    return json_response(await _visible_conversation(request))


async def patch_conversation(request: web.Request) -> web.Response:
    body = await read_json(
        request,
        ConversationPatchIn,
        max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes,
    )
    conversation = await _visible_conversation(request)
    if body.unassign and body.assignee_id is not None:
        raise InvalidInput("give either assignee_id or unassign, not both")
    if body.tags is not None and (body.add_tags or body.remove_tags):
        raise InvalidInput("give either tags (replace) or add_tags/remove_tags, not both")
    if body.snoozed_until is not None and body.status != Status.SNOOZED:
        raise InvalidInput("snoozed_until needs status 'snoozed'", field="snoozed_until")
    ctx = request.config_dict[ACTIONS_KEY]
    cid = conversation.id
    # validate everything that can be validated before the first write
    if body.assignee_id is not None and await ctx.store.get_agent(body.assignee_id) is None:
        raise NotFound(f"agent {body.assignee_id!r} does not exist", code="agent_not_found")
    if body.team_id is not None and body.team_id not in {
        t.id for t in await ctx.store.list_teams()
    }:
        raise NotFound(f"team {body.team_id!r} does not exist", code="team_not_found")
    clean_tags([*(body.tags or []), *body.add_tags, *body.remove_tags])
    if body.status == Status.SNOOZED and body.snoozed_until is None:
        raise InvalidInput("status 'snoozed' needs snoozed_until", field="snoozed_until")
    if body.status is not None:
        conversation = await do_set_status(ctx, cid, body.status, snoozed_until=body.snoozed_until)
    if body.priority is not None:
        conversation = await do_set_priority(ctx, cid, body.priority)
    if body.assignee_id is not None or body.unassign or body.team_id is not None:
        # a team-only transfer keeps the current assignee
        agent_id = None if body.unassign else (body.assignee_id or conversation.assignee_id)
        conversation = await do_assign(ctx, cid, agent_id=agent_id, team_id=body.team_id)
    if body.tags is not None or body.add_tags or body.remove_tags:
        conversation = await do_tag(
            ctx, cid, add=body.add_tags, remove=body.remove_tags, replace=body.tags
        )
    if body.mark_read:
        conversation = await do_mark_read(ctx, cid)
    return json_response(conversation)


async def list_messages(request: web.Request) -> web.Response:
    q = validate(PageQuery, dict(request.query))
    conversation = await _visible_conversation(request)
    page = await request.config_dict[STORE_KEY].list_messages(
        conversation.id, limit=q.limit, cursor=q.cursor
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def post_message(request: web.Request) -> web.Response:
    body = await read_json(
        request, MessageIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
    )
    conversation = await _visible_conversation(request)
    ctx = request.config_dict[ACTIONS_KEY]
    agent = agent_of(request)
    # the key is the agent's own (not the token's): any of their tokens may retry a request
    key = request.headers.get("Idempotency-Key")
    if body.kind == "note":
        if not body.text or body.html:
            raise InvalidInput("a note needs text (and no html)", field="text")
        note = await do_note_once(
            ctx, conversation.id, author_id=agent.id, text=body.text, idempotency_key=key
        )
        return json_response(note.message, status=201 if note.created else 200)
    result = await do_reply(
        ctx,
        conversation.id,
        author_id=agent.id,
        text=body.text,
        html=body.html,
        idempotency_key=key,
    )
    return json_response(result.message, status=201 if result.created else 200)


async def search(request: web.Request) -> web.Response:
    q = validate(SearchQuery, dict(request.query))
    # only messages of conversations the agent sees, whatever the customer access mode
    viewer = (await customer_access(request)).viewer
    found = await request.config_dict[STORE_KEY].search_messages(
        q.q, limit=q.limit, inbox_ids=viewer.scope
    )
    return json_response({"items": found, "next_cursor": None})


ROUTES = [
    Route(
        method="GET",
        path="/v1/conversations",
        handler=list_conversations,
        tag="conversations",
        summary="List conversations; filters: status, assignee (me, none, id), inbox, team,"
        " tag, channel, customer",
        query=ConversationQuery,
        response="Page[Conversation]",
    ),
    Route(
        method="GET",
        path="/v1/conversations/{conversation_id}",
        handler=get_conversation,
        tag="conversations",
        summary="Get a conversation",
        response="Conversation",
    ),
    Route(
        method="PATCH",
        path="/v1/conversations/{conversation_id}",
        handler=patch_conversation,
        tag="conversations",
        summary="Change status, snooze, priority, assignee, team or tags",
        body=ConversationPatchIn,
        response="Conversation",
    ),
    Route(
        method="GET",
        path="/v1/conversations/{conversation_id}/messages",
        handler=list_messages,
        tag="conversations",
        summary="Messages, newest first (keyset paged)",
        query=PageQuery,
        response="Page[Message]",
    ),
    Route(
        method="POST",
        path="/v1/conversations/{conversation_id}/messages",
        handler=post_message,
        tag="conversations",
        summary="Reply on the conversation's channel, or add a private note. An"
        " Idempotency-Key is the agent's own: a replay answers the original message (200);"
        " the key reused on another conversation or with another body is a 409"
        " idempotency_key_reused",
        body=MessageIn,
        response="Message",
        status=201,
        replay_status=200,
        headers=("Idempotency-Key",),
    ),
    Route(
        method="GET",
        path="/v1/search",
        handler=search,
        tag="search",
        summary="Full-text search over messages",
        query=SearchQuery,
        response="Page[Message]",
    ),
]
