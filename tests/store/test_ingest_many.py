"""Store contract: ingest_many is ingest for each request, in order, in one round trip."""

from __future__ import annotations

from datetime import timedelta

from hub.errors import HubError, NotFound
from hub.model import Inbound, IngestResult, utcnow
from hub.store import Store
from hub.store.base import IngestRequest

from .conftest import REOPEN_WINDOW, InboundBuilder


def _requests(*inbounds: Inbound) -> list[IngestRequest]:
    now = utcnow()
    return [
        IngestRequest(
            inbound=ib,
            sender=ib.sender,
            received_at=now + timedelta(milliseconds=i),
            reopen_window=REOPEN_WINDOW,
        )
        for i, ib in enumerate(inbounds)
    ]


async def test_ingest_many_returns_one_result_per_request_in_order(
    store: Store, inbound: InboundBuilder
) -> None:
    batch = [inbound(sender=f"c{i}@example.com", text=f"m{i}") for i in range(5)]
    results = await store.ingest_many(_requests(*batch))
    assert [r.message.text for r in results if isinstance(r, IngestResult)] == [
        f"m{i}" for i in range(5)
    ]
    assert (await store.counts())["messages"] == 5


async def test_ingest_many_threads_messages_of_one_sender_into_one_conversation(
    store: Store, inbound: InboundBuilder
) -> None:
    results = await store.ingest_many(_requests(inbound(), inbound(), inbound()))
    assert all(isinstance(r, IngestResult) for r in results)
    ok = [r for r in results if isinstance(r, IngestResult)]
    assert len({r.conversation.id for r in ok}) == 1
    assert [r.conversation_created for r in ok] == [True, False, False]
    assert ok[-1].conversation.message_count == 3
    stored = await store.get_conversation(ok[0].conversation.id)
    assert stored is not None and stored.message_count == 3


async def test_a_failing_request_gets_its_error_and_the_others_are_stored(
    store: Store, inbound: InboundBuilder
) -> None:
    good = inbound(text="kept")
    bad = Inbound(
        channel="email", inbox_id="inb_missing", provider_id="p-bad", sender_kind=good.sender_kind,
        sender=good.sender, text="lost",
    )  # fmt: skip
    results = await store.ingest_many(_requests(good, bad, inbound(text="also kept")))
    assert isinstance(results[0], IngestResult) and isinstance(results[2], IngestResult)
    assert isinstance(results[1], NotFound)
    assert (await store.counts())["messages"] == 2


async def test_the_same_provider_id_twice_in_one_batch_stores_one_message(
    store: Store, inbound: InboundBuilder
) -> None:
    first = inbound(provider_id="twice")
    results = await store.ingest_many(_requests(first, first))
    assert not isinstance(results[0], HubError) and not isinstance(results[1], HubError)
    assert results[0].duplicate is False and results[1].duplicate is True
    assert results[1].message.id == results[0].message.id
    assert (await store.counts())["messages"] == 1


async def test_ingest_many_of_nothing_is_nothing(store: Store) -> None:
    assert await store.ingest_many([]) == []
