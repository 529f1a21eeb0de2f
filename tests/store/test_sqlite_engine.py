"""SQLite backend specifics: group commit batches writes; search survives VACUUM."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from hub.model import IdentityKind, Inbound, utcnow
from hub.store.base import IngestRequest
from hub.store.sqlite.store import SqliteStore


def _req(inbox_id: str, i: int) -> IngestRequest:
    inbound = Inbound(
        channel="api",
        inbox_id=inbox_id,
        provider_id=f"p{i}",
        sender_kind=IdentityKind.EMAIL,
        sender=f"c{i % 7}@x.example",
        text=f"parcel number {i}",
    )
    return IngestRequest(
        inbound=inbound,
        sender=f"c{i % 7}@x.example",
        received_at=utcnow(),
        reopen_window=timedelta(days=7),
    )


async def test_concurrent_ingests_share_commits(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "g.db"))
    await store.open()
    try:
        inbox = await store.create_inbox(
            name="i", channel="api", team_id=None, config={}, now=utcnow()
        )
        batches_before = store.engine.batches
        await asyncio.gather(*(store.ingest(_req(inbox.id, i)) for i in range(500)))
        batches = store.engine.batches - batches_before
        assert (await store.counts())["messages"] == 500
        assert batches < 100, f"500 concurrent ingests took {batches} commits"
    finally:
        await store.close()


async def test_search_still_finds_messages_after_vacuum(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    store = SqliteStore(str(path))
    await store.open()
    inbox = await store.create_inbox(name="i", channel="api", team_id=None, config={}, now=utcnow())
    for i in range(30):
        await store.ingest(_req(inbox.id, i))
    await store.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM messages WHERE provider_id IN ('p1', 'p2', 'p3')")
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    store = SqliteStore(str(path))
    await store.open()
    try:
        found = await store.search_messages("number 17")
        assert [m.provider_id for m in found] == ["p17"]
    finally:
        await store.close()


def _make_table(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS t (v TEXT PRIMARY KEY)")


def _insert(conn: sqlite3.Connection, v: str) -> str:
    conn.execute("INSERT INTO t VALUES (?)", (v,))
    return v


def _insert_then_fail(conn: sqlite3.Connection, v: str) -> str:
    conn.execute("INSERT INTO t VALUES (?)", (v,))
    raise ValueError(f"job {v} failed after writing")


async def test_a_failing_job_in_a_shared_batch_loses_only_its_own_writes(tmp_path: Path) -> None:
    """The optimistic batch (no savepoints) falls back to one savepoint per job on an error."""
    from functools import partial

    from hub.store.sqlite.engine import SqliteEngine

    engine = SqliteEngine(str(tmp_path / "e.db"))
    await engine.open(_make_table)
    try:
        jobs = [
            engine.write(partial(_insert, v="a")),
            engine.write(partial(_insert_then_fail, v="b")),
            engine.write(partial(_insert, v="c")),
            engine.write(partial(_insert, v="a")),  # a constraint error, raised by SQLite
            engine.write(partial(_insert, v="d")),
        ]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        assert results[0] == "a" and results[2] == "c" and results[4] == "d"
        assert isinstance(results[1], ValueError)
        assert isinstance(results[3], sqlite3.IntegrityError)
        assert engine.batches == 1, "the five writes should have shared one commit"
        stored = await engine.read(
            lambda c: [r[0] for r in c.execute("SELECT v FROM t ORDER BY v")]
        )
        assert stored == ["a", "c", "d"]
        # a lone failing job is rolled back too, and the engine keeps working
        try:
            await engine.write(partial(_insert_then_fail, v="e"))
        except ValueError:
            pass
        else:
            raise AssertionError("the failing job did not report its error")
        assert await engine.write(partial(_insert, v="f")) == "f"
        stored = await engine.read(
            lambda c: [r[0] for r in c.execute("SELECT v FROM t ORDER BY v")]
        )
        assert stored == ["a", "c", "d", "f"]
    finally:
        await engine.close()


async def test_the_writer_leaves_checkpoints_to_the_background_checkpointer(
    tmp_path: Path,
) -> None:
    """The writer never checkpoints in its COMMIT; a PASSIVE checkpoint runs beside it."""
    store = SqliteStore(str(tmp_path / "w.db"))
    store.engine.checkpoint_interval = 0.05
    await store.open()
    try:
        setting = await store.engine.write(
            lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        )
        assert setting == 0
        inbox = await store.create_inbox(
            name="i", channel="api", team_id=None, config={}, now=utcnow()
        )
        # well past the 1,000 pages at which SQLite would checkpoint inside a COMMIT
        for start in range(0, 3000, 500):
            await store.ingest_many([_req(inbox.id, i) for i in range(start, start + 500)])
        for _ in range(100):
            if store.engine.checkpoints:
                break
            await asyncio.sleep(0.02)
        assert store.engine.checkpoints > 0
        busy, frames, copied = await store.engine.checkpoint()
        assert busy == 0 and frames == copied, "a checkpoint beside no writer copies it all"
    finally:
        await store.close()
