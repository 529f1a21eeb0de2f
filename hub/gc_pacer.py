"""Young-generation garbage collection on a timer, so that no collection stalls the loop long.

CPython starts a young collection when allocations minus deallocations of tracked objects
pass a threshold. A hub holding thousands of websockets frees old objects all the time
(evicted replay events, finished requests), and every such free lowers that count. So while
the count crawls up to the threshold, the young generation keeps growing: at 10,000
connections a "threshold 10,000" collection found 46,000 young objects and held the loop
24 ms (bench/webchat.py; most of the cost is cache misses on the old objects they point
to). That single pause was most of a visitor's first-message p99.

The pacer collects generation 0 every `period` seconds instead, so a collection only ever
sees what survived since the last tick, and generations 0 and 1 every `young_ticks` ticks:
an object still alive then has lived at least one period, and moves to the oldest
generation, as after CPython's own generation-1 run (which, at its default thresholds, runs
after 10 young ones). At 1,000 new conversations a second every pause stays at a few ms.

Full collections walk every live object (300 ms at 10,000 websockets, PERFORMANCE.md), so
the pacer runs one when the heap has grown by `growth` (a quarter, as CPython's own rule)
since the last one, and at least `full_every` seconds after it; and in any case after
`full_at_most` seconds, so cyclic garbage is never kept longer than that. Growth is counted
in memory blocks (`sys.getallocatedblocks`, so garbage piling up in the oldest generation
counts; a block is one object, whatever its size, so a few large garbage buffers move it
little: the time cap covers them). Short of that cap, a full collection also waits until
the loop has been quiet for half a second (ten ticks in a row woke on time, and the loop
thread used under 60% of a core): in a storm of reconnecting widgets one stopped the loop
818 ms. While the pacer runs, CPython's automatic full
collection is off (its count grows with every generation-1 run); the automatic young
collections stay on as a backstop for bursts that allocate a lot between two ticks.
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

PERIOD = 0.05
YOUNG_TICKS = 4  # generation 1 with every 4th tick: 0.2 s
GROWTH = 0.25
FULL_EVERY = 30.0
FULL_AT_MOST = 900.0
QUIET_LATE = 0.005  # a tick waking later than this finds the loop busy,
QUIET_CPU = 0.6  # and so does one after the loop thread used more of a core than this
QUIET_TICKS = 10  # a full collection waits for this many quiet ticks in a row (0.5 s)
FLOOR = 1_000_000  # memory blocks: below this a heap is small, and growth counts from here
NO_AUTOMATIC_FULL = 2**31 - 1


class GcPacer:
    def __init__(
        self,
        period: float = PERIOD,
        *,
        young_ticks: int = YOUNG_TICKS,
        growth: float = GROWTH,
        full_every: float = FULL_EVERY,
        full_at_most: float = FULL_AT_MOST,
        floor: int = FLOOR,
        clock: Callable[[], float] = time.monotonic,
        blocks: Callable[[], int] = sys.getallocatedblocks,
    ) -> None:
        self.period = period
        self.young_ticks = young_ticks
        self.growth = growth
        self.full_every = full_every
        self.full_at_most = full_at_most
        self.floor = floor
        self.clock = clock
        self.blocks = blocks
        self.after_full = blocks()  # the heap as the last full collection (or start) left it
        self.last_full = clock()
        self.ticks = 0
        self.quiet_ticks = QUIET_TICKS  # ticks in a row that woke on time
        self.runs = [0, 0, 0]  # collections the pacer ran, per generation
        self._task: asyncio.Task[None] | None = None
        self._full_threshold: int | None = None

    def full_due(self) -> bool:
        since = self.clock() - self.last_full
        if since >= self.full_at_most:
            return True
        if since < self.full_every or self.quiet_ticks < QUIET_TICKS:
            return False  # the clock and the loop first: counting blocks walks the pools
        return self.blocks() > (1 + self.growth) * max(self.after_full, self.floor)

    def tick(self, *, quiet: bool = True) -> None:
        """One step: generation 0, or 0 and 1 every `young_ticks`; a full run when due.

        `quiet`: the loop is not busy (`run` measures it: the tick woke on time, and the loop
        thread did not use most of a core since the last one).
        """
        self.ticks += 1
        self.quiet_ticks = self.quiet_ticks + 1 if quiet else 0
        if self.ticks % self.young_ticks:
            self.collect(0)
        elif self.full_due():
            self.collect(2)
            self.after_full = self.blocks()
            self.last_full = self.clock()
        else:
            self.collect(1)

    def collect(self, generation: int) -> None:
        gc.collect(generation)
        self.runs[generation] += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asleep, cpu = loop.time(), time.thread_time()
            await asyncio.sleep(self.period)
            took = loop.time() - asleep
            busy = (time.thread_time() - cpu) / took  # the loop thread's share of a core
            try:
                self.tick(quiet=took - self.period < QUIET_LATE and busy < QUIET_CPU)
            except Exception:  # the clock or the block count: never stop collecting for good
                log.exception("gc pacer tick failed")

    def start(self) -> None:
        """Take over full collections and start ticking (inside a running loop)."""
        if self._task is not None:
            return
        t0, t1, t2 = gc.get_threshold()
        self._full_threshold = t2
        gc.set_threshold(t0, t1, NO_AUTOMATIC_FULL)
        self._task = asyncio.get_running_loop().create_task(self.run(), name="gc-pacer")

    async def stop(self) -> None:
        """Stop ticking and give full collections back to CPython."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._full_threshold is not None:
            t0, t1, _ = gc.get_threshold()
            gc.set_threshold(t0, t1, self._full_threshold)
            self._full_threshold = None


def tune_gc() -> None:
    """Freeze what start-up built, and raise the automatic young threshold (a backstop)."""
    # Full collections over many long-lived objects stall the loop (300 ms at 10k websockets,
    # PERFORMANCE.md): start-up objects are frozen, never walked again. The pacer does the
    # collections on a timer; the automatic young ones (10,000) only catch bursts, and the
    # automatic full one is off while the pacer runs.
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
