"""MongoStore under concurrency: races are decided by unique indexes and conditional writes.

These run on pymongo-async-mock through InterleavingClient, so concurrent calls really
interleave between their reads and writes (the bare mock runs them one after another).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from hub.errors import Conflict
from hub.model import (
    Agent,
    ConversationFilter,
    IdentityKind,
    Inbound,
    Inbox,
    IngestResult,
    MergeRecord,
    MessageKind,
    Role,
    utcnow,
)
from hub.store.base import IngestRequest, NewMessage, ReplyRequest
from hub.store.mongo import MongoStore

from .conftest import MOCK_URL, InterleavingClient, mock_client


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    opened = MongoStore(MOCK_URL, client=InterleavingClient(mock_client()))
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def inbox(store: MongoStore) -> Inbox:
    return await store.create_inbox(
        name="Support", channel="email", team_id=None, config={}, now=utcnow()
    )


async def _agent(store: MongoStore, email: str) -> Agent:
    return await store.create_agent(
        email=email, name=email, role=Role.AGENT, password_hash=None, team_ids=(), now=utcnow()
    )


async def _ingest(
    store: MongoStore, inbox: Inbox, provider_id: str, sender: str = "rush@example.com"
) -> IngestResult:
    inbound = Inbound(
        channel="email",
        inbox_id=inbox.id,
        provider_id=provider_id,
        sender_kind=IdentityKind.EMAIL,
        sender=sender,
        text="hello",
    )
    request = IngestRequest(
        inbound=inbound, sender=sender, received_at=utcnow(), reopen_window=timedelta(days=7)
    )
    return await store.ingest(request)


async def test_the_harness_makes_a_read_then_write_race_visible() -> None:
    """Proof the tests below can fail: a naive read-then-write loses an update here."""
    collection = InterleavingClient(mock_client())["race"]["counters"]
    await collection.insert_one({"_id": "c", "n": 0})

    async def naive_increment() -> None:
        current = await collection.find_one({"_id": "c"})
        await collection.update_one({"_id": "c"}, {"$set": {"n": current["n"] + 1}})

    await asyncio.gather(naive_increment(), naive_increment())
    assert (await collection.find_one({"_id": "c"}))["n"] == 1  # one increment was lost


async def test_fifty_concurrent_duplicate_ingests_store_one_message_and_one_conversation(
    store: MongoStore, inbox: Inbox
) -> None:
    results = await asyncio.gather(*(_ingest(store, inbox, "p-storm") for _ in range(50)))
    assert len({r.message.id for r in results}) == 1
    assert len({r.conversation.id for r in results}) == 1
    new = [r for r in results if not r.duplicate]
    assert len(new) == 1
    assert (new[0].conversation_created, new[0].customer_created) == (True, True)
    counts = await store.counts()
    assert (counts["messages"], counts["conversations"], counts["customers"]) == (1, 1, 1)
    conversation = await store.get_conversation(results[0].conversation.id)
    assert conversation is not None
    assert (conversation.message_count, conversation.unread_count) == (1, 1)


async def test_a_burst_of_first_messages_from_one_sender_opens_one_conversation(
    store: MongoStore, inbox: Inbox
) -> None:
    results = await asyncio.gather(*(_ingest(store, inbox, f"p-{i}") for i in range(10)))
    assert not any(r.duplicate for r in results)
    assert len({r.customer.id for r in results}) == 1
    assert [r.customer_created for r in results].count(True) == 1
    assert [r.conversation_created for r in results].count(True) == 1
    (conversation,) = (await store.list_conversations(ConversationFilter())).items
    assert (conversation.message_count, conversation.unread_count) == (10, 10)
    assert (await store.counts())["messages"] == 10


async def test_two_agents_claiming_at_once_have_exactly_one_winner(
    store: MongoStore, inbox: Inbox
) -> None:
    ada, bob = await _agent(store, "ada@example.com"), await _agent(store, "bob@example.com")
    for i in range(10):
        conversation = (await _ingest(store, inbox, f"p-{i}", f"c{i}@example.com")).conversation
        results = await asyncio.gather(
            store.claim_conversation(conversation.id, ada.id, now=utcnow()),
            store.claim_conversation(conversation.id, bob.id, now=utcnow()),
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        stored = await store.get_conversation(conversation.id)
        assert stored is not None and stored.assignee_id == winners[0].assignee_id


async def test_concurrent_replies_with_one_key_store_one_message_and_count_it_once(
    store: MongoStore, inbox: Inbox
) -> None:
    conversation = (await _ingest(store, inbox, "p-1")).conversation

    async def reply() -> bool:
        message = NewMessage(
            conversation_id=conversation.id,
            kind=MessageKind.MESSAGE.value,
            text="on it",
            created_at=utcnow(),
        )
        done = await store.enqueue_reply(ReplyRequest(message=message, idempotency_key="k"))
        return done.created

    created = await asyncio.gather(*(reply() for _ in range(10)))
    assert created.count(True) == 1
    stored = await store.get_conversation(conversation.id)
    assert stored is not None and stored.message_count == 2
    assert (await store.counts())["outbox"] == 1


async def test_concurrent_outbox_claims_share_nothing(store: MongoStore, inbox: Inbox) -> None:
    conversation = (await _ingest(store, inbox, "p-1")).conversation
    for i in range(6):
        message = NewMessage(
            conversation_id=conversation.id, kind="message", text=f"r{i}", created_at=utcnow()
        )
        await store.enqueue_reply(ReplyRequest(message=message, idempotency_key=f"k{i}"))
    later = utcnow() + timedelta(seconds=1)
    batches = await asyncio.gather(*(store.claim_outbox(later, limit=6) for _ in range(4)))
    ids = [entry.id for batch in batches for entry in batch]
    assert len(ids) == len(set(ids)) == 6


async def test_merging_two_customers_into_each_other_at_once_never_makes_a_cycle(
    store: MongoStore,
) -> None:
    made = [
        await store.create_customer(name=n, attributes={}, tags=(), identities=(), now=utcnow())
        for n in ("A", "B")
    ]
    a, b = (file.customer.id for file in made)
    results = await asyncio.gather(
        store.merge_customers(a, b, actor_id=None, now=utcnow()),
        store.merge_customers(b, a, actor_id=None, now=utcnow()),
        return_exceptions=True,
    )
    assert all(isinstance(r, MergeRecord | Conflict) for r in results)
    customers = [await store.get_customer(a), await store.get_customer(b)]
    assert [c.merged_into for c in customers if c is not None].count(None) >= 1
    assert (await store.counts())["merges"] == sum(isinstance(r, MergeRecord) for r in results)
