"""Shared bits for the benchmarks: timers, a percentile helper and a plain-text table printer."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

now_ns = time.perf_counter_ns


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an already sorted, non-empty sequence."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


class Stats:
    """Latency samples in ms, summarised as p50 / p99 / max."""

    def __init__(self, samples_ms: Sequence[float]) -> None:
        self.samples = sorted(samples_ms)
        self.n = len(self.samples)
        self.p50 = percentile(self.samples, 50)
        self.p99 = percentile(self.samples, 99)
        self.max = self.samples[-1]


def time_sync(fn: Callable[[Any], object], args: Sequence[Any]) -> Stats:
    """Call fn(arg) once per arg and time each call."""
    out: list[float] = []
    for arg in args:
        start = now_ns()
        fn(arg)
        out.append((now_ns() - start) / 1e6)
    return Stats(out)


async def time_async(fn: Callable[[Any], Awaitable[object]], args: Sequence[Any]) -> Stats:
    """Await fn(arg) once per arg, one at a time, and time each call."""
    out: list[float] = []
    for arg in args:
        start = now_ns()
        await fn(arg)
        out.append((now_ns() - start) / 1e6)
    return Stats(out)


def verdict(value: float, target: float, *, lower_is_better: bool = True) -> str:
    """PASS or MISS of a figure against its target."""
    ok = value <= target if lower_is_better else value >= target
    return "PASS" if ok else "MISS"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a left-aligned text table (floats with 3 decimals) under a title."""
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    print(line)
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
