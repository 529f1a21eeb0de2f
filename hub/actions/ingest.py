"""do_ingest: the one entry point for inbound customer messages from every channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from hub.actions.context import ActionContext
from hub.actions.conversations import auto_assign
from hub.errors import HubError, InvalidInput
from hub.events import EventType
from hub.identity import normalise_address
from hub.model import Inbound, IngestResult
from hub.store.base import IngestRequest

MAX_TEXT = 65_536
MAX_HTML = 1_048_576


def check_inbound(inbound: Inbound) -> None:
    """Reject an inbound that cannot be stored, with the reason."""
    if not inbound.provider_id or len(inbound.provider_id) > 512:
        raise InvalidInput("provider_id must be 1-512 characters", field="provider_id")
    if not (inbound.text or inbound.html or inbound.attachments):
        raise InvalidInput("a message needs text, html or attachments", field="text")
    if inbound.text is not None and len(inbound.text) > MAX_TEXT:
        raise InvalidInput(f"text is longer than {MAX_TEXT} characters", field="text")
    if inbound.html is not None and len(inbound.html) > MAX_HTML:
        raise InvalidInput(f"html is longer than {MAX_HTML} characters", field="html")


def _request(
    ctx: ActionContext, inbound: Inbound, assign_new: Callable[[str | None], str | None] | None
) -> IngestRequest:
    """Validate and normalise one inbound into a store request (raises with the reason)."""
    check_inbound(inbound)
    sender = normalise_address(
        inbound.sender_kind, inbound.sender, default_region=ctx.config.identity.default_region
    )
    return IngestRequest(
        inbound=inbound,
        sender=sender,
        received_at=ctx.clock(),
        reopen_window=ctx.reopen_window,
        assign_new=_once_per_request(assign_new) if assign_new is not None else None,
    )


def _once_per_request(
    assign_new: Callable[[str | None], str | None],
) -> Callable[[str | None], str | None]:
    """The same answer however often the store asks for this request.

    The SQLite engine re-runs a whole batch when one of its jobs fails; without this, every
    new conversation in it would take a second round-robin turn (and with a refusal in
    every batch, one agent would get them all).
    """
    chosen: dict[str | None, str | None] = {}

    def assign(team_id: str | None) -> str | None:
        if team_id not in chosen:
            chosen[team_id] = assign_new(team_id)
        return chosen[team_id]

    return assign


async def _assign_new(ctx: ActionContext) -> Callable[[str | None], str | None] | None:
    """How the store assigns a conversation that an ingest opens, in the same commit.

    Assigning after the commit cost a second commit (and a read) in the path of every
    customer's first message, and left a moment in which the conversation was unassigned.
    """
    return await ctx.assigner.for_new_conversations() if ctx.assigner is not None else None


def _publish(ctx: ActionContext, result: IngestResult) -> None:
    """The events of one stored (not duplicate) message; called after the commit."""
    if result.customer_created:
        ctx.bus.publish(EventType.CUSTOMER_CREATED, {"customer": result.customer})
    if result.conversation_created:
        ctx.bus.publish(EventType.CONVERSATION_CREATED, {"conversation": result.conversation})
    else:
        changes = ["last_message_at", "unread_count"]
        if result.conversation_reopened:
            changes.append("status")
        ctx.bus.publish(
            EventType.CONVERSATION_UPDATED,
            {"conversation": result.conversation, "changes": changes},
        )
    ctx.bus.publish(
        EventType.MESSAGE_CREATED,
        {"message": result.message, "conversation_id": result.conversation.id},
    )


async def _after_commit(ctx: ActionContext, result: IngestResult) -> IngestResult:
    if result.duplicate:  # a redelivery: nothing new, so no events
        return result
    _publish(ctx, result)
    if result.conversation.assignee_id is None:
        assigned = await auto_assign(ctx, result.conversation)
        if assigned is not None:
            result = replace(result, conversation=assigned)
    return result


async def do_ingest(ctx: ActionContext, inbound: Inbound) -> IngestResult:
    """Store one inbound message idempotently; returns once it is durable (then ack).

    Events go out after the commit, and a duplicate publishes nothing, so a redelivery
    after a crash neither duplicates the message nor the events.
    """
    result = await ctx.store.ingest(_request(ctx, inbound, await _assign_new(ctx)))
    return await _after_commit(ctx, result)


async def do_ingest_many(
    ctx: ActionContext, inbounds: Sequence[Inbound]
) -> list[IngestResult | HubError]:
    """`do_ingest` for a batch (one store round trip); each item gets its result or error.

    A channel that receives many messages at once (an API batch, an IMAP fetch) uses this:
    one write job instead of one task and one future per message.
    """
    results: dict[int, IngestResult | HubError] = {}
    requests: dict[int, IngestRequest] = {}  # position in the batch → its valid request
    assign_new = await _assign_new(ctx)
    for position, inbound in enumerate(inbounds):
        try:
            requests[position] = _request(ctx, inbound, assign_new)
        except HubError as exc:
            results[position] = exc
    stored = await ctx.store.ingest_many(list(requests.values()))
    results.update(zip(requests, stored, strict=True))
    fresh = [
        (position, result) for position, result in sorted(results.items())
        if isinstance(result, IngestResult) and not result.duplicate
    ]  # fmt: skip
    for _, result in fresh:
        _publish(ctx, result)
    for position, result in fresh:  # in batch order, so round robin stays fair across the batch
        if result.conversation.assignee_id is None:
            assigned = await auto_assign(ctx, result.conversation)
            if assigned is not None:
                results[position] = replace(result, conversation=assigned)
    return [results[position] for position in range(len(inbounds))]
