"""The GC pacer: young collections on a timer, full ones only when the heap has grown."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.gc_pacer import NO_AUTOMATIC_FULL, PACER_KEY, GcPacer, pace_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture
def manual_gc() -> Iterator[None]:
    """No automatic collection during the test, so only what the test calls collects."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def cycle_in(generation: int) -> weakref.ref[Node]:
    """A garbage cycle sitting in `generation` (moved there while it was still alive)."""
    node = Node()
    for g in range(generation):
        gc.collect(g)  # survivors of a generation-g run move to g + 1
    ref = weakref.ref(node)
    del node
    return ref


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_tick_collects_cycles_of_generations_0_and_1(manual_gc: None) -> None:
    pacer = GcPacer()
    older = cycle_in(1)
    young = cycle_in(0)  # after: cycle_in(1) runs a generation-0 collection
    assert young() is not None and older() is not None
    pacer.tick()
    assert young() is None and older() is None
    assert pacer.young_runs == 1 and pacer.full_runs == 0


def test_a_tick_leaves_the_oldest_generation_until_the_heap_has_grown(manual_gc: None) -> None:
    clock, blocks = Clock(), [2_000_000]
    pacer = GcPacer(clock=clock, blocks=lambda: blocks[0], full_every=30.0, growth=0.25)
    old = cycle_in(2)
    clock.now += 60
    blocks[0] = 2_400_000  # grown by 20%: not due
    pacer.tick()
    assert old() is not None and pacer.full_runs == 0

    blocks[0] = 2_600_000  # grown by 30%, but the last full run was 10 s ago: not yet
    pacer.last_full = clock.now - 10
    pacer.tick()
    assert old() is not None and pacer.full_runs == 0

    clock.now += 20  # 30 s since the last full run: due
    pacer.tick()
    assert old() is None
    assert pacer.full_runs == 1
    assert pacer.after_full == 2_600_000 and pacer.last_full == clock.now

    old = cycle_in(2)
    clock.now += 60
    blocks[0] = 3_000_000  # +15% on what the full run left: not due again
    pacer.tick()
    assert old() is not None and pacer.full_runs == 1
    gc.collect()


def test_a_small_heap_counts_its_growth_from_the_floor(manual_gc: None) -> None:
    clock, blocks = Clock(), [10_000]
    pacer = GcPacer(clock=clock, blocks=lambda: blocks[0], floor=1_000_000, full_every=0.0)
    blocks[0] = 1_200_000  # 120 times the start, but under floor x 1.25
    pacer.tick()
    assert pacer.full_runs == 0
    blocks[0] = 1_300_000
    pacer.tick()
    assert pacer.full_runs == 1


async def test_it_ticks_on_a_timer_and_owns_full_collections_while_it_runs() -> None:
    before = gc.get_threshold()
    pacer = GcPacer(period=0.01)
    pacer.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], NO_AUTOMATIC_FULL)
        was = gc.isenabled()
        gc.disable()  # only the pacer collects now
        try:
            ref = cycle_in(1)
            for _ in range(200):
                await asyncio.sleep(0.01)
                if ref() is None:
                    break
            assert ref() is None
        finally:
            if was:
                gc.enable()
        assert pacer.young_runs >= 1
    finally:
        await pacer.stop()
    assert gc.get_threshold() == before
    assert pacer._task is None


async def test_a_failing_tick_is_logged_and_the_pacer_keeps_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = [0]

    def blocks() -> int:
        calls[0] += 1
        if calls[0] == 2:  # the first tick's check
            raise RuntimeError("boom")
        return 1

    pacer = GcPacer(period=0.01, blocks=blocks)
    pacer.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if pacer.young_runs >= 2:
                break
    finally:
        await pacer.stop()
    assert pacer.young_runs >= 2
    assert "gc pacer tick failed" in caplog.text


async def test_hub_serve_runs_the_pacer_for_the_life_of_the_app(
    aiohttp_client: Callable[..., Any],
) -> None:
    before = gc.get_threshold()
    app = web.Application()
    app.cleanup_ctx.append(pace_gc)
    try:
        client: TestClient = await aiohttp_client(app)
        pacer = app[PACER_KEY]
        assert gc.get_freeze_count() > 0  # start-up objects are frozen
        assert gc.get_threshold() == (10_000, 100, NO_AUTOMATIC_FULL)
        runs = pacer.young_runs
        await asyncio.sleep(pacer.period * 3)
        assert pacer.young_runs > runs
        await client.close()
        assert pacer._task is None
        assert gc.get_threshold() == (10_000, 100, 20)
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
        gc.set_threshold(*before)
