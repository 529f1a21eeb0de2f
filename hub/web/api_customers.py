"""API: customers, their file (identities, conversations, merges), merge and undo."""

from __future__ import annotations

from aiohttp import web

from hub.actions import (
    do_add_identity,
    do_create_customer,
    do_merge,
    do_undo_merge,
    do_update_customer,
)
from hub.actions.customers import normalise
from hub.customer_access import CustomerAccess, Need, Verdict, missing
from hub.errors import Conflict, Forbidden
from hub.keys import ACTIONS_KEY, CONFIG_KEY, STORE_KEY
from hub.model import CustomerFile, IdentityKind
from hub.store.base import UNSET
from hub.web.access import customer_access
from hub.web.jsonio import json_response, read_json, validate
from hub.web.routes import Route, agent_of
from hub.web.schemas import AddressIn, CustomerCreateIn, CustomerPatchIn, MergeIn, PageQuery


def _max(request: web.Request) -> int:
    return request.config_dict[CONFIG_KEY].server.max_body_bytes


async def list_customers(request: web.Request) -> web.Response:
    q = validate(PageQuery, dict(request.query))
    access = await customer_access(request)
    items, next_cursor = await access.list_customers(query=q.q, limit=q.limit, cursor=q.cursor)
    return json_response({"items": items, "next_cursor": next_cursor})


async def _hide_owner(access: CustomerAccess, error: Conflict) -> Conflict:
    """The address's owner is named only to an agent who may read that customer."""
    owner = error.details.get("customer_id")
    if not isinstance(owner, str):
        return error
    if (await access.verdicts([owner], Need.READ))[owner] == Verdict.ALLOW:
        return error
    return Conflict("that address already belongs to another customer", code=error.code)


async def create_customer(request: web.Request) -> web.Response:
    body = await read_json(request, CustomerCreateIn, max_bytes=_max(request))
    try:
        file = await do_create_customer(
            request.config_dict[ACTIONS_KEY],
            name=body.name,
            identities=[(i.kind, i.address) for i in body.identities],
            attributes=body.attributes,
            tags=body.tags,
        )
    except Conflict as error:
        raise await _hide_owner(await customer_access(request), error) from None
    return json_response(file, status=201)


async def get_customer(request: web.Request) -> web.Response:
    access = await customer_access(request)
    customer = await access.require(request.match_info["customer_id"], Need.READ)
    file = await request.config_dict[STORE_KEY].customer_file(customer.id)
    if file is None:  # merged away and gone between the two reads
        raise missing(customer.id)
    visible = access.viewer.inbox_ids
    if visible is not None:  # the profile is shared; conversations only the agent's own
        shown = tuple(c for c in file.conversations if c.inbox_id in visible)
        file = CustomerFile(
            customer=file.customer,
            identities=file.identities,
            conversations=shown,
            merges=await access.shown_merges(customer.id, file.merges),
        )
    return json_response(file)


async def patch_customer(request: web.Request) -> web.Response:
    body = await read_json(request, CustomerPatchIn, max_bytes=_max(request))
    access = await customer_access(request)
    customer = await access.require(request.match_info["customer_id"], Need.EDIT)
    given = body.model_fields_set
    customer = await do_update_customer(
        request.config_dict[ACTIONS_KEY],
        customer.id,
        name=body.name if "name" in given else UNSET,
        attributes=body.attributes if body.attributes is not None else UNSET,
        tags=body.tags if body.tags is not None else UNSET,
    )
    return json_response(customer)


async def check_new_address(
    request: web.Request, access: CustomerAccess, customer_id: str, kind: IdentityKind, raw: str
) -> None:
    """403 if the address belongs to another customer whom the agent may not take it from
    (that customer unnamed); the store then answers 409 with the owner to those who may."""
    ctx = request.config_dict[ACTIONS_KEY]
    owner = await ctx.store.find_identity(kind, normalise(ctx, kind, raw))
    if owner is None or owner.customer_id == customer_id:
        return
    verdicts = await access.verdicts([customer_id, owner.customer_id], Need.TAKE)
    if any(v != Verdict.ALLOW for v in verdicts.values()):
        raise Forbidden(
            "this address belongs to another customer; moving it needs an admin, or an agent"
            " who sees every conversation of both customers",
            code="customer_not_yours",
        )


async def add_identity(request: web.Request) -> web.Response:
    body = await read_json(request, AddressIn, max_bytes=_max(request))
    access = await customer_access(request)
    customer = await access.require(request.match_info["customer_id"], Need.EDIT)
    await check_new_address(request, access, customer.id, body.kind, body.address)
    identity = await do_add_identity(
        request.config_dict[ACTIONS_KEY], customer.id, body.kind, body.address
    )
    return json_response(identity, status=201)


async def merge(request: web.Request) -> web.Response:
    body = await read_json(request, MergeIn, max_bytes=_max(request))
    access = await customer_access(request)
    kept_id = request.match_info["customer_id"]
    await access.require_all([kept_id, body.customer_id], Need.TAKE)
    record = await do_merge(
        request.config_dict[ACTIONS_KEY],
        kept_id,
        body.customer_id,
        actor_id=agent_of(request).id,
    )
    return json_response(record, status=201)


async def undo_merge(request: web.Request) -> web.Response:
    access = await customer_access(request)
    record = await access.require_unmerge(request.match_info["merge_id"])
    record = await do_undo_merge(request.config_dict[ACTIONS_KEY], record.id)
    return json_response(record)


ROUTES = [
    Route(
        method="GET",
        path="/v1/customers",
        handler=list_customers,
        tag="customers",
        summary="List or search customers (q matches name or any address)",
        query=PageQuery,
        response="Page[Customer]",
    ),
    Route(
        method="POST",
        path="/v1/customers",
        handler=create_customer,
        tag="customers",
        summary="Create a customer with addresses",
        body=CustomerCreateIn,
        response="CustomerFile",
        status=201,
    ),
    Route(
        method="GET",
        path="/v1/customers/{customer_id}",
        handler=get_customer,
        tag="customers",
        summary="The customer file: identities, conversations, merges",
        response="CustomerFile",
    ),
    Route(
        method="PATCH",
        path="/v1/customers/{customer_id}",
        handler=patch_customer,
        tag="customers",
        summary="Edit name, attributes (merge patch) or tags",
        body=CustomerPatchIn,
        response="Customer",
    ),
    Route(
        method="POST",
        path="/v1/customers/{customer_id}/identities",
        handler=add_identity,
        tag="customers",
        summary="Add an address (email, phone, xmpp, visitor)",
        body=AddressIn,
        response="Identity",
        status=201,
    ),
    Route(
        method="POST",
        path="/v1/customers/{customer_id}/merge",
        handler=merge,
        tag="customers",
        summary="Merge another customer into this one (undoable)",
        body=MergeIn,
        response="MergeRecord",
        status=201,
    ),
    Route(
        method="POST",
        path="/v1/merges/{merge_id}/undo",
        handler=undo_merge,
        tag="customers",
        summary="Undo a merge, restoring both customers",
        response="MergeRecord",
    ),
]
