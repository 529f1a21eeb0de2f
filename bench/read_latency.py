"""Read latency of the hub Store on a big SQLite file, beside raw sqlite3 and raw aiosqlite.

Target: customer-file and conversation-list p99 <= 20 ms with 1M messages / 100k conversations
(list_messages is held to the same bar). The queries, each over >= 2,000 random samples after a
warm-up, interleaved in rounds so vCPU drift hits every column alike:

  customer_file      store.customer_file(customer_id)
  conversations p1   store.list_conversations(ConversationFilter(assignee_id=X), limit=25)
  conversations p21  the same, from the cursor reached by following 20 pages
  messages           store.list_messages(conversation_id, limit=50)

The baselines run the same SQL (same WHERE, ORDER BY and LIMIT+1) with raw sqlite3 and with
raw aiosqlite `execute` + `fetchall`, in the same run. A second table repeats the Store reads
while a background task ingests 500 msg/s through `store.ingest` (group commit), beside the idle
figures. Usage: `python bench/read_latency.py [--quick]` (--quick: 100k messages / 10k
conversations); the seeded file is cached in bench/.cache/.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiosqlite

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Stats, now_ns, print_table, time_async, time_sync, verdict
from bench.seed import Size, address, agent_id, conversation_id, customer_id, seeded_copy
from hub.model import ConversationFilter, IdentityKind, Inbound, utcnow
from hub.store import create_store
from hub.store.base import IngestRequest, Store
from hub.store.common import decode_cursor

TARGET_P99_MS = 20.0
SAMPLES, WARMUP, ROUNDS = 2_000, 200, 4
DEEP_PAGES = 20
INGEST_RATE = 500  # msg/s for the concurrent writer
MAX_IN_FLIGHT = INGEST_RATE // 2  # skip beyond this backlog, so draining the writer stays short

SQL = {
    "customer": "SELECT * FROM customers WHERE id = ?",
    "identities": "SELECT * FROM identities WHERE customer_id = ? ORDER BY created_at, id",
    "customer_convs": "SELECT * FROM conversations WHERE customer_id = ?"
    " ORDER BY last_message_at DESC, id DESC LIMIT 200",
    "merges": "SELECT * FROM merges WHERE kept_id = ? OR merged_id = ? ORDER BY created_at, id",
    "first_page": "SELECT * FROM conversations WHERE assignee_id = ?"
    " ORDER BY last_message_at DESC, id DESC LIMIT 26",
    "deep_page": "SELECT * FROM conversations WHERE assignee_id = ?"
    " AND (last_message_at < ? OR (last_message_at = ? AND id < ?))"
    " ORDER BY last_message_at DESC, id DESC LIMIT 26",
    "messages": "SELECT * FROM messages WHERE conversation_id = ?"
    " ORDER BY created_at DESC, id DESC LIMIT 51",
    # not timed here: the per-message lookup of the writer's ingest job (ingest.py `_latest`)
    "ingest_latest": "SELECT * FROM conversations WHERE customer_id = ? AND inbox_id = ?"
    " AND status != ? ORDER BY last_message_at DESC LIMIT 1",
}
Steps = list[tuple[str, tuple[Any, ...]]]


def steps_for(query: str, arg: Any) -> Steps:
    """The raw SQL statements (with parameters) one Store call of `query` runs."""
    if query == "customer_file":
        return [(SQL["customer"], (arg,)), (SQL["identities"], (arg,)),
                (SQL["customer_convs"], (arg,)), (SQL["merges"], (arg, arg))]  # fmt: skip
    if query == "conversations p1":
        return [(SQL["first_page"], (arg,))]
    if query == "conversations p21":
        assignee, at, cid, _ = arg
        return [(SQL["deep_page"], (assignee, at, at, cid))]
    return [(SQL["messages"], (arg,))]


def store_call(store: Store, query: str) -> Callable[[Any], Awaitable[object]]:
    """The Store method for `query`, taking the same sample argument as steps_for."""
    if query == "customer_file":
        return store.customer_file
    if query == "conversations p1":
        return lambda a: store.list_conversations(ConversationFilter(assignee_id=a), limit=25)
    if query == "conversations p21":
        return lambda a: store.list_conversations(
            ConversationFilter(assignee_id=a[0]), limit=25, cursor=a[3]
        )
    return lambda cid: store.list_messages(cid, limit=50)


async def deep_cursors(store: Store, size: Size) -> list[tuple[str, int, str, str]]:
    """Per assignee: (assignee, last_message_at, id, cursor) after following DEEP_PAGES pages."""
    out = []
    for i in range(size.assignees):
        flt, cursor = ConversationFilter(assignee_id=agent_id(i)), ""
        for _ in range(DEEP_PAGES):
            page = await store.list_conversations(flt, limit=25, cursor=cursor or None)
            assert page.next_cursor, "too few conversations per assignee for the deep page"
            cursor = page.next_cursor
        at, cid = decode_cursor(cursor, 2)
        out.append((agent_id(i), at, cid, cursor))
    return out


async def sample_args(store: Store, size: Size, n: int) -> dict[str, list[Any]]:
    """Per query, `n` random arguments (the same ones every run: a fixed seed)."""
    rng = random.Random(42)
    deep = await deep_cursors(store, size)
    return {
        "customer_file": [customer_id(rng.randrange(size.customers)) for _ in range(n)],
        "conversations p1": [agent_id(rng.randrange(size.assignees)) for _ in range(n)],
        "conversations p21": [rng.choice(deep) for _ in range(n)],
        "messages": [conversation_id(rng.randrange(size.conversations)) for _ in range(n)],
    }


def raw_sqlite3(conn: sqlite3.Connection, query: str) -> Callable[[Any], object]:
    def run(arg: Any) -> None:
        for sql, params in steps_for(query, arg):
            conn.execute(sql, params).fetchall()

    return run


def raw_aiosqlite(db: aiosqlite.Connection, query: str) -> Callable[[Any], Awaitable[object]]:
    async def run(arg: Any) -> None:
        for sql, params in steps_for(query, arg):
            cursor = await db.execute(sql, params)
            await cursor.fetchall()

    return run


async def measure_query(
    conn: sqlite3.Connection, db: aiosqlite.Connection, store: Store, query: str, args: list[Any]
) -> dict[str, Stats]:
    """Stats per implementation over the same samples, interleaved in ROUNDS after a warm-up."""
    sync_call = raw_sqlite3(conn, query)
    async_calls = {"aiosqlite": raw_aiosqlite(db, query), "store": store_call(store, query)}

    async def timed(name: str, part: list[Any]) -> Stats:
        if name == "sqlite3":
            return time_sync(sync_call, part)
        return await time_async(async_calls[name], part)

    ms: dict[str, list[float]] = {"sqlite3": [], "aiosqlite": [], "store": []}
    for name in ms:
        await timed(name, args[:WARMUP])
    measured = args[WARMUP:]
    chunk = len(measured) // ROUNDS
    for r in range(ROUNDS):
        for name in ms:
            ms[name] += (await timed(name, measured[r * chunk : (r + 1) * chunk])).samples
    return {name: Stats(values) for name, values in ms.items()}


async def measure_idle(
    path: str, store: Store, samples: dict[str, list[Any]]
) -> dict[str, dict[str, Stats]]:
    """Per query, per implementation: raw sqlite3, raw aiosqlite and the Store, idle."""
    conn = sqlite3.connect(path, isolation_level=None)
    db = await aiosqlite.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "cache_size=-65536"):  # as the Store's reader has
        conn.execute(f"PRAGMA {pragma}")
        await db.execute(f"PRAGMA {pragma}")
    try:
        return {q: await measure_query(conn, db, store, q, a) for q, a in samples.items()}
    finally:
        conn.close()
        await db.close()


async def ingest_loop(store: Store, stop: asyncio.Event, size: Size, latencies: list[float]) -> int:
    """Ingest INGEST_RATE msg/s from existing customers' addresses until stop; returns skips."""
    rng, loop, n, skipped = random.Random(7), asyncio.get_running_loop(), 0, 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int) -> None:
        sender = address(rng.randrange(size.customers))
        inbound = Inbound(channel="email", inbox_id="inb_email", provider_id=f"bench-{i}",
                          sender_kind=IdentityKind.EMAIL, sender=sender, text=f"bench load {i}",
                          subject="Load")  # fmt: skip
        req = IngestRequest(inbound=inbound, sender=sender, received_at=utcnow(),
                            reopen_window=timedelta(days=7))  # fmt: skip
        start = now_ns()
        await store.ingest(req)
        latencies.append((now_ns() - start) / 1e6)

    tick, due = 0.01, loop.time()
    while not stop.is_set():
        for _ in range(int(INGEST_RATE * tick)):
            if len(tasks) >= MAX_IN_FLIGHT:
                skipped += 1
                continue
            n += 1
            task = asyncio.create_task(one(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        due += tick
        await asyncio.sleep(max(0.0, due - loop.time()))
    await asyncio.gather(*tasks)
    return skipped


async def measure_under_ingest(
    store: Store, samples: dict[str, list[Any]], size: Size
) -> tuple[dict[str, Stats], str]:
    stop, latencies = asyncio.Event(), list[float]()
    engine = getattr(store, "engine", None)
    batches0, jobs0 = getattr(engine, "batches", 0), getattr(engine, "jobs", 0)
    start = now_ns()
    writer = asyncio.create_task(ingest_loop(store, stop, size, latencies))
    await asyncio.sleep(1.0)  # let the writer reach a steady state
    out = {q: await time_async(store_call(store, q), args[WARMUP:]) for q, args in samples.items()}
    stop.set()
    seconds, count = (now_ns() - start) / 1e9, len(latencies)
    skipped = await writer
    ing = Stats(latencies)
    batches = getattr(engine, "batches", 0) - batches0
    jobs = getattr(engine, "jobs", 0) - jobs0
    rate = count / seconds
    note = (
        f"writer: {count} ingests done in {seconds:.1f} s = {rate:.0f} msg/s, target >="
        f" {0.9 * INGEST_RATE:.0f}: {verdict(rate, 0.9 * INGEST_RATE, lower_is_better=False)}"
        f" ({skipped} skipped at a backlog of {MAX_IN_FLIGHT}); ingest p50 {ing.p50:.2f} ms,"
        f" p99 {ing.p99:.2f} ms; {batches} commits, {jobs / max(1, batches):.1f} writes each"
    )
    return out, note


def print_plans(path: str) -> None:
    conn = sqlite3.connect(path)
    print("\nEXPLAIN QUERY PLAN (the SQL the Store runs)")
    for name in (
        "customer_convs",
        "merges",
        "first_page",
        "deep_page",
        "messages",
        "ingest_latest",
    ):
        params = (None,) * SQL[name].count("?")
        plan = conn.execute(f"EXPLAIN QUERY PLAN {SQL[name]}", params).fetchall()
        print(f"  {name:15} " + " | ".join(row[-1] for row in plan))
    conn.close()


async def run(quick: bool) -> None:
    size = Size.for_run(quick)
    with tempfile.TemporaryDirectory(prefix="hub-bench-read-") as tmp:
        path, seed_seconds = await seeded_copy(size, tmp)
        seeded = "cached" if seed_seconds is None else f"seeded in {seed_seconds:.1f} s"
        print(f"{size.messages:,} messages / {size.conversations:,} conversations /"
              f" {size.customers:,} customers / {size.assignees} assignees ({seeded});"
              f" SQLite {sqlite3.sqlite_version}; {SAMPLES:,} samples per cell")  # fmt: skip
        store = create_store(f"sqlite:///{path}")
        await store.open()
        try:
            samples = await sample_args(store, size, SAMPLES + WARMUP)
            idle = await measure_idle(path, store, samples)
            loaded, note = await measure_under_ingest(store, samples, size)
        finally:
            await store.close()
        print_plans(path)
    rows = []
    for query, by in idle.items():
        s, a, h = by["sqlite3"], by["aiosqlite"], by["store"]
        rows.append([query, f"{s.p50:.3f} / {s.p99:.3f}", f"{a.p50:.3f} / {a.p99:.3f}",
                     f"{h.p50:.3f} / {h.p99:.3f} / {h.max:.1f}", f"p99 <= {TARGET_P99_MS:.0f}",
                     verdict(h.p99, TARGET_P99_MS)])  # fmt: skip
    print_table(
        "Idle reads, ms (p50 / p99; Store also max), same samples and run",
        ["query", "raw sqlite3", "raw aiosqlite", "hub Store", "target", "result"],
        rows,
    )
    rows = []
    for query, h in loaded.items():
        base = idle[query]["store"]
        rows.append([f"{query} + {INGEST_RATE} msg/s ingest", f"{base.p50:.3f} / {base.p99:.3f}",
                     f"{h.p50:.3f} / {h.p99:.3f} / {h.max:.1f}", f"p99 <= {TARGET_P99_MS:.0f}",
                     verdict(h.p99, TARGET_P99_MS)])  # fmt: skip
    print_table(
        "hub Store reads during concurrent ingest, ms, beside the idle Store (same run)",
        ["query", "Store idle", "Store + ingest", "target", "result"],
        rows,
    )
    print(note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k messages / 10k conversations")
    asyncio.run(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
