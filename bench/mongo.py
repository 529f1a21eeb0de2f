"""The backbone's ingest and read benchmarks on the MongoDB Store, beside SQLite in the same run.

Runs only when HUB_TEST_MONGO_URL names a disposable MongoDB server (no mongod can be
installed on these machines; see shared/testing/README.md); otherwise it prints that it was
skipped, and why. It copies the read benchmark's seeded hub (bench/seed.py) into a fresh
database with `hub transfer`'s code, then, for both stores on the same data:

  ingest      Store.ingest_many, 8 concurrent batches of 100 (the API batch path's store call),
              and 64 concurrent single Store.ingest calls
  reads       customer_file, conversations page 1 and page 21, messages (p50 / p99 ms)

These are Store-level figures (no HTTP): the same calls the API makes. `--mock` runs the same
code on pymongo-async-mock with a tiny data set, to check the benchmark itself works; its
figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` and `hub` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import Stats, print_table, time_async
from bench.read_latency import SAMPLES, WARMUP, sample_args, store_call
from bench.seed import Size, seeded_copy
from hub.model import IdentityKind, Inbound, utcnow
from hub.store import Store, create_store
from hub.store.base import IngestRequest
from hub.store.urls import redact_url

BATCH, BATCH_WORKERS, WORKERS = 100, 8, 64
QUERIES = ("customer_file", "conversations p1", "conversations p21", "messages")


def _requests(inbox_id: str, tag: str, count: int, customers: int) -> list[IngestRequest]:
    now = utcnow()
    out = []
    for i in range(count):
        sender = f"c{i % customers}@example.com"
        inbound = Inbound(channel="email", inbox_id=inbox_id, provider_id=f"{tag}-{i}",
                          sender_kind=IdentityKind.EMAIL, sender=sender, text="bench")  # fmt: skip
        out.append(IngestRequest(inbound=inbound, sender=sender, received_at=now,
                                 reopen_window=timedelta(days=7)))  # fmt: skip
    return out


async def ingest_rates(store: Store, count: int, customers: int) -> tuple[float, float]:
    """(batched msg/s, single msg/s) on fresh provider ids into the seeded email inbox."""
    tag = uuid.uuid4().hex[:8]
    batches = [
        _requests("inb_email", f"b{tag}{n}", BATCH, customers)
        for n in range(max(1, count // BATCH))
    ]
    queue = list(batches)

    async def batch_worker() -> None:
        while queue:
            await store.ingest_many(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(batch_worker() for _ in range(BATCH_WORKERS)))
    batched = len(batches) * BATCH / (time.perf_counter() - start)
    singles = _requests("inb_email", f"s{tag}", count, customers)

    async def single_worker() -> None:
        while singles:
            await store.ingest(singles.pop())

    start = time.perf_counter()
    await asyncio.gather(*(single_worker() for _ in range(WORKERS)))
    single = count / (time.perf_counter() - start)
    return batched, single


async def read_stats(store: Store, size: Size, samples_per_query: int) -> dict[str, Stats]:
    samples = await sample_args(store, size, samples_per_query + WARMUP)
    out = {}
    for query in QUERIES:
        call = store_call(store, query)
        await time_async(call, samples[query][:WARMUP])
        out[query] = await time_async(call, samples[query][WARMUP:])
    return out


def _mongo_store(url: str | None) -> tuple[Store, str]:
    if url is None:  # --mock: the benchmark's own smoke test, never figures to quote
        from pymongo_async_mock import AsyncMongoMockClient

        from hub.store.mongo import MongoStore

        mock_url = "mongodb://mock.invalid/hub_bench"
        return MongoStore(mock_url, client=AsyncMongoMockClient(tz_aware=True)), mock_url
    database = f"hub_bench_{os.getpid()}"
    base, _, query = url.partition("?")
    head = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    full = f"{head}/{database}" + (f"?{query}" if query else "")
    return create_store(full), full


async def _drop(url: str) -> None:
    """Remove the benchmark's database (it was made for this run only)."""
    from pymongo import AsyncMongoClient
    from pymongo.uri_parser import parse_uri

    client: AsyncMongoClient[Any] = AsyncMongoClient(url)
    try:
        await client.drop_database(parse_uri(url)["database"] or "contact_hub")
    finally:
        await client.close()


async def run(url: str | None, quick: bool) -> None:
    from rich.console import Console

    from hub.transfer import new_progress, transfer

    # --mock: just enough for 21 pages of one assignee; mongomock is slow, and only the code runs
    size = Size(1_000, 1_200, 2, 1) if url is None else Size.for_run(quick)
    samples = 50 if url is None else SAMPLES
    with tempfile.TemporaryDirectory(prefix="hub-bench-mongo-") as tmp:
        path, _ = await seeded_copy(size, tmp)
        sqlite = create_store(f"sqlite:///{path}")
        mongo, mongo_url = _mongo_store(url)
        await sqlite.open()
        await mongo.open()
        try:
            start = time.perf_counter()
            with new_progress(Console(stderr=True)) as progress:
                await transfer(sqlite, mongo, batch=1_000, progress=progress)
            copied = time.perf_counter() - start
            count = 500 if url is None else 5_000
            rates = {name: await ingest_rates(s, count, size.customers)
                     for name, s in (("sqlite", sqlite), ("mongo", mongo))}  # fmt: skip
            reads = {name: await read_stats(s, size, samples)
                     for name, s in (("sqlite", sqlite), ("mongo", mongo))}  # fmt: skip
        finally:
            await mongo.close()
            if url is not None:
                await _drop(mongo_url)
            await sqlite.close()
    print(f"{size.messages:,} messages / {size.conversations:,} conversations; Mongo at"
          f" {redact_url(mongo_url)}; copied in {copied:.1f} s")  # fmt: skip
    rows = [
        [f"Store.ingest_many {BATCH} x{BATCH_WORKERS}", f"{rates['mongo'][0]:,.0f} msg/s",
         f"{rates['sqlite'][0]:,.0f} msg/s"],
        [f"Store.ingest x{WORKERS} concurrent", f"{rates['mongo'][1]:,.0f} msg/s",
         f"{rates['sqlite'][1]:,.0f} msg/s"],
    ] + [
        [q, f"{reads['mongo'][q].p50:.3f} / {reads['mongo'][q].p99:.3f} ms",
         f"{reads['sqlite'][q].p50:.3f} / {reads['sqlite'][q].p99:.3f} ms"]
        for q in QUERIES
    ]  # fmt: skip
    title = "MongoDB Store beside the SQLite Store, same data, same run"
    if url is None:
        title += " (--mock: a smoke test of this benchmark; the figures mean nothing)"
    print_table(title, ["what", "MongoDB", "SQLite (baseline)"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k messages / 10k conversations")
    parser.add_argument("--mock", action="store_true", help="smoke-test on pymongo-async-mock")
    args = parser.parse_args()
    url = os.environ.get("HUB_TEST_MONGO_URL")
    if url is None and not args.mock:
        print(
            "MongoDB benchmarks SKIPPED: HUB_TEST_MONGO_URL is not set. No mongod can be"
            " installed on these machines (shared/testing/README.md); set it to a disposable"
            " server's mongodb:// URL to run the ingest and read benchmarks on MongoDB."
        )
        return
    asyncio.run(run(None if args.mock else url, args.quick))


if __name__ == "__main__":
    main()
