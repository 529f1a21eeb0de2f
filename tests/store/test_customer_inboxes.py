"""Store contract: the inboxes of customers' conversations (what customer access decides on)."""

from __future__ import annotations

from hub.model import IdentityKind, utcnow
from hub.store import Store

from .conftest import Clock, IngestHelper


async def test_customer_inbox_ids_name_each_customers_inboxes_once(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    sms = await store.create_inbox(name="SMS", channel="sms", team_id=None, config={}, now=clock())
    first = await ingest(sender="kari@example.com", at=clock())
    await store.add_identity(first.customer.id, IdentityKind.PHONE, "+4712345678", now=clock())
    await ingest(to=sms, sender="+4712345678", sender_kind=IdentityKind.PHONE, at=clock())
    other = await ingest(sender="ola@example.com", at=clock())
    found = await store.customer_inbox_ids([first.customer.id, other.customer.id])
    assert found == {
        first.customer.id: frozenset({first.conversation.inbox_id, sms.id}),
        other.customer.id: frozenset({other.conversation.inbox_id}),
    }


async def test_customer_inbox_ids_are_empty_for_a_customer_without_conversations(
    store: Store,
) -> None:
    file = await store.create_customer(
        name="Kari", attributes={}, tags=(), identities=[], now=utcnow()
    )
    found = await store.customer_inbox_ids([file.customer.id, "no-such-customer"])
    assert found == {file.customer.id: frozenset(), "no-such-customer": frozenset()}
    assert await store.customer_inbox_ids([]) == {}


async def test_customer_inbox_ids_follow_a_merge_and_its_undo(
    store: Store, ingest: IngestHelper, clock: Clock
) -> None:
    kept = await ingest(sender="kari@example.com", at=clock())
    merged = await ingest(sender="ola@example.com", at=clock())
    ids = [kept.customer.id, merged.customer.id]
    record = await store.merge_customers(*ids, actor_id=None, now=clock())
    found = await store.customer_inbox_ids(ids)
    assert found == {ids[0]: frozenset({kept.conversation.inbox_id}), ids[1]: frozenset()}
    await store.undo_merge(record.id, now=clock())
    found = await store.customer_inbox_ids(ids)
    assert found[ids[1]] == frozenset({merged.conversation.inbox_id})
