"""Store contract: reading, filtering, paging, patching, claiming and waking conversations."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.errors import InvalidInput, NotFound
from hub.model import (
    Agent,
    Conversation,
    ConversationFilter,
    IdentityKind,
    Inbox,
    Priority,
    Role,
    Status,
    utcnow,
)
from hub.store import Store
from hub.store.base import ConversationPatch

from .conftest import Clock, IngestHelper


async def _all(store: Store, flt: ConversationFilter, limit: int = 100) -> list[Conversation]:
    """Every matching conversation, following cursors to the end."""
    out: list[Conversation] = []
    cursor: str | None = None
    while True:
        page = await store.list_conversations(flt, limit=limit, cursor=cursor)
        out += page.items
        if (cursor := page.next_cursor) is None:
            return out


async def _ids(store: Store, **fields: Any) -> set[str]:
    return {c.id for c in await _all(store, ConversationFilter(**fields))}


@dataclasses.dataclass
class World:
    mail: Inbox
    sms: Inbox
    team_id: str
    agent: Agent
    plain: Conversation  # mail, open, unassigned, no tags
    assigned: Conversation  # mail, open, assigned to agent, tagged "billing"
    resolved: Conversation  # mail, resolved, tagged "billing" and "vip"
    texted: Conversation  # sms inbox (team), open


@pytest.fixture
async def world(
    store: Store, ingest: IngestHelper, inbox: Inbox, agent: Agent, clock: Clock
) -> World:
    team = await store.create_team("Mobile", now=clock())
    sms = await store.create_inbox(
        name="SMS", channel="sms", team_id=team.id, config={}, now=clock()
    )
    plain = (await ingest(sender="p@example.com", at=clock())).conversation
    assigned = (await ingest(sender="a@example.com", at=clock())).conversation
    _, assigned = await store.update_conversation(
        assigned.id, ConversationPatch(assignee_id=agent.id, tags=("billing",))
    )
    resolved = (await ingest(sender="r@example.com", at=clock())).conversation
    _, resolved = await store.update_conversation(
        resolved.id,
        ConversationPatch(status=Status.RESOLVED, resolved_at=clock(), tags=("billing", "vip")),
    )
    texted = (
        await ingest(to=sms, sender="+4712345678", sender_kind=IdentityKind.PHONE, at=clock())
    ).conversation
    return World(inbox, sms, team.id, agent, plain, assigned, resolved, texted)


# --- get and list ---------------------------------------------------------------------


async def test_get_conversation_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_conversation("cnv_missing") is None


async def test_empty_filter_lists_everything_by_most_recent_activity(
    store: Store, world: World
) -> None:
    found = await _all(store, ConversationFilter())
    assert found == [world.texted, world.resolved, world.assigned, world.plain]


async def test_filter_by_status(store: Store, world: World) -> None:
    assert await _ids(store, status=Status.RESOLVED) == {world.resolved.id}
    assert await _ids(store, status=Status.OPEN) == {
        world.plain.id,
        world.assigned.id,
        world.texted.id,
    }


async def test_filter_by_assignee(store: Store, world: World) -> None:
    assert await _ids(store, assignee_id=world.agent.id) == {world.assigned.id}


async def test_filter_unassigned(store: Store, world: World) -> None:
    assert await _ids(store, unassigned=True) == {
        world.plain.id,
        world.resolved.id,
        world.texted.id,
    }


async def test_filter_by_inbox(store: Store, world: World) -> None:
    assert await _ids(store, inbox_id=world.sms.id) == {world.texted.id}


async def test_filter_by_visible_inboxes(store: Store, world: World) -> None:
    assert await _ids(store, inbox_ids=(world.sms.id,)) == {world.texted.id}
    assert len(await _ids(store, inbox_ids=(world.sms.id, world.mail.id))) == 4


async def test_filter_by_an_empty_inbox_tuple_sees_nothing(store: Store, world: World) -> None:
    page = await store.list_conversations(ConversationFilter(inbox_ids=()))
    assert (page.items, page.next_cursor) == ((), None)


async def test_filter_by_inbox_within_visible_inboxes_intersects(
    store: Store, world: World
) -> None:
    assert await _ids(store, inbox_id=world.mail.id, inbox_ids=(world.sms.id,)) == set()


async def test_filter_by_team(store: Store, world: World) -> None:
    assert await _ids(store, team_id=world.team_id) == {world.texted.id}


async def test_filter_by_tag(store: Store, world: World) -> None:
    assert await _ids(store, tag="billing") == {world.assigned.id, world.resolved.id}
    assert await _ids(store, tag="vip") == {world.resolved.id}
    assert await _ids(store, tag="nope") == set()


async def test_filter_by_customer(store: Store, world: World) -> None:
    assert await _ids(store, customer_id=world.plain.customer_id) == {world.plain.id}


async def test_filter_by_channel(store: Store, world: World) -> None:
    assert await _ids(store, channel="sms") == {world.texted.id}
    assert len(await _ids(store, channel="email")) == 3


async def test_filters_combine(store: Store, world: World) -> None:
    found = await _ids(store, status=Status.OPEN, tag="billing", channel="email")
    assert found == {world.assigned.id}


async def test_keyset_paging_covers_every_conversation_once_in_order(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    made = [(await ingest(sender=f"c{i}@example.com", at=clock())).conversation for i in range(8)]
    pages: list[tuple[Conversation, ...]] = []
    cursor: str | None = None
    while True:
        page = await store.list_conversations(ConversationFilter(), limit=3, cursor=cursor)
        pages.append(page.items)
        if (cursor := page.next_cursor) is None:
            break
    assert [len(p) for p in pages] == [3, 3, 2]
    assert [c for p in pages for c in p] == list(reversed(made))


async def test_keyset_paging_handles_equal_activity_times(
    store: Store, ingest: IngestHelper
) -> None:
    at = utcnow()
    made = {(await ingest(sender=f"c{i}@example.com", at=at)).conversation.id for i in range(7)}
    found = [c.id for c in await _all(store, ConversationFilter(), limit=2)]
    assert len(found) == 7
    assert set(found) == made


async def test_keyset_paging_applies_the_filter_on_every_page(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    wanted = set()
    for i in range(9):
        conversation = (await ingest(sender=f"c{i}@example.com", at=clock())).conversation
        if i % 2:
            await store.update_conversation(conversation.id, ConversationPatch(tags=("odd",)))
            wanted.add(conversation.id)
    found = [c.id for c in await _all(store, ConversationFilter(tag="odd"), limit=2)]
    assert len(found) == 4
    assert set(found) == wanted


async def test_list_conversations_rejects_a_garbage_cursor(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.list_conversations(ConversationFilter(), cursor="not-a-cursor")


# --- update ---------------------------------------------------------------------------


async def test_update_conversation_returns_before_and_after(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    original = (await ingest()).conversation
    now = utcnow()
    patch = ConversationPatch(
        priority=Priority.HIGH, assignee_id=agent.id, status=Status.PENDING, updated_at=now
    )
    before, after = await store.update_conversation(original.id, patch)
    assert before == original
    assert after == dataclasses.replace(
        original,
        priority=Priority.HIGH,
        assignee_id=agent.id,
        status=Status.PENDING,
        updated_at=now,
    )
    assert await store.get_conversation(original.id) == after


async def test_update_conversation_replaces_the_tags(store: Store, ingest: IngestHelper) -> None:
    conversation = (await ingest()).conversation
    await store.update_conversation(conversation.id, ConversationPatch(tags=("a", "b")))
    _, after = await store.update_conversation(conversation.id, ConversationPatch(tags=("c",)))
    assert after.tags == ("c",)
    assert await _ids(store, tag="a") == set()
    assert await _ids(store, tag="c") == {conversation.id}


async def test_update_conversation_drops_repeated_tags(store: Store, ingest: IngestHelper) -> None:
    conversation = (await ingest()).conversation
    patch = ConversationPatch(tags=("b", "a", "b"))
    _, after = await store.update_conversation(conversation.id, patch)
    assert after.tags == ("b", "a")


async def test_update_conversation_sets_fields_to_none(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    conversation = (await ingest()).conversation
    await store.update_conversation(conversation.id, ConversationPatch(assignee_id=agent.id))
    _, after = await store.update_conversation(conversation.id, ConversationPatch(assignee_id=None))
    assert after.assignee_id is None


async def test_update_conversation_keeps_far_future_times_exactly(
    store: Store, ingest: IngestHelper
) -> None:
    conversation = (await ingest()).conversation
    until = datetime(2038, 3, 31, 22, 55, 36, 470000, tzinfo=UTC)
    patch = ConversationPatch(status=Status.SNOOZED, snoozed_until=until)
    _, after = await store.update_conversation(conversation.id, patch)
    assert after.snoozed_until == until


async def test_update_of_an_unknown_conversation_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_conversation("cnv_missing", ConversationPatch(priority=Priority.LOW))


# --- claim ----------------------------------------------------------------------------


async def _second_agent(store: Store) -> Agent:
    return await store.create_agent(
        email="bob@example.com",
        name="Bob",
        role=Role.AGENT,
        password_hash=None,
        team_ids=(),
        now=utcnow(),
    )


async def test_claim_assigns_an_unassigned_conversation(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    conversation = (await ingest()).conversation
    now = utcnow()
    claimed = await store.claim_conversation(conversation.id, agent.id, now=now)
    assert claimed is not None
    assert claimed.assignee_id == agent.id
    assert await store.get_conversation(conversation.id) == claimed


async def test_claim_of_a_conversation_someone_else_holds_is_none(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    other = await _second_agent(store)
    conversation = (await ingest()).conversation
    await store.claim_conversation(conversation.id, agent.id, now=utcnow())
    assert await store.claim_conversation(conversation.id, other.id, now=utcnow()) is None
    found = await store.get_conversation(conversation.id)
    assert found is not None and found.assignee_id == agent.id


async def test_concurrent_claims_by_two_agents_have_exactly_one_winner(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    other = await _second_agent(store)
    conversation = (await ingest()).conversation
    results = await asyncio.gather(
        store.claim_conversation(conversation.id, agent.id, now=utcnow()),
        store.claim_conversation(conversation.id, other.id, now=utcnow()),
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert results.count(None) == 1
    found = await store.get_conversation(conversation.id)
    assert found is not None and found.assignee_id == winners[0].assignee_id


async def test_claim_by_the_agent_already_holding_it_returns_the_conversation(
    store: Store, ingest: IngestHelper, agent: Agent
) -> None:
    conversation = (await ingest()).conversation
    first = await store.claim_conversation(conversation.id, agent.id, now=utcnow())
    again = await store.claim_conversation(conversation.id, agent.id, now=utcnow())
    assert again is not None
    assert again.assignee_id == agent.id
    assert again == first


async def test_claim_of_an_unknown_conversation_is_not_found(store: Store, agent: Agent) -> None:
    with pytest.raises(NotFound):
        await store.claim_conversation("cnv_missing", agent.id, now=utcnow())


# --- snoozed --------------------------------------------------------------------------


async def test_due_snoozed_returns_only_snoozed_conversations_whose_time_has_come(
    store: Store, ingest: IngestHelper
) -> None:
    now = utcnow()
    cases = {
        "due": (Status.SNOOZED, now - timedelta(minutes=1)),
        "exactly_now": (Status.SNOOZED, now),
        "later": (Status.SNOOZED, now + timedelta(minutes=1)),
        "open_with_old_time": (Status.OPEN, now - timedelta(minutes=1)),
    }
    ids = {}
    for name, (status, until) in cases.items():
        conversation = (await ingest(sender=f"{name}@example.com")).conversation
        patch = ConversationPatch(status=status, snoozed_until=until)
        await store.update_conversation(conversation.id, patch)
        ids[conversation.id] = name
    due = await store.due_snoozed(now)
    assert {ids[c.id] for c in due} == {"due", "exactly_now"}
    assert all(c.status == Status.SNOOZED for c in due)


async def test_due_snoozed_respects_the_limit(store: Store, ingest: IngestHelper) -> None:
    now = utcnow()
    for i in range(3):
        conversation = (await ingest(sender=f"s{i}@example.com")).conversation
        await store.update_conversation(
            conversation.id, ConversationPatch(status=Status.SNOOZED, snoozed_until=now)
        )
    assert len(await store.due_snoozed(now, limit=2)) == 2
