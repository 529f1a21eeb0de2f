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
from hub.errors import NotFound
from hub.keys import ACTIONS_KEY, CONFIG_KEY, STORE_KEY
from hub.model import CustomerFile
from hub.store.base import UNSET
from hub.web.jsonio import json_response, read_json, validate
from hub.web.routes import Route, agent_of, visible_inbox_ids
from hub.web.schemas import AddressIn, CustomerCreateIn, CustomerPatchIn, MergeIn, PageQuery


def _max(request: web.Request) -> int:
    return request.config_dict[CONFIG_KEY].server.max_body_bytes


async def _file(request: web.Request, customer_id: str) -> CustomerFile:
    file = await request.config_dict[STORE_KEY].customer_file(customer_id)
    if file is None:
        raise NotFound(f"customer {customer_id!r} does not exist", code="customer_not_found")
    visible = await visible_inbox_ids(request)
    if visible is not None:  # agents see only conversations of their teams' inboxes
        shown = tuple(c for c in file.conversations if c.inbox_id in visible)
        file = CustomerFile(
            customer=file.customer,
            identities=file.identities,
            conversations=shown,
            merges=file.merges,
        )
    return file


async def list_customers(request: web.Request) -> web.Response:
    q = validate(PageQuery, dict(request.query))
    page = await request.config_dict[STORE_KEY].list_customers(
        query=q.q, limit=q.limit, cursor=q.cursor
    )
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def create_customer(request: web.Request) -> web.Response:
    body = await read_json(request, CustomerCreateIn, max_bytes=_max(request))
    file = await do_create_customer(
        request.config_dict[ACTIONS_KEY],
        name=body.name,
        identities=[(i.kind, i.address) for i in body.identities],
        attributes=body.attributes,
        tags=body.tags,
    )
    return json_response(file, status=201)


async def get_customer(request: web.Request) -> web.Response:
    return json_response(await _file(request, request.match_info["customer_id"]))


async def patch_customer(request: web.Request) -> web.Response:
    body = await read_json(request, CustomerPatchIn, max_bytes=_max(request))
    given = body.model_fields_set
    customer = await do_update_customer(
        request.config_dict[ACTIONS_KEY],
        request.match_info["customer_id"],
        name=body.name if "name" in given else UNSET,
        attributes=body.attributes if body.attributes is not None else UNSET,
        tags=body.tags if body.tags is not None else UNSET,
    )
    return json_response(customer)


async def add_identity(request: web.Request) -> web.Response:
    body = await read_json(request, AddressIn, max_bytes=_max(request))
    identity = await do_add_identity(
        request.config_dict[ACTIONS_KEY], request.match_info["customer_id"], body.kind, body.address
    )
    return json_response(identity, status=201)


async def merge(request: web.Request) -> web.Response:
    body = await read_json(request, MergeIn, max_bytes=_max(request))
    record = await do_merge(
        request.config_dict[ACTIONS_KEY],
        request.match_info["customer_id"],
        body.customer_id,
        actor_id=agent_of(request).id,
    )
    return json_response(record, status=201)


async def undo_merge(request: web.Request) -> web.Response:
    record = await do_undo_merge(request.config_dict[ACTIONS_KEY], request.match_info["merge_id"])
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
