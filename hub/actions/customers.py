"""Customer actions: create, edit, add identities, merge and undo a merge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hub.actions.context import ActionContext
from hub.errors import NotFound
from hub.events import EventType
from hub.identity import normalise_address
from hub.model import Customer, CustomerFile, Identity, IdentityKind, MergeRecord
from hub.store.base import UNSET


def normalise(ctx: ActionContext, kind: IdentityKind, address: str) -> str:
    """An address in canonical form (InvalidAddress with a reason if it is not one)."""
    return normalise_address(kind, address, default_region=ctx.config.identity.default_region)


async def do_create_customer(
    ctx: ActionContext,
    *,
    name: str | None,
    identities: Sequence[tuple[IdentityKind, str]],
    attributes: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> CustomerFile:
    """Create a customer with its addresses; Conflict if one already has an owner."""
    normalised = [(kind, normalise(ctx, kind, address)) for kind, address in identities]
    file = await ctx.store.create_customer(
        name=name,
        attributes=attributes or {},
        tags=list(dict.fromkeys(tags)),
        identities=normalised,
        now=ctx.clock(),
    )
    ctx.bus.publish(EventType.CUSTOMER_CREATED, {"customer": file.customer})
    return file


async def do_update_customer(
    ctx: ActionContext,
    customer_id: str,
    *,
    name: str | None = UNSET,
    attributes: Mapping[str, Any] = UNSET,
    tags: Sequence[str] = UNSET,
) -> Customer:
    """Edit name, attributes (merge-patch: null deletes) or tags."""
    customer = await ctx.store.update_customer(
        customer_id, name=name, attributes=attributes, tags=tags, now=ctx.clock()
    )
    ctx.bus.publish(EventType.CUSTOMER_UPDATED, {"customer": customer})
    return customer


async def do_add_identity(
    ctx: ActionContext, customer_id: str, kind: IdentityKind, address: str
) -> Identity:
    """Attach another address to a customer."""
    identity = await ctx.store.add_identity(
        customer_id, kind, normalise(ctx, kind, address), now=ctx.clock()
    )
    customer = await ctx.store.get_customer(customer_id)
    if customer is not None:
        ctx.bus.publish(EventType.CUSTOMER_UPDATED, {"customer": customer})
    return identity


async def do_merge(
    ctx: ActionContext, kept_id: str, merged_id: str, *, actor_id: str | None
) -> MergeRecord:
    """Merge `merged_id` into `kept_id`; the audit record allows an exact undo."""
    record = await ctx.store.merge_customers(kept_id, merged_id, actor_id=actor_id, now=ctx.clock())
    ctx.bus.publish(EventType.CUSTOMER_MERGED, {"merge": record})
    return record


async def do_undo_merge(ctx: ActionContext, merge_id: str) -> MergeRecord:
    """Undo a merge, restoring both customers as they were."""
    if await ctx.store.get_merge(merge_id) is None:
        raise NotFound(f"merge {merge_id!r} does not exist", code="merge_not_found")
    record = await ctx.store.undo_merge(merge_id, now=ctx.clock())
    ctx.bus.publish(EventType.CUSTOMER_UNMERGED, {"merge": record})
    return record
