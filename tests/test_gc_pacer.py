"""The GC pacer: young collections on a timer, full ones only when the heap has grown."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.gc_pacer import NO_AUTOMATIC_FULL, PACER_KEY, QUIET_TICKS, GcPacer, pace_gc


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def gc_state() -> Iterator[None]:
    """Whatever a test does to the collector, the rest of the session gets it back."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.fixture
def manual_gc() -> None:
    """No automatic collection during the test, so only what the test calls collects."""
    gc.disable()


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


def test_ticks_collect_generation_0_and_every_nth_also_generation_1(manual_gc: None) -> None:
    pacer = GcPacer(young_ticks=3)
    older = cycle_in(1)
    young = cycle_in(0)  # after: cycle_in(1) runs a generation-0 collection
    pacer.tick()
    assert young() is None and older() is not None
    pacer.tick()
    assert older() is not None
    pacer.tick()
    assert older() is None
    assert pacer.runs == [2, 1, 0]


def test_the_oldest_generation_waits_until_the_heap_has_grown(manual_gc: None) -> None:
    clock, blocks = Clock(), [2_000_000]
    pacer = GcPacer(
        clock=clock, blocks=lambda: blocks[0], young_ticks=1, full_every=30.0, growth=0.25
    )
    old = cycle_in(2)
    clock.now += 60
    blocks[0] = 2_400_000  # grown by 20%: not due
    pacer.tick()
    assert old() is not None and pacer.runs == [0, 1, 0]

    blocks[0] = 2_600_000  # grown by 30%, but the last full run was 10 s ago: not yet
    pacer.last_full = clock.now - 10
    pacer.tick()
    assert old() is not None and pacer.runs == [0, 2, 0]

    clock.now += 20  # 30 s since the last full run: due
    pacer.tick()
    assert old() is None
    assert pacer.runs == [0, 2, 1]
    assert pacer.after_full == 2_600_000 and pacer.last_full == clock.now

    old = cycle_in(2)
    clock.now += 60
    blocks[0] = 3_000_000  # +15% on what the full run left: not due again
    pacer.tick()
    assert old() is not None and pacer.runs == [0, 3, 1]


def test_a_full_collection_runs_after_full_at_most_whatever_the_heap(manual_gc: None) -> None:
    clock, blocks = Clock(), [2_000_000]
    pacer = GcPacer(clock=clock, blocks=lambda: blocks[0], young_ticks=1, full_at_most=900.0)
    old = cycle_in(2)
    clock.now += 899
    pacer.tick()
    assert old() is not None
    clock.now += 1
    pacer.tick()
    assert old() is None and pacer.runs == [0, 1, 1]


def test_a_full_collection_waits_for_a_quiet_loop_but_not_past_full_at_most(
    manual_gc: None,
) -> None:
    clock, blocks = Clock(), [2_000_000]
    pacer = GcPacer(clock=clock, blocks=lambda: blocks[0], young_ticks=1, full_at_most=900.0)
    clock.now += 60
    blocks[0] = 3_000_000  # grown by half: due, but the loop is busy
    pacer.tick(quiet=False)
    for _ in range(QUIET_TICKS - 1):
        pacer.tick()
    assert pacer.runs[2] == 0  # not yet quiet for long enough
    pacer.tick()
    assert pacer.runs[2] == 1

    old = cycle_in(2)
    clock.now += 900  # the cap: busy or not
    pacer.tick(quiet=False)
    assert old() is None and pacer.runs[2] == 2


async def test_a_tick_that_wakes_late_counts_the_loop_as_busy() -> None:
    pacer = GcPacer(period=0.01)
    pacer.start()
    try:
        while pacer.ticks < 3:  # noqa: ASYNC110 (the pacer's own counter)
            await asyncio.sleep(0.01)
        ticks = pacer.ticks  # (without the check, quiet_ticks would be QUIET_TICKS + ticks)
        time.sleep(0.05)  # noqa: ASYNC251 - the loop is busy: the next tick wakes late
        while pacer.ticks == ticks:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        assert pacer.quiet_ticks < QUIET_TICKS
    finally:
        await pacer.stop()


def test_a_small_heap_counts_its_growth_from_the_floor(manual_gc: None) -> None:
    clock, blocks = Clock(), [10_000]
    pacer = GcPacer(clock=clock, blocks=lambda: blocks[0], young_ticks=1, floor=1_000_000)
    clock.now += 60
    blocks[0] = 1_200_000  # 120 times the start, but under floor x 1.25
    pacer.tick()
    assert pacer.runs[2] == 0
    blocks[0] = 1_300_000
    pacer.tick()
    assert pacer.runs[2] == 1


def test_the_block_count_is_not_read_before_full_every(manual_gc: None) -> None:
    clock, reads = Clock(), [0]

    def blocks() -> int:
        reads[0] += 1
        return 10**9

    pacer = GcPacer(clock=clock, blocks=blocks, young_ticks=1, full_every=30.0)
    for _ in range(5):
        pacer.tick()
    assert reads[0] == 1 and pacer.runs[2] == 0  # only the constructor's


async def test_while_it_runs_cpython_never_starts_a_full_collection() -> None:
    def survivors() -> list[Node]:
        # CPython starts a full run once the objects moved to the oldest generation since
        # the last one pass a quarter of what it left there: this many always do.
        gc.collect()
        return [Node() for _ in range(len(gc.get_objects()) // 4 + 1_000)]

    gc.set_threshold(10, 1, 1)
    fulls = gc.get_stats()[2]["collections"]
    kept = survivors()
    assert gc.get_stats()[2]["collections"] > fulls + 1  # the control: CPython starts them
    del kept

    pacer = GcPacer(period=60.0)  # no tick during the test
    pacer.start()
    try:
        assert gc.get_threshold() == (10, 1, NO_AUTOMATIC_FULL)
        fulls = gc.get_stats()[2]["collections"]
        kept = survivors()
        assert gc.get_stats()[2]["collections"] == fulls + 1  # survivors()'s own gc.collect()
        del kept
    finally:
        await pacer.stop()
    assert gc.get_threshold() == (10, 1, 1)


async def test_it_ticks_on_a_timer_until_stopped(manual_gc: None) -> None:
    pacer = GcPacer(period=0.01, young_ticks=2)
    pacer.start()
    try:
        ref = cycle_in(1)
        for _ in range(200):
            await asyncio.sleep(0.01)
            if ref() is None:
                break
        assert ref() is None
        assert pacer.runs[0] >= 1 and pacer.runs[1] >= 1
    finally:
        await pacer.stop()
    assert pacer._task is None
    ticks = pacer.ticks
    await asyncio.sleep(0.05)
    assert pacer.ticks == ticks


async def test_a_failing_tick_is_logged_and_the_pacer_keeps_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = [0]

    def clock() -> float:
        calls[0] += 1
        if calls[0] == 2:  # the first tick's check
            raise RuntimeError("boom")
        return 1.0

    pacer = GcPacer(period=0.01, young_ticks=1, clock=clock)
    pacer.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.01)
            if pacer.runs[1] >= 2:
                break
    finally:
        await pacer.stop()
    assert pacer.runs[1] >= 2
    assert "gc pacer tick failed" in caplog.text


async def test_pace_gc_freezes_start_up_and_paces_for_the_life_of_the_app(
    aiohttp_client: Callable[..., Any],
) -> None:
    app = web.Application()
    app.cleanup_ctx.append(pace_gc)
    client: TestClient = await aiohttp_client(app)
    pacer = app[PACER_KEY]
    assert gc.get_freeze_count() > 0  # start-up objects are frozen
    assert gc.get_threshold() == (10_000, 100, NO_AUTOMATIC_FULL)
    ticks = pacer.ticks
    await asyncio.sleep(pacer.period * 4)
    assert pacer.ticks > ticks
    await client.close()
    assert pacer._task is None
    assert gc.get_threshold() == (10_000, 100, 20)


def test_hub_serve_runs_the_pacer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub import cli

    served: list[web.Application] = []
    monkeypatch.setenv("HUB_STORE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    monkeypatch.setattr(cli, "_install_uvloop", lambda: None)  # process-wide: not in a test
    monkeypatch.setattr(cli, "_tune_threads", lambda: None)
    monkeypatch.setattr(web, "run_app", lambda app, **_: served.append(app))
    assert cli.main(["serve", "--port", "0"]) == 0
    assert pace_gc in served[0].cleanup_ctx
