"""aiosqlite connections with group commit: concurrent writes share one transaction.

Every aiosqlite call is a thread hop costing 42-61 µs on this machine (PERFORMANCE.md), and a
commit per message caps WAL at a few thousand rows/s. So each write is a plain function run
in the writer connection's thread; the writer task gathers every write queued while the
previous batch was committing, runs them all in one hop inside one transaction (a SAVEPOINT
per job, so one bad job does not sink the others), commits once, and only then resolves the
callers' futures. Reads use a second connection; WAL lets them run beside the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import aiosqlite

from hub.errors import StoreUnavailable

log = logging.getLogger(__name__)

R = TypeVar("R")
Job = Callable[[sqlite3.Connection], Any]


def _casefold(value: str | None) -> str | None:
    """SQL hub_casefold(): Unicode case folding (SQLite's LIKE and lower() fold ASCII only)."""
    return value.casefold() if isinstance(value, str) else value


def _connect(
    path: str, synchronous: str, *, readonly: bool, autocheckpoint: bool = True
) -> Callable[[], sqlite3.Connection]:
    def connector() -> sqlite3.Connection:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.create_function("hub_casefold", 1, _casefold, deterministic=True)
        if path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            if not autocheckpoint:  # the engine's checkpointer copies the WAL back instead
                # (an in-memory database has no WAL, and no checkpointer)
                conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache per connection
        if readonly:
            conn.execute("PRAGMA query_only=ON")
        return conn

    return connector


def _run_batch(conn: sqlite3.Connection, jobs: list[Job]) -> list[tuple[bool, Any]]:
    """Run jobs in one transaction and commit once; one job's error goes to that job only.

    Optimistic first: no SAVEPOINT per job. A savepoint makes SQLite copy every page a job
    touches into a sub-journal and costs ~35 µs per small job on this machine, and jobs
    rarely fail. If one does raise, the whole transaction is rolled back (nothing has been
    committed or reported yet) and the batch runs again with a savepoint per job. So a job
    may run twice: it must be a function of the connection, and anything it does outside
    the database must give the same answer again (see actions/ingest._once_per_request).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        results: list[tuple[bool, Any]] = [(True, job(conn)) for job in jobs]
    except Exception as exc:
        if conn.in_transaction:  # some SQLite errors have already ended the transaction
            conn.execute("ROLLBACK")
        if len(jobs) == 1:
            return [(False, exc)]
        return _run_batch_isolated(conn, jobs)
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return results


def _run_batch_isolated(conn: sqlite3.Connection, jobs: list[Job]) -> list[tuple[bool, Any]]:
    """Run jobs in one transaction, each in a savepoint; commit once."""
    results: list[tuple[bool, Any]] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for job in jobs:
            conn.execute("SAVEPOINT job")
            try:
                results.append((True, job(conn)))
                conn.execute("RELEASE job")
            except Exception as exc:  # the job's own error goes back to its caller only
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                results.append((False, exc))
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return results


def _checkpoint(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """PASSIVE: copy what it can without waiting for (or blocking) the writer or readers."""
    busy, log_frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(log_frames), int(copied)


def _in_snapshot(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], R]) -> R:
    """Run a multi-query read in one transaction, so it sees one committed snapshot."""
    if conn.in_transaction:  # :memory: shares the writer's connection; it is never mid-batch
        return fn(conn)
    conn.execute("BEGIN")
    try:
        return fn(conn)
    finally:
        conn.execute("COMMIT")


class SqliteEngine:
    """One writer connection fed by a group-commit queue, one reader, and a checkpointer.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses 1,000 WAL pages: with
    one small transaction per message that is several times a second, each copying 4 MB and
    fsyncing the database file while every queued write waits (ack p99 30 ms at 1,000
    msg/s). So the writer never checkpoints: a third connection runs PASSIVE checkpoints in
    its own thread every `checkpoint_interval` seconds while there are new writes, beside
    the writer (WAL allows it), and the writer only appends.
    """

    def __init__(
        self,
        path: str,
        *,
        synchronous: str = "full",
        batch_max: int = 256,
        checkpoint_interval: float = 0.5,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self.batch_max = batch_max
        self.checkpoint_interval = checkpoint_interval
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint_task: asyncio.Task[None] | None = None
        self._pending: list[tuple[Job, asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.batches = 0  # counters for benchmarks and health
        self.jobs = 0
        self.checkpoints = 0

    async def open(self, setup: Callable[[sqlite3.Connection], Any]) -> Any:
        """Open the connections (writer, reader, checkpointer; one for :memory:) and run
        `setup` (migrations) on the writer first."""
        # close() leaves _closing set (and the wake event maybe set); without this reset a
        # store opened again after close() refused every write as "closed"
        self._closing = False
        self._wake = asyncio.Event()
        # aiosqlite.connect() cannot take a connector; ours sets the pragmas in the worker thread
        writer = aiosqlite.Connection(
            _connect(self.path, self.synchronous, readonly=False, autocheckpoint=False), 64
        )
        try:
            self._writer = await writer
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open sqlite database {self.path!r}: {exc}") from exc
        result = await self._writer._execute(setup, self._writer._conn)
        if self.path == ":memory:":
            self._reader = self._writer  # a second connection would see another database
        else:
            self._reader = aiosqlite.Connection(
                _connect(self.path, self.synchronous, readonly=True), 64
            )
            await self._reader
            self._checkpointer = aiosqlite.Connection(
                _connect(self.path, self.synchronous, readonly=False), 64
            )
            await self._checkpointer
            self._checkpoint_task = asyncio.get_running_loop().create_task(
                self._checkpoint_loop(), name="sqlite-checkpointer"
            )
        self._task = asyncio.get_running_loop().create_task(
            self._write_loop(), name="sqlite-writer"
        )
        return result

    @property
    def closing(self) -> bool:
        """True once close() has begun (or before open()): writes are refused from then on."""
        return self._closing or (self._writer is None)

    async def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint now: (busy, frames in the WAL, frames copied)."""
        if self._checkpointer is None:
            return (0, 0, 0)
        result: tuple[int, int, int] = await self._checkpointer._execute(
            _checkpoint, self._checkpointer._conn
        )
        return result

    async def _checkpoint_loop(self) -> None:
        seen = -1
        while True:
            await asyncio.sleep(self.checkpoint_interval)
            if self.jobs == seen:
                continue
            seen = self.jobs
            try:
                await self.checkpoint()
                self.checkpoints += 1
            except Exception:  # the WAL only grows until the next try; never stop the hub
                log.exception("sqlite checkpoint failed; will retry")

    async def close(self) -> None:
        """Finish queued writes, then close the connections."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._checkpoint_task is not None:
            self._checkpoint_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoint_task
            self._checkpoint_task = None
        if self._checkpointer is not None:
            await self._checkpointer.close()
            self._checkpointer = None
        if self._reader is not None and self._reader is not self._writer:
            await self._reader.close()
        if self._writer is not None:
            await self._writer.close()
        self._reader = self._writer = None

    async def read(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Run a read function in the reader's thread (one hop for however many queries)."""
        if self._reader is None:
            raise StoreUnavailable("the store is closed")
        result: R = await self._reader._execute(_in_snapshot, self._reader._conn, fn)
        return result

    async def write(self, fn: Callable[[sqlite3.Connection], R]) -> R:
        """Queue a write; returns once the transaction holding it has committed."""
        if self._writer is None or self._closing:
            raise StoreUnavailable("the store is closed")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((fn, future))
        self._wake.set()
        return await future

    async def _write_loop(self) -> None:
        assert self._writer is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self.batch_max]
                del self._pending[: self.batch_max]
                await self._commit_batch(batch)
            if self._closing:
                return

    async def _commit_batch(self, batch: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        assert self._writer is not None
        try:
            results = await self._writer._execute(
                _run_batch, self._writer._conn, [job for job, _ in batch]
            )
        except Exception as exc:
            log.exception("sqlite batch of %d writes failed to commit", len(batch))
            error = StoreUnavailable(f"write failed to commit: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self.batches += 1
        self.jobs += len(batch)
        for (_, future), (ok, value) in zip(batch, results, strict=True):
            if future.done():  # the caller gave up; the write stands, dedupe absorbs a retry
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
