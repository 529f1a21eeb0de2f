"""Events: published only after the durable write, and replaying them equals a fresh fetch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.actions import (
    ActionContext,
    do_assign,
    do_ingest,
    do_ingest_many,
    do_note,
    do_reply,
    do_set_status,
    do_tag,
)
from hub.config import HubConfig, load_config
from hub.errors import InvalidInput
from hub.events import EventBus, EventType
from hub.model import (
    Conversation,
    ConversationFilter,
    IdentityKind,
    Inbound,
    Message,
    Role,
    Status,
    utcnow,
)
from hub.routing import RoundRobinSelector
from hub.store import create_store


@pytest.fixture
def hub_config(tmp_path: Path) -> HubConfig:
    return load_config(files=[], env={"HUB_STORE_URL": f"sqlite:///{tmp_path}/hub.db"})


@pytest.fixture
async def ctx(hub_config: HubConfig) -> AsyncIterator[ActionContext]:
    store = create_store(hub_config.store.url)
    await store.open()
    context = ActionContext(
        store=store, bus=EventBus(), config=hub_config, assigner=RoundRobinSelector(store)
    )
    yield context
    await store.close()


def _inbound(inbox_id: str, pid: str, sender: str) -> Inbound:
    return Inbound(
        channel="api",
        inbox_id=inbox_id,
        provider_id=pid,
        sender_kind=IdentityKind.EMAIL,
        sender=sender,
        text=f"text {pid}",
    )


async def test_message_event_arrives_only_after_the_commit(
    ctx: ActionContext, hub_config: HubConfig
) -> None:
    inbox = await ctx.store.create_inbox(
        name="i", channel="api", team_id=None, config={}, now=utcnow()
    )
    other = create_store(hub_config.store.url)  # an independent connection sees only commits
    await other.open()
    try:
        seen: list[Message | None] = []

        async def watch() -> None:
            async with ctx.bus.subscribe(types=[EventType.MESSAGE_CREATED]) as sub:
                event = await sub.get()
                seen.append(await other.get_message(event.data["message"].id))

        watcher = asyncio.ensure_future(watch())
        await asyncio.sleep(0)
        await asyncio.gather(
            *(do_ingest(ctx, _inbound(inbox.id, f"p{i}", "a@x.example")) for i in range(20))
        )
        await asyncio.wait_for(watcher, 5)
        assert seen and seen[0] is not None
    finally:
        await other.close()


async def test_duplicate_ingest_publishes_nothing(ctx: ActionContext) -> None:
    inbox = await ctx.store.create_inbox(
        name="i", channel="api", team_id=None, config={}, now=utcnow()
    )
    await do_ingest(ctx, _inbound(inbox.id, "dup", "a@x.example"))
    last = ctx.bus.last_id
    result = await do_ingest(ctx, _inbound(inbox.id, "dup", "a@x.example"))
    assert result.duplicate
    assert ctx.bus.last_id == last


async def test_replaying_events_equals_a_fresh_fetch(ctx: ActionContext) -> None:
    store = ctx.store
    now = utcnow()
    agent = await store.create_agent(
        email="ag@hub.test", name="Ag", role=Role.AGENT, password_hash=None, team_ids=[], now=now
    )
    other = await store.create_agent(
        email="ot@hub.test", name="Ot", role=Role.AGENT, password_hash=None, team_ids=[], now=now
    )
    inbox = await store.create_inbox(name="i", channel="api", team_id=None, config={}, now=now)
    conversations: dict[str, Conversation] = {}
    messages: dict[str, Message] = {}
    sub = ctx.bus.subscribe()

    first = await do_ingest(ctx, _inbound(inbox.id, "1", "one@x.example"))
    second = await do_ingest(ctx, _inbound(inbox.id, "2", "two@x.example"))
    await do_ingest(ctx, _inbound(inbox.id, "3", "one@x.example"))
    await do_reply(
        ctx, first.conversation.id, author_id=agent.id, text="hello", idempotency_key="k1"
    )
    await do_tag(ctx, first.conversation.id, add=["vip"])
    await do_assign(ctx, second.conversation.id, agent_id=other.id)
    await do_set_status(ctx, second.conversation.id, Status.RESOLVED)
    await do_note(ctx, second.conversation.id, author_id=agent.id, text="last: a note")

    while ctx.bus.last_id > sub.last_id:
        event = await sub.get()
        if "conversation" in event.data:
            conversations[event.data["conversation"].id] = event.data["conversation"]
        if "message" in event.data:
            messages[event.data["message"].id] = event.data["message"]
    sub.close()

    fresh = await store.list_conversations(ConversationFilter(), limit=100)
    assert conversations == {c.id: c for c in fresh.items}
    fetched: dict[str, Message] = {}
    for conversation in fresh.items:
        page = await store.list_messages(conversation.id, limit=100)
        fetched.update({m.id: m for m in page.items})
    assert messages == fetched


async def test_batch_ingest_publishes_each_new_message_once_and_nothing_for_duplicates(
    ctx: ActionContext,
) -> None:
    inbox = await ctx.store.create_inbox(
        name="API", channel="api", team_id=None, config={}, now=utcnow()
    )
    await do_ingest(ctx, _inbound(inbox.id, "p1", "a@example.com"))
    since = ctx.bus.last_id
    results = await do_ingest_many(
        ctx,
        [
            _inbound(inbox.id, "p1", "a@example.com"),  # seen before
            _inbound(inbox.id, "p2", "a@example.com"),
            _inbound(inbox.id, "p3", "b@example.com"),
            _inbound(inbox.id, "p3", "b@example.com"),  # twice in the batch
            _inbound(inbox.id, "", "c@example.com"),  # invalid: no provider id
        ],
    )
    assert [getattr(r, "duplicate", None) for r in results] == [True, False, False, True, None]
    assert isinstance(results[4], InvalidInput)
    created = [
        e.data["message"].provider_id
        for e in ctx.bus.since(since) or []
        if e.type == EventType.MESSAGE_CREATED
    ]
    assert created == ["p2", "p3"]
