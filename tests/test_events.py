"""The in-process event bus: ordering, filters, overflow, replay, closing."""

from __future__ import annotations

import asyncio
import gc
import weakref
from datetime import UTC

import pytest

from hub.events import (
    BusClosed,
    EventBus,
    EventType,
    ResyncRequired,
    Subscription,
    SubscriptionClosed,
)

MSG = EventType.MESSAGE_CREATED
CONV = EventType.CONVERSATION_UPDATED


async def queued_ids(bus: EventBus, sub: Subscription) -> list[int]:
    """Ids of everything queued on `sub`: closing the bus lets the iterator drain, then stop."""
    bus.close()
    return [event.id async for event in sub]


def test_event_ids_start_at_one_and_strictly_increase() -> None:
    bus = EventBus()
    ids = [bus.publish(MSG, {"n": n}).id for n in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    assert bus.last_id == 5


def test_published_event_carries_type_data_and_utc_time() -> None:
    event = EventBus().publish(CONV, {"conversation_id": "cnv_1"})
    assert event.type is CONV
    assert event.data == {"conversation_id": "cnv_1"}
    assert event.at.tzinfo is UTC


async def test_subscriber_receives_events_in_publish_order() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    for n in range(10):
        bus.publish(MSG, {"n": n})
    assert [(await sub.get()).data["n"] for _ in range(10)] == list(range(10))


async def test_get_waits_for_the_next_publish() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    pending = asyncio.create_task(sub.get())
    await asyncio.sleep(0)
    assert not pending.done()
    event = bus.publish(MSG, {})
    assert await asyncio.wait_for(pending, 1) is event


async def test_type_filter_queues_only_matching_events() -> None:
    bus = EventBus()
    sub = bus.subscribe(types={CONV})
    bus.publish(MSG, {})
    bus.publish(CONV, {})
    bus.publish(MSG, {})
    bus.publish(CONV, {})
    assert await queued_ids(bus, sub) == [2, 4]


async def test_where_filter_queues_only_events_it_accepts() -> None:
    bus = EventBus()
    sub = bus.subscribe(types={MSG}, where=lambda e: e.data["channel"] == "webchat")
    bus.publish(MSG, {"channel": "api"})
    bus.publish(MSG, {"channel": "webchat"})
    bus.publish(CONV, {"channel": "webchat"})
    assert await queued_ids(bus, sub) == [2]


async def test_events_a_where_filter_rejects_never_count_against_its_queue() -> None:
    bus = EventBus(queue_size=2)
    sub = bus.subscribe(where=lambda e: e.data["keep"])
    for _ in range(10):
        bus.publish(MSG, {"keep": False})
    bus.publish(MSG, {"keep": True})
    assert not sub.dropped
    assert await queued_ids(bus, sub) == [11]


async def test_a_subscription_can_take_a_deeper_queue_than_the_bus_default() -> None:
    bus = EventBus(queue_size=2)
    deep, shallow = bus.subscribe(queue_size=100), bus.subscribe()
    for _ in range(50):
        bus.publish(MSG, {})
    assert not deep.dropped and shallow.dropped
    assert len(await queued_ids(bus, deep)) == 50


async def test_overflowing_subscriber_drains_queue_then_raises_resync_required() -> None:
    bus = EventBus(queue_size=3)
    sub = bus.subscribe()
    for _ in range(5):
        bus.publish(MSG, {})
    assert sub.dropped
    assert [(await sub.get()).id for _ in range(3)] == [1, 2, 3]
    with pytest.raises(ResyncRequired) as raised:
        await sub.get()
    assert raised.value.last_id == 3


def test_poll_takes_queued_events_without_waiting_and_raises_as_get_does() -> None:
    bus = EventBus(queue_size=3)
    for _ in range(2):
        bus.publish(MSG, {})
    sub = bus.subscribe(since=1)  # one replayed event, then live ones
    assert sub.poll() is not None and sub.last_id == 2
    assert sub.poll() is None and sub.last_id == 2  # nothing queued: no wait, no change
    for _ in range(4):  # one more than the queue holds
        bus.publish(MSG, {})
    assert [sub.poll().id for _ in range(3)] == [3, 4, 5]  # type: ignore[union-attr]
    with pytest.raises(ResyncRequired) as raised:
        sub.poll()
    assert raised.value.last_id == 5
    sub.close()
    with pytest.raises(SubscriptionClosed):
        sub.poll()
    other = EventBus().subscribe()
    other._bus.close()  # type: ignore[union-attr]
    with pytest.raises(BusClosed):
        other.poll()


async def test_overflowing_subscriber_is_removed_from_bus() -> None:
    bus = EventBus(queue_size=3)
    bus.subscribe()
    for _ in range(4):
        bus.publish(MSG, {})
    assert bus.subscriber_count == 0


async def test_stalled_subscriber_never_blocks_publish_or_starves_fast_one() -> None:
    bus = EventBus(queue_size=3)
    stalled = bus.subscribe()
    fast = bus.subscribe()
    received: list[int] = []

    async def consume() -> None:
        async for event in fast:
            received.append(event.id)

    consumer = asyncio.create_task(consume())

    async def publish_all() -> None:
        for n in range(10_000):
            bus.publish(MSG, {"n": n})
            await asyncio.sleep(0)  # let the fast consumer run; nothing waits on `stalled`

    await asyncio.wait_for(publish_all(), 10)
    bus.close()
    await asyncio.wait_for(consumer, 1)
    assert received == list(range(1, 10_001))
    assert stalled.dropped and not fast.dropped


async def test_subscribe_since_replays_buffered_events_before_live_ones() -> None:
    bus = EventBus()
    for _ in range(5):
        bus.publish(MSG, {})
    sub = bus.subscribe(since=2)
    bus.publish(MSG, {})
    assert await queued_ids(bus, sub) == [3, 4, 5, 6]


async def test_replay_applies_type_filter() -> None:
    bus = EventBus()
    for event_type in (MSG, CONV, MSG, CONV):
        bus.publish(event_type, {})
    sub = bus.subscribe(types=[CONV], since=0)
    assert await queued_ids(bus, sub) == [2, 4]


async def test_replay_backlog_larger_than_queue_size_is_not_dropped() -> None:
    bus = EventBus(queue_size=2)
    for _ in range(5):
        bus.publish(MSG, {})
    sub = bus.subscribe(since=0)
    bus.publish(MSG, {})
    assert not sub.dropped
    assert await queued_ids(bus, sub) == [1, 2, 3, 4, 5, 6]


async def test_subscribe_since_older_than_replay_buffer_raises_resync_required() -> None:
    bus = EventBus(replay_size=3)
    for _ in range(10):
        bus.publish(MSG, {})
    sub = bus.subscribe(since=2)
    with pytest.raises(ResyncRequired) as raised:
        await sub.get()
    assert raised.value.last_id == 2
    assert bus.subscriber_count == 0


def test_since_returns_events_after_id_or_none_for_a_gap() -> None:
    bus = EventBus(replay_size=3)
    for _ in range(5):
        bus.publish(MSG, {})
    assert [e.id for e in bus.since(2) or []] == [3, 4, 5]
    assert bus.since(5) == []
    assert bus.since(1) is None  # event 2 has left the buffer
    assert bus.since(6) is None  # ahead of the bus, e.g. an id from before a restart


async def test_close_ends_subscription_iterators() -> None:
    bus = EventBus()
    subs = [bus.subscribe(), bus.subscribe()]

    async def consume(sub: Subscription) -> int:
        return len([event async for event in sub])

    consumers = [asyncio.create_task(consume(sub)) for sub in subs]
    bus.publish(MSG, {})
    await asyncio.sleep(0)
    bus.close()
    assert await asyncio.wait_for(asyncio.gather(*consumers), 1) == [1, 1]
    assert bus.subscriber_count == 0


async def test_get_after_bus_close_raises_bus_closed() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    bus.close()
    with pytest.raises(BusClosed):
        await sub.get()


def test_subscribe_after_bus_close_raises_bus_closed() -> None:
    bus = EventBus()
    bus.close()
    with pytest.raises(BusClosed):
        bus.subscribe()


async def test_get_after_subscription_close_raises_subscription_closed() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    bus.publish(MSG, {})
    sub.close()
    with pytest.raises(SubscriptionClosed):
        await sub.get()


async def test_context_exit_unsubscribes() -> None:
    bus = EventBus()
    async with bus.subscribe():
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0


def test_bus_holds_no_reference_to_closed_subscription() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    ref = weakref.ref(sub)
    sub.close()
    del sub
    gc.collect()
    assert ref() is None
