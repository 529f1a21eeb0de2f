"""The customer file sidebar: identities, attributes, tags, past conversations, merge/undo.

Every form posts here with `return_to` (the conversation page it came from), is CSRF-checked
by the page middleware, and goes back there (303) with a flash message. Bad input raises a
typed error, which the middleware shows as a 4xx page (or JSON for a script).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from hub.actions import clean_tags, do_merge, do_undo_merge, do_update_customer
from hub.customer_access import Need, Verdict, missing
from hub.errors import InvalidInput
from hub.model import Conversation, Customer
from hub.web.access import customer_access
from hub.web.admin.forms import Form, read_form
from hub.web.flash import flash
from hub.web.inbox.access import actions, agent_of, back

MAX_KEY = 64
MAX_VALUE = 2_000
MERGE_RESULTS = 10


async def sidebar_context(request: web.Request, conversation: Conversation) -> dict[str, Any]:
    """The customer file of a conversation's customer, limited to what the agent may see."""
    store = actions(request).store
    access = await customer_access(request)
    file = await store.customer_file(conversation.customer_id)
    if file is None:
        raise missing(conversation.customer_id)
    visible = access.viewer.inbox_ids
    shown = [c for c in file.conversations if visible is None or c.inbox_id in visible]
    verdict = (await access.verdicts([file.customer.id], Need.TAKE))[file.customer.id]
    can_merge = verdict == Verdict.ALLOW
    live = [m for m in file.merges if m.undone_at is None and m.kept_id == file.customer.id]
    others = await asyncio.gather(*(store.get_customer(m.merged_id) for m in live))
    merge_q = (request.query.get("merge_q") or "").strip()[:200]
    candidates: list[Customer] = []
    if merge_q and can_merge:  # the merge finder offers only customers the agent may merge
        found = await store.list_customers(query=merge_q, limit=MERGE_RESULTS + 1)
        others_found = [c for c in found.items if c.id != file.customer.id]
        candidates = (await access.allowed(others_found, Need.TAKE))[:MERGE_RESULTS]
    return {
        "customer": file.customer,
        "identities": file.identities,
        "customer_conversations": shown,
        "can_merge": can_merge,
        "undoable_merges": [
            (m, o.name if o else m.merged_id) for m, o in zip(live, others, strict=True)
        ]
        if can_merge
        else [],
        "merge_q": merge_q,
        "merge_candidates": candidates,
    }


def _key(form: Form) -> str:
    key = form.get("key").strip()
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"an attribute name is 1-{MAX_KEY} characters", field="key")
    return key


async def edit_attributes(request: web.Request) -> web.StreamResponse:
    """POST /inbox/customers/{customer_id}/attributes: op=set (key, value) or op=remove (key)."""
    customer_id = request.match_info["customer_id"]
    form = await read_form(request)
    key, op = _key(form), form.get("op") or "set"
    if op == "set":
        value = form.get("value").strip()
        if len(value) > MAX_VALUE:
            raise InvalidInput(f"a value has at most {MAX_VALUE} characters", field="value")
        change: dict[str, Any] = {key: value}
        message = f"Saved {key}."
    elif op == "remove":
        change, message = {key: None}, f"Removed {key}."
    else:
        raise InvalidInput("op must be 'set' or 'remove'", field="op")
    await (await customer_access(request)).require(customer_id, Need.EDIT)
    await do_update_customer(actions(request), customer_id, attributes=change)
    response = back(form.get("return_to"), "/inbox")
    flash(request, response, message)
    return response


async def edit_tags(request: web.Request) -> web.StreamResponse:
    """POST /inbox/customers/{customer_id}/tags: add (comma-separated) and/or remove (one)."""
    customer_id = request.match_info["customer_id"]
    form = await read_form(request)
    customer = await (await customer_access(request)).require(customer_id, Need.EDIT)
    added = [t for t in form.get("add").split(",") if t.strip()]
    removed = set(clean_tags([form.get("remove")])) if form.get("remove").strip() else set()
    if not added and not removed:
        raise InvalidInput("give a tag to add or to remove", field="add")
    tags = clean_tags([*(t for t in customer.tags if t not in removed), *added])
    await do_update_customer(actions(request), customer_id, tags=tags)
    response = back(form.get("return_to"), "/inbox")
    flash(request, response, "Tags saved.")
    return response


async def merge_customer(request: web.Request) -> web.StreamResponse:
    """POST /inbox/customers/{customer_id}/merge: merge `other_id` INTO this customer."""
    kept_id = request.match_info["customer_id"]
    form = await read_form(request)
    other_id = form.get("other_id").strip()
    if not other_id:
        raise InvalidInput("pick the customer to merge into this one", field="other_id")
    access = await customer_access(request)
    _, other = await access.require_all([kept_id, other_id], Need.TAKE)
    await do_merge(actions(request), kept_id, other_id, actor_id=agent_of(request).id)
    response = back(form.get("return_to"), "/inbox")
    flash(request, response, f"Merged {other.name or other.id} into this customer.")
    return response


async def undo_merge(request: web.Request) -> web.StreamResponse:
    """POST /inbox/merges/{merge_id}/undo: split the merged customer off again."""
    form = await read_form(request)
    record = await (await customer_access(request)).require_unmerge(request.match_info["merge_id"])
    await do_undo_merge(actions(request), record.id)
    response = back(form.get("return_to"), "/inbox")
    flash(request, response, "Merge undone.")
    return response


def add_customer_routes(app: web.Application) -> None:
    """Register the sidebar's forms."""
    app.router.add_post("/inbox/customers/{customer_id}/attributes", edit_attributes)
    app.router.add_post("/inbox/customers/{customer_id}/tags", edit_tags)
    app.router.add_post("/inbox/customers/{customer_id}/merge", merge_customer)
    app.router.add_post("/inbox/merges/{merge_id}/undo", undo_merge)
