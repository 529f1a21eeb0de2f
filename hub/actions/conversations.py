"""Conversation actions: status, snooze, priority, tags, assignment, read marks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from hub.actions.context import ActionContext
from hub.errors import InvalidInput, NotFound
from hub.events import EventType
from hub.model import Conversation, Priority, Status, as_utc
from hub.store.base import ConversationPatch

MAX_TAGS = 50
MAX_TAG_LENGTH = 64


async def require_conversation(ctx: ActionContext, conversation_id: str) -> Conversation:
    """The conversation, or NotFound with its id."""
    conversation = await ctx.store.get_conversation(conversation_id)
    if conversation is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    return conversation


async def _apply(
    ctx: ActionContext, conversation_id: str, patch: ConversationPatch
) -> Conversation:
    before, after = await ctx.store.update_conversation(conversation_id, patch)
    changes = sorted(
        name
        for name in patch.changed_fields()
        if name != "updated_at" and getattr(before, name) != getattr(after, name)
    )
    if changes:
        ctx.bus.publish(EventType.CONVERSATION_UPDATED, {"conversation": after, "changes": changes})
    return after


async def do_set_status(
    ctx: ActionContext,
    conversation_id: str,
    status: Status,
    *,
    snoozed_until: datetime | None = None,
) -> Conversation:
    """Open, pend, snooze (needs a future time) or resolve a conversation."""
    await require_conversation(ctx, conversation_id)
    now = ctx.clock()
    if status == Status.SNOOZED:
        if snoozed_until is None:
            raise InvalidInput("snoozing needs snoozed_until", field="snoozed_until")
        snoozed_until = as_utc(snoozed_until)
        if snoozed_until <= now:
            raise InvalidInput("snoozed_until must be in the future", field="snoozed_until")
    elif snoozed_until is not None:
        raise InvalidInput("snoozed_until is only allowed with status snoozed")
    patch = ConversationPatch(
        status=status,
        snoozed_until=snoozed_until if status == Status.SNOOZED else None,
        resolved_at=now if status == Status.RESOLVED else None,
        updated_at=now,
    )
    return await _apply(ctx, conversation_id, patch)


async def do_set_priority(
    ctx: ActionContext, conversation_id: str, priority: Priority
) -> Conversation:
    """Change a conversation's priority."""
    return await _apply(
        ctx, conversation_id, ConversationPatch(priority=priority, updated_at=ctx.clock())
    )


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, lower-cased, de-duplicated tags; InvalidInput for empty or long ones."""
    out: list[str] = []
    for raw in tags:
        tag = raw.strip().lower()
        if not tag or len(tag) > MAX_TAG_LENGTH:
            raise InvalidInput(f"tag {raw!r} must be 1-{MAX_TAG_LENGTH} characters", field="tags")
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags", field="tags")
    return tuple(out)


async def do_tag(
    ctx: ActionContext,
    conversation_id: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    replace: Iterable[str] | None = None,
) -> Conversation:
    """Add, remove or replace a conversation's tags."""
    conversation = await require_conversation(ctx, conversation_id)
    if replace is not None:
        tags = clean_tags(replace)
    else:
        dropped = set(clean_tags(remove))
        tags = clean_tags([*(t for t in conversation.tags if t not in dropped), *add])
    return await _apply(ctx, conversation_id, ConversationPatch(tags=tags, updated_at=ctx.clock()))


async def do_assign(
    ctx: ActionContext,
    conversation_id: str,
    *,
    agent_id: str | None = None,
    team_id: str | None = None,
) -> Conversation:
    """Assign (or transfer) to an agent and/or a team; None for both unassigns the agent."""
    if agent_id is not None:
        agent = await ctx.store.get_agent(agent_id)
        if agent is None or not agent.active:
            raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    if team_id is not None and team_id not in {t.id for t in await ctx.store.list_teams()}:
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    patch = ConversationPatch(assignee_id=agent_id, updated_at=ctx.clock())
    if team_id is not None:
        patch = ConversationPatch(assignee_id=agent_id, team_id=team_id, updated_at=ctx.clock())
    return await _apply(ctx, conversation_id, patch)


async def do_mark_read(ctx: ActionContext, conversation_id: str) -> Conversation:
    """Clear the unread count (an agent has seen the conversation)."""
    return await _apply(ctx, conversation_id, ConversationPatch(unread_count=0))


async def auto_assign(ctx: ActionContext, conversation: Conversation) -> Conversation | None:
    """Ask the assigner for an agent and claim atomically; None if nobody took it."""
    if ctx.assigner is None or conversation.assignee_id is not None:
        return None
    agent_id = await ctx.assigner.pick(conversation)
    if agent_id is None:
        return None
    claimed = await ctx.store.claim_conversation(conversation.id, agent_id, now=ctx.clock())
    if claimed is not None:
        ctx.bus.publish(
            EventType.CONVERSATION_UPDATED, {"conversation": claimed, "changes": ["assignee_id"]}
        )
    return claimed


async def do_wake_snoozed(ctx: ActionContext) -> list[Conversation]:
    """Reopen snoozed conversations whose time has come."""
    woken = []
    for conversation in await ctx.store.due_snoozed(ctx.clock()):
        woken.append(await do_set_status(ctx, conversation.id, Status.OPEN))
    return woken
