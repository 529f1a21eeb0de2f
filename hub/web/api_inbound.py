"""API: inbound messages of the generic API channel, inboxes, agents and the caller."""

from __future__ import annotations

import asyncio

from aiohttp import web

from hub.actions import do_ingest
from hub.actions.ingest import check_inbound
from hub.errors import HubError, InvalidInput, NotFound
from hub.identity import normalise_address
from hub.keys import ACTIONS_KEY, CONFIG_KEY, LOOKUPS_KEY, STORE_KEY
from hub.model import Attachment, Inbound, IngestResult, ThreadHints
from hub.web.jsonio import error_body, json_response, read_json
from hub.web.routes import Route, agent_of, require_admin, visible_inbox_ids
from hub.web.schemas import InboundBatchIn, InboundIn, InboxIn

CHANNEL = "api"


def _inbound(body: InboundIn) -> Inbound:
    return Inbound(
        channel=CHANNEL,
        inbox_id=body.inbox_id,
        provider_id=body.provider_id,
        sender_kind=body.sender.kind,
        sender=body.sender.address,
        sender_name=body.sender.name,
        text=body.text,
        html=body.html,
        subject=body.subject,
        attachments=tuple(
            Attachment(filename=a.filename, content_type=a.content_type, size=a.size, url=a.url)
            for a in body.attachments
        ),
        thread=ThreadHints(
            message_key=body.thread.message_key, references=tuple(body.thread.references)
        ),
        sent_at=body.sent_at,
    )


async def _precheck(request: web.Request, inbound: Inbound) -> None:
    """Everything that can be rejected before a write: address, content, inbox, access."""
    check_inbound(inbound)
    config = request.config_dict[CONFIG_KEY]
    normalise_address(
        inbound.sender_kind, inbound.sender, default_region=config.identity.default_region
    )
    inbox = await request.config_dict[LOOKUPS_KEY].inbox(inbound.inbox_id)
    if inbox is None:
        raise NotFound(f"inbox {inbound.inbox_id!r} does not exist", code="inbox_not_found")
    if inbox.channel != CHANNEL:
        raise InvalidInput(
            f"inbox {inbox.id!r} is a {inbox.channel!r} inbox; the API takes only 'api' inboxes",
            code="channel_mismatch",
        )
    visible = await visible_inbox_ids(request)
    if visible is not None and inbox.id not in visible:
        raise NotFound(f"inbox {inbound.inbox_id!r} does not exist", code="inbox_not_found")


def _ack(result: IngestResult) -> dict[str, object]:
    return {
        "message_id": result.message.id,
        "conversation_id": result.conversation.id,
        "customer_id": result.customer.id,
        "duplicate": result.duplicate,
    }


async def post_inbound(request: web.Request) -> web.Response:
    body = await read_json(
        request, InboundIn, max_bytes=request.config_dict[CONFIG_KEY].server.max_body_bytes
    )
    inbound = _inbound(body)
    await _precheck(request, inbound)
    result = await do_ingest(request.config_dict[ACTIONS_KEY], inbound)  # returns after the commit
    return json_response(_ack(result), status=200 if result.duplicate else 201)


async def post_inbound_batch(request: web.Request) -> web.Response:
    config = request.config_dict[CONFIG_KEY]
    body = await read_json(request, InboundBatchIn, max_bytes=config.server.max_body_bytes)
    if len(body.messages) > config.server.max_inbound_batch:
        raise InvalidInput(
            f"at most {config.server.max_inbound_batch} messages per batch", field="messages"
        )
    inbounds = [_inbound(m) for m in body.messages]
    problems = []
    for index, inbound in enumerate(inbounds):  # all-or-nothing validation before any write
        try:
            await _precheck(request, inbound)
        except HubError as exc:
            problems.append({"index": index, "code": exc.code, "message": exc.message})
    if problems:
        return json_response(
            error_body(
                "validation_failed", "some messages are invalid; none was stored", problems=problems
            ),
            status=422,
        )
    ctx = request.config_dict[ACTIONS_KEY]
    # concurrent ingests share group commits; the response is sent after all are durable
    results = await asyncio.gather(*(do_ingest(ctx, i) for i in inbounds), return_exceptions=True)
    items: list[dict[str, object]] = []
    for result in results:
        if isinstance(result, HubError):
            items.append(error_body(result.code, result.message))
        elif isinstance(result, BaseException):
            raise result
        else:
            items.append(_ack(result))
    return json_response({"items": items})


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
    from channels.base import channel_names

    if body.channel not in channel_names():
        raise InvalidInput(
            f"unknown channel {body.channel!r}; known: {', '.join(channel_names())}",
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
        method="POST",
        path="/v1/inbound",
        handler=post_inbound,
        tag="inbound",
        summary="Ingest one message (generic API channel); 201 stored, 200 duplicate. "
        "The answer comes after the write is durable.",
        body=InboundIn,
        response="IngestAck",
        status=201,
    ),
    Route(
        method="POST",
        path="/v1/inbound/batch",
        handler=post_inbound_batch,
        tag="inbound",
        summary="Ingest up to server.max_inbound_batch messages; validated all-or-nothing",
        body=InboundBatchIn,
        response="IngestBatchAck",
    ),
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
