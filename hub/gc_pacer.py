"""Young-generation garbage collection on a timer, so that no collection stalls the loop long.

CPython starts a young collection when allocations minus deallocations of tracked objects
pass a threshold. A hub holding thousands of websockets frees old objects all the time
(evicted replay events, finished requests), and every such free lowers that count. So while
the count crawls up to the threshold, the young generation keeps growing: at 10,000
connections a "threshold 10,000" collection found 46,000 young objects and held the loop
24 ms (bench/webchat.py; most of the cost is cache misses on the old objects they point
to). That single pause was most of a visitor's first-message p99.

The pacer collects generations 0 and 1 every `period` seconds instead, so a collection
only ever sees what survived since the last tick: about 2,500 objects and under 2 ms at
1,000 new conversations a second. Survivors move to the oldest generation, as they would
after CPython's own generation-1 run.

Full collections walk every live object (300 ms at 10,000 websockets, PERFORMANCE.md), so
the pacer runs one only when the heap has grown by `growth` (a quarter, as CPython's own
rule) since the last one, in memory blocks (`sys.getallocatedblocks`, so cyclic garbage
that piles up in the oldest generation counts), and no more often than every `full_every`
seconds. While it runs, CPython's automatic full collection is off (its count grows with
every tick); the automatic young collections stay on, as a backstop for bursts that
allocate a lot between two ticks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

log = logging.getLogger(__name__)

PERIOD = 0.1
GROWTH = 0.25
FULL_EVERY = 30.0
FLOOR = 1_000_000  # memory blocks: below this a heap is small, and growth counts from here
NO_AUTOMATIC_FULL = 2**31 - 1


class GcPacer:
    def __init__(
        self,
        period: float = PERIOD,
        *,
        growth: float = GROWTH,
        full_every: float = FULL_EVERY,
        floor: int = FLOOR,
        clock: Callable[[], float] = time.monotonic,
        blocks: Callable[[], int] = sys.getallocatedblocks,
    ) -> None:
        self.period = period
        self.growth = growth
        self.full_every = full_every
        self.floor = floor
        self.clock = clock
        self.blocks = blocks
        self.after_full = blocks()  # the heap as the last full collection (or start) left it
        self.last_full = clock()
        self.young_runs = 0
        self.full_runs = 0
        self._task: asyncio.Task[None] | None = None
        self._thresholds: tuple[int, int, int] | None = None

    def full_due(self) -> bool:
        grown = self.blocks() > (1 + self.growth) * max(self.after_full, self.floor)
        return grown and self.clock() - self.last_full >= self.full_every

    def tick(self) -> None:
        """One step: collect the young generations; a full collection when it is due."""
        if self.full_due():
            self.full()
            return
        gc.collect(1)
        self.young_runs += 1

    def full(self) -> None:
        gc.collect(2)
        self.full_runs += 1
        self.after_full = self.blocks()
        self.last_full = self.clock()

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                self.tick()
            except Exception:  # a finalizer's error must not stop collection for good
                log.exception("gc pacer tick failed")

    def start(self) -> None:
        """Take over full collections and start ticking (inside a running loop)."""
        if self._task is not None:
            return
        t0, t1, t2 = gc.get_threshold()
        self._thresholds = (t0, t1, t2)
        gc.set_threshold(t0, t1, NO_AUTOMATIC_FULL)
        self._task = asyncio.get_running_loop().create_task(self.run(), name="gc-pacer")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None


def tune_gc() -> None:
    """Freeze what start-up built, and raise the automatic young threshold (a backstop)."""
    # Full collections over many long-lived objects stall the loop (300 ms at 10k websockets,
    # PERFORMANCE.md): start-up objects are frozen, never walked again. The pacer does the
    # young collections on a timer; the automatic ones (10,000) only catch bursts.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 100, 20)


PACER_KEY = web.AppKey("gc_pacer", GcPacer)


async def pace_gc(app: web.Application) -> AsyncIterator[None]:
    """aiohttp cleanup context for `hub serve`: tune_gc(), then a GcPacer for the app's life."""
    tune_gc()
    pacer = GcPacer()
    pacer.start()
    app[PACER_KEY] = pacer
    yield
    await pacer.stop()
