"""Full-text indexing off the ingest path: drain `fts_backlog` into messages_fts in bulk.

Migration 3 replaced the per-row FTS5 trigger with a one-row backlog insert. `SearchIndexer`
drains the backlog a moment after writes (every `interval` seconds while anything was
written), and `SqliteStore.search_messages` drains it before searching, so a search always
sees every committed message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from functools import partial

from hub.errors import StoreUnavailable
from hub.store.sqlite.engine import SqliteEngine

log = logging.getLogger(__name__)

DRAIN_BATCH = 5_000  # rows per write job: a few ms, so other writes never wait long


def index_backlog(conn: sqlite3.Connection, limit: int = DRAIN_BATCH) -> int:
    """Index up to `limit` backlog rows (oldest first); returns how many were taken."""
    row = conn.execute(
        "SELECT count(*), min(seq), max(seq)"
        " FROM (SELECT seq FROM fts_backlog ORDER BY seq LIMIT ?)",
        (limit,),
    ).fetchone()
    taken, low, high = row
    if not taken:
        return 0
    # CROSS JOIN keeps the backlog as the outer loop: otherwise the planner walks messages
    # by rowid up to `high` (the whole table, 4 ms per drain at 40k messages) and probes it
    conn.execute(
        "INSERT INTO messages_fts(rowid, text) SELECT m.seq, m.text"
        " FROM fts_backlog b CROSS JOIN messages m ON m.seq = b.seq"
        " WHERE b.seq BETWEEN ? AND ? AND m.text IS NOT NULL",
        (low, high),
    )
    conn.execute("DELETE FROM fts_backlog WHERE seq BETWEEN ? AND ?", (low, high))
    return int(taken)


class SearchIndexer:
    """Keeps messages_fts no more than `interval` seconds behind the committed messages."""

    def __init__(self, engine: SqliteEngine, *, interval: float = 0.25) -> None:
        self.engine = engine
        self.interval = interval
        self._seen_jobs = -1  # engine.jobs at the last complete drain; -1: drain on start
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._seen_jobs = -1
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="fts-indexer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> None:
        """Index everything committed so far (a no-op when nothing was written since)."""
        async with self._lock:
            while True:
                jobs = self.engine.jobs
                if jobs == self._seen_jobs:
                    return
                taken = await self.engine.write(partial(index_backlog, limit=DRAIN_BATCH))
                # the drain job itself counts as a job: remember the count after it
                if taken < DRAIN_BATCH:
                    self._seen_jobs = self.engine.jobs if self.engine.jobs == jobs + 1 else jobs
                    return

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.drain()
            except StoreUnavailable:
                return  # the store is closing
            except Exception:  # keep indexing later; search drains again before reading
                log.exception("search indexing failed; will retry")
