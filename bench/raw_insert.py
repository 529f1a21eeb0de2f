"""Raw aiosqlite batched-insert throughput: the baseline an ingest benchmark prints beside itself.

`raw_aiosqlite_insert_rate()` inserts rows into a messages-like table with a secondary index,
`batch` rows per `executemany` followed by one commit, on a WAL database, and returns rows/s.
That is the best a plain aiosqlite writer can do here (PERFORMANCE.md: ~58k rows/s), so an
ingest path that does more work per row should be compared against it, measured in the same run.

Script mode (`python bench/raw_insert.py [--quick]`) prints the batched rates at synchronous=FULL
and NORMAL beside a same-run baseline of one commit per row, and checks that batching gains at
least 5x over it at FULL, where it saves an fsync per row (PERFORMANCE.md measured ~11x), and
at least 2x at NORMAL, where a commit costs no fsync and batching saves only the thread hops
and the per-commit WAL work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import aiosqlite

if __package__ in (None, ""):  # run as a script: make `bench` importable from the repo root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import now_ns, print_table, verdict

TABLE_SQL = """
CREATE TABLE bench_messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT,
    provider_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX bench_messages_conversation
    ON bench_messages(conversation_id, created_at DESC, id DESC);
"""
INSERT_SQL = (
    "INSERT INTO bench_messages (id, conversation_id, customer_id, direction, channel, text,"
    " provider_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
# batched executemany+commit must beat one commit per row by this factor, per synchronous mode
MIN_GAIN = {"FULL": 5.0, "NORMAL": 2.0}


def _rows(count: int, start_ms: int = 1_700_000_000_000) -> Iterator[tuple[object, ...]]:
    """Message-shaped rows: ~320 bytes each, conversations interleaved like a live inbox."""
    for i in range(count):
        conv = (i * 7919) % max(1, count // 10)
        yield (
            f"msg_{i:09d}",
            f"cnv_{conv:07d}",
            f"cus_{conv:07d}",
            "in",
            "email",
            f"message {i} about order {i % 9973}; please reply when you can, thanks " * 3,
            f"prov-{i}",
            start_ms + i,
        )


async def _prepare(path: str, synchronous: str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(path)  # sqlite3's default: DML opens a transaction implicitly
    await db.execute("PRAGMA journal_mode=WAL")
    await db.execute(f"PRAGMA synchronous={synchronous.upper()}")
    await db.execute("DROP TABLE IF EXISTS bench_messages")
    await db.executescript(TABLE_SQL)
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


async def raw_aiosqlite_insert_rate(
    path: str, rows: int, *, batch: int = 100, synchronous: str = "FULL"
) -> float:
    """Rows/s of `executemany(batch rows)` + `COMMIT`, WAL, into an indexed messages-like table.

    Creates (dropping it first if present) the table `bench_messages` in the database at `path`;
    the caller owns the file and removes it (with its -wal/-shm) afterwards.
    """
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError(f"bad synchronous mode {synchronous!r}")
    data = list(_rows(rows))
    db = await _prepare(path, synchronous)
    try:
        start = now_ns()
        for at in range(0, rows, batch):
            await db.executemany(INSERT_SQL, data[at : at + batch])
            await db.commit()
        elapsed = (now_ns() - start) / 1e9
    finally:
        await db.close()
    return rows / elapsed


async def raw_aiosqlite_row_commit_rate(
    path: str, rows: int, *, synchronous: str = "FULL"
) -> float:
    """Rows/s of one `execute` + commit per row (the naive baseline that batching must beat)."""
    data = list(_rows(rows))
    db = await _prepare(path, synchronous)
    try:
        start = now_ns()
        for row in data:
            await db.execute(INSERT_SQL, row)
            await db.commit()
        elapsed = (now_ns() - start) / 1e9
    finally:
        await db.close()
    return rows / elapsed


async def _main(quick: bool) -> None:
    rows = 20_000 if quick else 200_000
    per_row = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="hub-bench-insert-") as tmp:
        results: list[tuple[str, float]] = []
        for sync in ("FULL", "NORMAL"):
            path = os.path.join(tmp, f"{sync.lower()}.db")
            naive = await raw_aiosqlite_row_commit_rate(path, per_row, synchronous=sync)
            batched = await raw_aiosqlite_insert_rate(path, rows, synchronous=sync)
            results.append((sync, naive))
            results.append((sync, batched))
    table = []
    for i in range(0, len(results), 2):
        (sync, naive), (_, batched) = results[i], results[i + 1]
        gain = batched / naive
        table.append(
            [
                f"aiosqlite execute+commit per row ({per_row:,} rows)",
                sync,
                f"{naive:,.0f}",
                "baseline",
                "",
                "",
            ]
        )
        table.append(
            [
                f"aiosqlite executemany({100})+commit ({rows:,} rows)",
                sync,
                f"{batched:,.0f}",
                f"{gain:.1f}x",
                f">= {MIN_GAIN[sync]:.0f}x",
                verdict(gain, MIN_GAIN[sync], lower_is_better=False),
            ]
        )
    print_table(
        "Raw aiosqlite insert throughput, WAL, indexed messages-like table (same run)",
        ["method", "synchronous", "rows/s", "vs per-row", "target", "result"],
        table,
    )
    print("PERFORMANCE.md reference: ~58k rows/s batched, ~5.2k rows/s per-row commit.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k rows instead of 200k")
    asyncio.run(_main(parser.parse_args().quick))


if __name__ == "__main__":
    main()
