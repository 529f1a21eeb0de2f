"""The reply box: replies on the conversation's channel, private notes, canned responses.

POST /inbox/c/{id}/reply   text, mode=reply|note, idempotency_key: a reply goes through the
                           outbox (do_reply); a note stays inside (do_note_once, @mentions
                           told); both once per key
GET  /inbox/c/{id}/canned?q=  canned responses whose shortcut starts with q, filled for this
                           conversation's customer and the signed-in agent (plain text)
"""

from __future__ import annotations

from aiohttp import web

from hub.actions import do_reply
from hub.actions.canned import fill_placeholders
from hub.actions.replies import do_note_once
from hub.errors import Conflict, IdempotencyKeyReused, InvalidInput
from hub.model import Agent, CannedResponse, Customer
from hub.web.admin.forms import read_form
from hub.web.inbox.access import actions, agent_of, back, visible_conversation, wants_fragment
from hub.web.inbox.conversation import message_views
from hub.web.inbox.listing import load_names
from hub.web.jsonio import json_response
from hub.web.templating import render

MODES = ("reply", "note")
CANNED_SHOWN = 8


async def post_reply(request: web.Request) -> web.StreamResponse:
    """POST /inbox/c/{conversation_id}/reply: send a reply or add a note."""
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    form = await read_form(request)
    mode = form.get("mode") or "reply"
    if mode not in MODES:
        raise InvalidInput("mode must be 'reply' or 'note'", field="mode")
    text = form.get("text").replace("\r\n", "\n")
    ctx, agent = actions(request), agent_of(request)
    # the page mints one key per form; a double submit stores one reply or note, and the key
    # sent again with another text is a 409 (the message says to check what was stored)
    key = form.get("idempotency_key") or None
    if mode == "note" and not text.strip():
        raise InvalidInput("a note needs text", field="text")
    try:
        if mode == "note":
            note = await do_note_once(
                ctx, conversation.id, author_id=agent.id, text=text, idempotency_key=key
            )
            message, created = note.message, note.created
        else:
            result = await do_reply(
                ctx, conversation.id, author_id=agent.id, text=text, idempotency_key=key
            )
            message, created = result.message, result.created
    except IdempotencyKeyReused as exc:
        # the agent never sees the key: say what happened in the reply box's terms
        raise Conflict(
            "This reply box had already sent a different text (look for it in the"
            " conversation), so this one was not sent. Send it again to send it as a new"
            " message.",
            code=exc.code,
            **exc.details,
        ) from exc
    status = 201 if created else 200
    if not wants_fragment(request):
        return back(form.get("return_to"), f"/inbox/c/{conversation.id}")
    names = await load_names(request)
    customer = await ctx.store.get_customer(conversation.customer_id)
    views = message_views(
        [message], names, agent, customer.name if customer else None, conversation.id
    )
    return render(request, "inbox/_message.html", {"view": views[0]}, status=status)


def placeholder_values(customer: Customer | None, agent: Agent) -> dict[str, str | None]:
    """What canned-response placeholders stand for in this conversation."""
    customer_name = customer.name if customer else None
    return {
        "customer.name": customer_name,
        "customer.first_name": (customer_name or "").split(" ", 1)[0] or None,
        "agent.name": agent.name,
        "agent.first_name": agent.name.split(" ", 1)[0],
    }


def _wanted(canned: CannedResponse, prefix: str) -> bool:
    return not prefix or canned.shortcut.startswith(prefix)


async def canned_suggestions(request: web.Request) -> web.StreamResponse:
    """GET /inbox/c/{conversation_id}/canned?q=: filled canned responses (JSON)."""
    conversation = await visible_conversation(request, request.match_info["conversation_id"])
    prefix = request.query.get("q", "").strip().removeprefix("/").lower()[:32]
    store = actions(request).store
    customer = await store.get_customer(conversation.customer_id)
    values = placeholder_values(customer, agent_of(request))
    items = [
        {
            "shortcut": c.shortcut,
            "title": c.title,
            "text": fill_placeholders(c.body, values),
        }
        for c in await store.list_canned_responses()
        if _wanted(c, prefix)
    ][:CANNED_SHOWN]
    return json_response({"items": items})


def add_compose_routes(app: web.Application) -> None:
    """Register the reply box's routes."""
    app.router.add_post("/inbox/c/{conversation_id}/reply", post_reply)
    app.router.add_get("/inbox/c/{conversation_id}/canned", canned_suggestions)
