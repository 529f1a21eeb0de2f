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

from hub.store.sqlite.engine import SqliteEngine

log = logging.getLogger(__name__)

DRAIN_BATCH = 5_000  # rows per write job: a few ms, so other writes never wait long
FORCE_EVERY = 20  # ticks: a drain even without writes of our own, for other processes' rows


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
        """Stop the background task, after a last drain (a CLI process indexes its writes)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            try:
                await self.drain()
            except Exception:  # the backlog stays on disk; the next open indexes it
                log.warning("search indexing before close failed", exc_info=True)

    async def drain(self, *, force: bool = False) -> None:
        """Index everything committed so far.

        A no-op when this process wrote nothing since the last drain, unless `force`: rows
        written by another process (a `hub` CLI command on the same file) are only seen by
        a forced drain, which the background task runs every FORCE_EVERY ticks.
        """
        async with self._lock:
            while True:
                jobs = self.engine.jobs
                if jobs == self._seen_jobs and not force:
                    return
                force = False
                taken = await self.engine.write(partial(index_backlog, limit=DRAIN_BATCH))
                # the drain job itself counts as a job: remember the count after it
                if taken < DRAIN_BATCH:
                    self._seen_jobs = self.engine.jobs if self.engine.jobs == jobs + 1 else jobs
                    return

    async def drain_for_search(self) -> None:
        """Drain before a search; if that write fails, search the index as it is."""
        try:
            await self.drain()
        except Exception:
            if self.engine.closing:
                raise
            log.warning("search indexing failed; searching the index as it is", exc_info=True)

    async def _loop(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(self.interval)
            tick += 1
            try:
                await self.drain(force=tick % FORCE_EVERY == 0)
            except Exception:  # keep indexing later; search drains again before reading
                if self.engine.closing:
                    return
                log.exception("search indexing failed; will retry")
