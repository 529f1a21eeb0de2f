"""Store contract: merging customers, and undoing a merge exactly."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from hub.errors import Conflict, NotFound
from hub.model import Customer, CustomerFile, IdentityKind, Inbox, Message, Status, utcnow
from hub.store import Store
from hub.store.base import ConversationPatch

from .conftest import Clock, IngestHelper

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE


@dataclasses.dataclass
class Pair:
    kept: Customer
    merged: Customer


@pytest.fixture
async def pair(store: Store, ingest: IngestHelper, inbox: Inbox, clock: Clock) -> Pair:
    """Two customers with identities, conversations (one resolved) and differing attributes."""
    sms = await store.create_inbox(name="SMS", channel="sms", team_id=None, config={}, now=clock())
    kept = await store.create_customer(
        name="Kari",
        attributes={"plan": "pro", "city": "Oslo"},
        tags=("vip",),
        identities=[(EMAIL, "kari@example.com")],
        now=clock(),
    )
    merged = await store.create_customer(
        name="K. Nordmann",
        attributes={"plan": "free", "lang": "nb"},
        tags=("beta", "vip"),
        identities=[(EMAIL, "kari@home.example"), (PHONE, "+4712345678")],
        now=clock(),
    )
    await ingest(sender="kari@example.com", at=clock())
    old = await ingest(sender="kari@home.example", at=clock())
    await store.update_conversation(
        old.conversation.id,
        ConversationPatch(status=Status.RESOLVED, resolved_at=clock() - timedelta(days=30)),
    )
    await ingest(to=sms, sender="+4712345678", sender_kind=PHONE, at=clock())
    await ingest(sender="kari@home.example", at=clock())  # a new one: the old is long resolved
    return Pair(kept=kept.customer, merged=merged.customer)


async def _file(store: Store, customer_id: str) -> CustomerFile:
    file = await store.customer_file(customer_id)
    assert file is not None
    return file


async def _messages(store: Store, file: CustomerFile) -> list[Message]:
    out: list[Message] = []
    for conversation in file.conversations:
        out += (await store.list_messages(conversation.id, limit=100)).items
    return out


async def test_merge_then_undo_restores_both_customers_exactly(
    store: Store, pair: Pair, clock: Clock
) -> None:
    before = [await _file(store, c.id) for c in (pair.kept, pair.merged)]
    messages_before = [await _messages(store, f) for f in before]
    record = await store.merge_customers(
        pair.kept.id, pair.merged.id, actor_id="agt_1", now=clock()
    )
    await store.undo_merge(record.id, now=clock())
    after = [await _file(store, c.id) for c in (pair.kept, pair.merged)]
    for old, new in zip(before, after, strict=True):
        assert dataclasses.replace(new, merges=()) == old
        assert [m.id for m in new.merges] == [record.id]
        assert new.merges[0].undone_at is not None
    assert [await _messages(store, f) for f in after] == messages_before


async def test_merge_moves_identities_and_conversations_to_the_kept_customer(
    store: Store, pair: Pair, clock: Clock
) -> None:
    kept_before, merged_before = (
        await _file(store, pair.kept.id),
        await _file(store, pair.merged.id),
    )
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    kept = await _file(store, pair.kept.id)
    merged = await _file(store, pair.merged.id)
    assert {i.id for i in kept.identities} == {
        i.id for i in kept_before.identities + merged_before.identities
    }
    assert {c.id for c in kept.conversations} == {
        c.id for c in kept_before.conversations + merged_before.conversations
    }
    assert all(c.customer_id == pair.kept.id for c in kept.conversations)
    assert (merged.identities, merged.conversations) == ((), ())


async def test_merge_moves_the_merged_customers_messages(
    store: Store, pair: Pair, clock: Clock
) -> None:
    assert len((await _file(store, pair.merged.id)).conversations) == 3
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    messages = await _messages(store, await _file(store, pair.kept.id))
    assert len(messages) == 4
    assert {m.customer_id for m in messages} == {pair.kept.id}


async def test_merged_customer_points_at_the_kept_one(
    store: Store, pair: Pair, clock: Clock
) -> None:
    now = clock()
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=now)
    merged = await store.get_customer(pair.merged.id)
    assert merged is not None
    assert merged.merged_into == pair.kept.id
    kept = await store.get_customer(pair.kept.id)
    assert kept is not None
    assert kept.merged_into is None
    assert kept.updated_at == now


async def test_merged_customer_is_excluded_from_list_customers(
    store: Store, pair: Pair, clock: Clock
) -> None:
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    assert [c.id for c in (await store.list_customers()).items] == [pair.kept.id]


async def test_kept_attributes_win_and_the_merged_ones_fill_gaps(
    store: Store, pair: Pair, clock: Clock
) -> None:
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    kept = await store.get_customer(pair.kept.id)
    assert kept is not None
    assert kept.name == "Kari"
    assert dict(kept.attributes) == {"plan": "pro", "city": "Oslo", "lang": "nb"}
    assert set(kept.tags) == {"vip", "beta"}
    assert len(kept.tags) == 2


async def test_merge_fills_a_missing_name_from_the_merged_customer(
    store: Store, clock: Clock
) -> None:
    nameless = await store.create_customer(
        name=None, attributes={}, tags=(), identities=(), now=clock()
    )
    named = await store.create_customer(
        name="Ola", attributes={}, tags=(), identities=(), now=clock()
    )
    await store.merge_customers(nameless.customer.id, named.customer.id, actor_id=None, now=clock())
    kept = await store.get_customer(nameless.customer.id)
    assert kept is not None and kept.name == "Ola"


async def test_merge_returns_a_record_that_get_merge_and_both_files_show(
    store: Store, pair: Pair, clock: Clock
) -> None:
    now = clock()
    record = await store.merge_customers(pair.kept.id, pair.merged.id, actor_id="agt_1", now=now)
    assert (record.kept_id, record.merged_id, record.actor_id) == (
        pair.kept.id,
        pair.merged.id,
        "agt_1",
    )
    assert (record.created_at, record.undone_at) == (now, None)
    assert await store.get_merge(record.id) == record
    for customer_id in (pair.kept.id, pair.merged.id):
        assert (await _file(store, customer_id)).merges == (record,)


async def test_undo_merge_marks_the_record_undone(store: Store, pair: Pair, clock: Clock) -> None:
    record = await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    undone_at = clock()
    undone = await store.undo_merge(record.id, now=undone_at)
    assert undone == dataclasses.replace(record, undone_at=undone_at)
    assert await store.get_merge(record.id) == undone


async def test_undone_merge_lists_the_customer_again(
    store: Store, pair: Pair, clock: Clock
) -> None:
    record = await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    await store.undo_merge(record.id, now=clock())
    ids = {c.id for c in (await store.list_customers()).items}
    assert ids == {pair.kept.id, pair.merged.id}


async def test_get_merge_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_merge("mrg_missing") is None


async def test_merging_a_customer_into_itself_conflicts(store: Store, pair: Pair) -> None:
    with pytest.raises(Conflict):
        await store.merge_customers(pair.kept.id, pair.kept.id, actor_id=None, now=utcnow())


async def test_merging_an_unknown_customer_is_not_found(store: Store, pair: Pair) -> None:
    with pytest.raises(NotFound):
        await store.merge_customers(pair.kept.id, "cus_missing", actor_id=None, now=utcnow())


async def test_merging_an_already_merged_customer_conflicts(
    store: Store, pair: Pair, clock: Clock
) -> None:
    third = await store.create_customer(
        name="Third", attributes={}, tags=(), identities=(), now=clock()
    )
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    with pytest.raises(Conflict):
        await store.merge_customers(third.customer.id, pair.merged.id, actor_id=None, now=clock())
    with pytest.raises(Conflict):
        await store.merge_customers(pair.merged.id, third.customer.id, actor_id=None, now=clock())


async def test_undoing_a_merge_twice_conflicts(store: Store, pair: Pair, clock: Clock) -> None:
    record = await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    await store.undo_merge(record.id, now=clock())
    with pytest.raises(Conflict):
        await store.undo_merge(record.id, now=clock())


async def test_undoing_an_unknown_merge_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.undo_merge("mrg_missing", now=utcnow())


async def test_undo_is_refused_while_the_kept_customer_is_merged_onward(
    store: Store, pair: Pair, clock: Clock
) -> None:
    third = await store.create_customer(
        name="Third", attributes={}, tags=(), identities=(), now=clock()
    )
    first = await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    second = await store.merge_customers(
        third.customer.id, pair.kept.id, actor_id=None, now=clock()
    )
    with pytest.raises(Conflict):
        await store.undo_merge(first.id, now=clock())
    await store.undo_merge(second.id, now=clock())
    await store.undo_merge(first.id, now=clock())
    merged = await store.get_customer(pair.merged.id)
    assert merged is not None and merged.merged_into is None


async def test_ingest_from_a_moved_identity_lands_on_the_kept_customer(
    store: Store, pair: Pair, ingest: IngestHelper, clock: Clock
) -> None:
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    result = await ingest(sender="kari@home.example", at=clock())
    assert result.customer.id == pair.kept.id
    assert result.customer_created is False
    assert result.message.customer_id == pair.kept.id
    identity = await store.find_identity(EMAIL, "kari@home.example")
    assert identity is not None and identity.customer_id == pair.kept.id


async def test_resolve_customer_of_a_moved_identity_returns_the_kept_customer(
    store: Store, pair: Pair, clock: Clock
) -> None:
    await store.merge_customers(pair.kept.id, pair.merged.id, actor_id=None, now=clock())
    customer, _, created = await store.resolve_customer(
        PHONE, "+4712345678", name=None, now=clock() + timedelta(seconds=1)
    )
    assert (customer.id, created) == (pair.kept.id, False)
