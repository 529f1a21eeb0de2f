"""MongoStore after a crash half-way through a multi-step write: the next caller finishes it.

The crash is a SimulatedCrash injected by InterleavingClient at one driver call; "time
passing" is the record's lease or plan moved into the past in the mock's data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hub.errors import Conflict, StoreUnavailable
from hub.model import CustomerFile, IdentityKind, Inbound, Inbox, IngestResult, utcnow
from hub.store.base import IngestRequest, NewMessage, ReplyRequest
from hub.store.mongo import MongoStore

from .conftest import MOCK_URL, InterleavingClient, mock_client

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE


@dataclasses.dataclass
class Crashable:
    """A store whose next driver calls can be made to crash, and its raw mock data."""

    store: MongoStore
    client: InterleavingClient
    raw: Any  # the mock database, for what a test must see or change behind the store

    async def reopened(self) -> MongoStore:
        """A new store on the same data, as after a restart (open() finishes leftovers)."""
        store = MongoStore(MOCK_URL, client=self.client.inner)
        await store.open()
        return store


@pytest.fixture
async def crashable() -> AsyncIterator[Crashable]:
    inner = mock_client()
    client = InterleavingClient(inner)
    store = MongoStore(MOCK_URL, client=client)
    await store.open()
    yield Crashable(store=store, client=client, raw=inner["contact_hub_test"])
    await store.close()


@pytest.fixture
async def inbox(crashable: Crashable) -> Inbox:
    return await crashable.store.create_inbox(
        name="Support", channel="email", team_id=None, config={}, now=utcnow()
    )


def _request(inbox: Inbox, provider_id: str, sender: str) -> IngestRequest:
    inbound = Inbound(
        channel="email",
        inbox_id=inbox.id,
        provider_id=provider_id,
        sender_kind=EMAIL,
        sender=sender,
        text="hello",
    )
    return IngestRequest(
        inbound=inbound, sender=sender, received_at=utcnow(), reopen_window=timedelta(days=7)
    )


async def _expire_leases(crashable: Crashable) -> None:
    past = utcnow() - timedelta(hours=1)
    await crashable.raw["merges"].update_many({}, {"$set": {"lease_until": past}})


async def _files(store: MongoStore, *customer_ids: str) -> list[CustomerFile]:
    files = [await store.customer_file(c) for c in customer_ids]
    assert all(f is not None for f in files)
    return [f for f in files if f is not None]


@dataclasses.dataclass
class Pair:
    kept_id: str
    merged_id: str


@pytest.fixture
async def pair(crashable: Crashable, inbox: Inbox) -> Pair:
    store = crashable.store
    kept = await store.create_customer(
        name="Kari", attributes={"plan": "pro"}, tags=["vip"],
        identities=[(EMAIL, "kari@example.com")], now=utcnow(),
    )  # fmt: skip
    merged = await store.create_customer(
        name=None, attributes={"lang": "nb"}, tags=["beta"],
        identities=[(EMAIL, "kari@home.example"), (PHONE, "+4712345678")], now=utcnow(),
    )  # fmt: skip
    await store.ingest(_request(inbox, "p-1", "kari@example.com"))
    await store.ingest(_request(inbox, "p-2", "kari@home.example"))
    await store.ingest(_request(inbox, "p-3", "kari@home.example"))
    return Pair(kept_id=kept.customer.id, merged_id=merged.customer.id)


# --- ingest ------------------------------------------------------------------------------


async def test_a_redelivery_finishes_an_ingest_that_crashed_and_reports_it_new(
    crashable: Crashable, inbox: Inbox
) -> None:
    store = crashable.store
    crashable.client.crash_at.append(("conversations", "insert_one"))
    with pytest.raises(StoreUnavailable):
        await store.ingest(_request(inbox, "p-1", "new@example.com"))
    assert (await store.counts())["conversations"] == 0  # the message waits, pending
    again: IngestResult = await store.ingest(_request(inbox, "p-1", "new@example.com"))
    assert again.duplicate is False  # so its events go out now, once
    assert (again.conversation_created, again.customer_created) == (True, True)
    assert again.conversation.message_count == 1
    third = await store.ingest(_request(inbox, "p-1", "new@example.com"))
    assert third.duplicate is True
    counts = await store.counts()
    assert (counts["messages"], counts["conversations"], counts["customers"]) == (1, 1, 1)


async def test_a_crash_after_counting_does_not_count_the_message_twice(
    crashable: Crashable, inbox: Inbox
) -> None:
    store = crashable.store
    first = await store.ingest(_request(inbox, "p-1", "a@example.com"))
    crashable.client.crash_at.append(("messages", "update_one"))  # before `pending` is removed
    with pytest.raises(StoreUnavailable):
        await store.ingest(_request(inbox, "p-2", "a@example.com"))
    again = await store.ingest(_request(inbox, "p-2", "a@example.com"))
    assert again.duplicate is False
    assert again.conversation.id == first.conversation.id
    assert (again.conversation.message_count, again.conversation.unread_count) == (2, 2)


# --- replies -----------------------------------------------------------------------------


async def test_the_dispatcher_finishes_a_reply_whose_enqueue_crashed(
    crashable: Crashable, inbox: Inbox
) -> None:
    store = crashable.store
    conversation = (await store.ingest(_request(inbox, "p-1", "a@example.com"))).conversation
    message = NewMessage(
        conversation_id=conversation.id, kind="message", text="on it", created_at=utcnow()
    )
    crashable.client.crash_at.append(("messages", "insert_one"))
    with pytest.raises(StoreUnavailable):
        await store.enqueue_reply(ReplyRequest(message=message, idempotency_key="k"))
    later = utcnow() + timedelta(seconds=1)
    assert await store.claim_outbox(later) == []  # its message does not exist yet
    old = utcnow() - timedelta(minutes=10)
    await crashable.raw["outbox"].update_many({}, {"$set": {"pending.since": old}})
    (entry,) = await store.claim_outbox(later)
    sent = await store.get_message(entry.message_id)
    assert sent is not None and sent.text == "on it"
    after = await store.get_conversation(conversation.id)
    assert after is not None and after.message_count == 2


# --- merges ------------------------------------------------------------------------------


async def test_a_merge_that_crashed_is_finished_at_the_next_open(
    crashable: Crashable, pair: Pair
) -> None:
    store = crashable.store
    crashable.client.crash_at.append(("messages", "update_many"))
    with pytest.raises(StoreUnavailable):
        await store.merge_customers(pair.kept_id, pair.merged_id, actor_id=None, now=utcnow())
    await _expire_leases(crashable)
    restarted = await crashable.reopened()
    try:
        kept, merged = await _files(restarted, pair.kept_id, pair.merged_id)
        assert len(kept.identities) == 3 and merged.identities == ()
        assert len(kept.conversations) == 2 and merged.conversations == ()
        assert merged.customer.merged_into == pair.kept_id
        assert dict(kept.customer.attributes) == {"plan": "pro", "lang": "nb"}
        for conversation in kept.conversations:
            page = await restarted.list_messages(conversation.id)
            assert {m.customer_id for m in page.items} == {pair.kept_id}
    finally:
        await restarted.close()


async def test_undo_of_a_merge_still_held_by_a_live_process_conflicts(
    crashable: Crashable, pair: Pair
) -> None:
    store = crashable.store
    crashable.client.crash_at.append(("messages", "update_many"))
    with pytest.raises(StoreUnavailable):
        await store.merge_customers(pair.kept_id, pair.merged_id, actor_id=None, now=utcnow())
    (merge_id,) = [d["_id"] for d in await crashable.raw["merges"].find().to_list()]
    with pytest.raises(Conflict):
        await store.undo_merge(merge_id, now=utcnow())


async def test_an_undo_that_crashed_is_finished_and_restores_both_customers_exactly(
    crashable: Crashable, pair: Pair
) -> None:
    store = crashable.store
    before = await _files(store, pair.kept_id, pair.merged_id)
    record = await store.merge_customers(pair.kept_id, pair.merged_id, actor_id=None, now=utcnow())
    crashable.client.crash_at.append(("conversations", "update_many"))
    with pytest.raises(StoreUnavailable):
        await store.undo_merge(record.id, now=utcnow())
    await _expire_leases(crashable)
    restarted = await crashable.reopened()
    try:
        after = await _files(restarted, pair.kept_id, pair.merged_id)
        for old, new in zip(before, after, strict=True):
            assert dataclasses.replace(new, merges=()) == old
            assert [m.undone_at is not None for m in new.merges] == [True]
    finally:
        await restarted.close()
