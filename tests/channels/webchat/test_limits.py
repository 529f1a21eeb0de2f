"""Token buckets: a burst, then a steady rate; idle keys are forgotten."""

from __future__ import annotations

import pytest

from channels.webchat.limits import BucketTable, ConnectionSlots, TokenBucket


def test_bucket_allows_a_burst_then_refuses_with_the_wait() -> None:
    bucket = TokenBucket(3, 2.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)  # one token at 2/s


def test_bucket_refills_at_its_rate_up_to_capacity() -> None:
    bucket = TokenBucket(3, 2.0, now=0.0)
    for _ in range(3):
        bucket.take(0.0)
    assert bucket.take(0.5) == 0.0
    assert bucket.take(0.5) > 0
    assert bucket.is_full(100.0)
    assert [bucket.take(100.0) for _ in range(4)][-1] > 0  # capped at 3, not 200


def test_refused_take_costs_nothing() -> None:
    bucket = TokenBucket(1, 1.0, now=0.0)
    bucket.take(0.0)
    for _ in range(10):
        assert bucket.take(0.5) > 0
    assert bucket.take(1.0) == 0.0


def test_zero_rate_never_refills() -> None:
    bucket = TokenBucket(1, 0.0, now=0.0)
    bucket.take(0.0)
    assert bucket.take(1e9) == float("inf")


def test_bucket_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1.0, now=0.0)


def test_table_keeps_one_bucket_per_key() -> None:
    now = [0.0]
    table = BucketTable(clock=lambda: now[0])
    assert table.take("a", 1, 1.0) == 0.0
    assert table.take("a", 1, 1.0) > 0
    assert table.take("b", 1, 1.0) == 0.0


def test_table_forgets_buckets_once_full_again() -> None:
    now = [0.0]
    table = BucketTable(clock=lambda: now[0], sweep_seconds=10.0)
    for n in range(100):
        table.take(f"visitor-{n}", 5, 1.0)
    table.take("busy", 1, 0.001)
    assert len(table) == 101
    now[0] = 11.0
    table.take("busy", 1, 0.001)  # triggers the sweep; "busy" has not refilled
    assert len(table) == 1


def test_table_stays_bounded_under_a_flood_of_distinct_keys() -> None:
    now = [0.0]
    table = BucketTable(clock=lambda: now[0], sweep_seconds=60.0, sweep_keys=1_000)
    for n in range(100_000):  # 10,000 new addresses a second, each opening one connection
        now[0] += 0.0001
        assert table.take(f"c:203.0.{n}", 2_000, 20.0) == 0.0  # full again after 0.05 s
        assert len(table) <= 2_000
    assert table.take("c:203.0.7", 1, 0.001) == 0.0


def test_table_sweeps_early_without_forgetting_buckets_still_refilling() -> None:
    now = [0.0]
    table = BucketTable(clock=lambda: now[0], sweep_seconds=60.0, sweep_keys=10)
    for n in range(50):  # slow buckets: none refills within the test
        table.take(f"v:{n}", 1, 0.001)
    assert len(table) == 50
    assert all(table.take(f"v:{n}", 1, 0.001) > 0 for n in range(50))


def test_slots_cap_each_key_and_are_given_back() -> None:
    slots = ConnectionSlots()
    assert [slots.acquire("a", 2) for _ in range(3)] == [True, True, False]
    assert slots.acquire("b", 2)
    slots.release("a")
    assert slots.acquire("a", 2)
    assert slots.held("a") == 2


def test_slots_forget_a_key_with_its_last_socket() -> None:
    slots = ConnectionSlots()
    for n in range(1_000):
        slots.acquire(f"addr-{n}", 5)
    for n in range(1_000):
        slots.release(f"addr-{n}")
    assert len(slots) == 0
    slots.release("never-seen")  # a stray release does not go negative
    assert slots.held("never-seen") == 0
