"""Typing indicators: published as conversation.typing events, nothing stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.actions import ActionContext, do_ingest, do_typing
from hub.config import load_config
from hub.errors import InvalidInput, NotFound
from hub.events import EventBus, EventType
from hub.model import IdentityKind, Inbound, utcnow
from hub.store import create_store


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[ActionContext]:
    config = load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{tmp_path}/hub.db"})
    store = create_store(config.store.url)
    await store.open()
    yield ActionContext(store=store, bus=EventBus(), config=config)
    await store.close()


async def conversation_id(ctx: ActionContext) -> str:
    inbox = await ctx.store.create_inbox(
        name="api", channel="api", team_id=None, config={}, now=utcnow()
    )
    inbound = Inbound(
        channel="api",
        inbox_id=inbox.id,
        provider_id="p1",
        sender_kind=IdentityKind.EMAIL,
        sender="c@example.com",
        text="hi",
    )
    return (await do_ingest(ctx, inbound)).conversation.id


async def test_agent_typing_is_published(ctx: ActionContext) -> None:
    cid = await conversation_id(ctx)
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
