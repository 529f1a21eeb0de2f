"""Typing indicators: published as conversation.typing events, nothing stored."""

from __future__ import annotations

import pytest

from hub.actions import ActionContext, do_typing
from hub.errors import InvalidInput, NotFound
from hub.events import EventType


async def test_agent_typing_is_published(ctx: ActionContext, conversation_id: str) -> None:
    cid = conversation_id
    before = await ctx.store.counts()
    subscription = ctx.bus.subscribe(types=[EventType.CONVERSATION_TYPING])
    await do_typing(ctx, cid, agent_id="agt_1")
    event = await subscription.get()
    assert dict(event.data) == {
        "conversation_id": cid,
        "who": "agent",
        "agent_id": "agt_1",
        "typing": True,
    }
    assert await ctx.store.counts() == before


async def test_customer_typing_is_published_without_a_read(ctx: ActionContext) -> None:
    subscription = ctx.bus.subscribe(types=[EventType.CONVERSATION_TYPING])
    await do_typing(ctx, "cnv_known_to_the_channel", typing=False)
    event = await subscription.get()
    assert (event.data["who"], event.data["typing"]) == ("customer", False)


async def test_agent_typing_in_a_missing_conversation_is_not_found(ctx: ActionContext) -> None:
    with pytest.raises(NotFound):
        await do_typing(ctx, "cnv_missing", agent_id="agt_1")


async def test_typing_needs_a_conversation_id(ctx: ActionContext) -> None:
    with pytest.raises(InvalidInput):
        await do_typing(ctx, "")
