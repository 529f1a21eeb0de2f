"""SQLite search indexing off the ingest path (migration 3): the backlog and its indexer."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from hub.model import IdentityKind, Inbound, utcnow
from hub.store.base import IngestRequest
from hub.store.sqlite import migrations
from hub.store.sqlite.store import SqliteStore


def _req(inbox_id: str, i: int, text: str) -> IngestRequest:
    inbound = Inbound(
        channel="api",
        inbox_id=inbox_id,
        provider_id=f"p{i}",
        sender_kind=IdentityKind.EMAIL,
        sender=f"c{i % 3}@x.example",
        text=text,
    )
    return IngestRequest(
        inbound=inbound,
        sender=f"c{i % 3}@x.example",
        received_at=utcnow(),
        reopen_window=timedelta(days=7),
    )


def _backlog(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM fts_backlog").fetchone()[0])


def _integrity_check(path: Path) -> None:
    """messages_fts holds exactly what a full rebuild from the messages table would hold.

    A reference index is rebuilt from scratch beside it; both must have the same terms at
    the same (message, offset) and the same totals record (row and token counts, which a
    stray 'delete' of a never-indexed row would throw off and bm25 ranking would inherit).
    FTS5's own 'integrity-check' misses a stray delete, and with rank=1 (3.40) it rejects
    any row whose text is NULL.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        # the index skips messages without text, as the original insert trigger did
        conn.execute(
            "CREATE VIEW main.ref_src AS SELECT seq, text FROM messages WHERE text IS NOT NULL"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE main.ref USING fts5(text, content='ref_src',"
            " content_rowid='seq', tokenize='unicode61 remove_diacritics 2')"
        )
        conn.execute("INSERT INTO main.ref(ref) VALUES ('rebuild')")
        conn.execute("CREATE VIRTUAL TABLE temp.v_ref USING fts5vocab(main, ref, instance)")
        conn.execute(
            "CREATE VIRTUAL TABLE temp.v_fts USING fts5vocab(main, messages_fts, instance)"
        )
        listing = "SELECT term, doc, offset FROM {} ORDER BY term, doc, offset"
        assert (
            conn.execute(listing.format("temp.v_fts")).fetchall()
            == conn.execute(listing.format("temp.v_ref")).fetchall()
        )
        totals = "SELECT block FROM {} WHERE id = 1"
        assert (
            conn.execute(totals.format("main.messages_fts_data")).fetchone()
            == conn.execute(totals.format("main.ref_data")).fetchone()
        )
        conn.execute("ROLLBACK")  # the reference index was never there
    finally:
        conn.close()


async def _open(path: Path) -> tuple[SqliteStore, str]:
    store = SqliteStore(str(path))
    await store.open()
    inboxes = await store.list_inboxes()
    if inboxes:
        return store, inboxes[0].id
    inbox = await store.create_inbox(name="i", channel="api", team_id=None, config={}, now=utcnow())
    return store, inbox.id


async def test_search_right_after_ingest_sees_the_message(tmp_path: Path) -> None:
    store, inbox_id = await _open(tmp_path / "a.db")
    try:
        await store.ingest(_req(inbox_id, 1, "the parcel never arrived"))
        assert _backlog(tmp_path / "a.db") == 1, "indexing should happen after the ack"
        found = await store.search_messages("parcel arrived")
        assert [m.provider_id for m in found] == ["p1"]
        assert _backlog(tmp_path / "a.db") == 0
    finally:
        await store.close()


async def test_the_background_indexer_drains_the_backlog_without_a_search(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    store, inbox_id = await _open(path)
    try:
        await store.ingest_many([_req(inbox_id, i, f"invoice number {i}") for i in range(300)])
        for _ in range(40):  # the indexer runs every 0.25 s
            if _backlog(path) == 0:
                break
            await asyncio.sleep(0.05)
        assert _backlog(path) == 0
        _integrity_check(path)
    finally:
        await store.close()


async def test_deleting_and_editing_indexed_and_pending_messages_keeps_the_index_exact(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.db"
    store, inbox_id = await _open(path)
    await store.indexer.stop()  # no background drain: p4..p7 must stay pending
    try:
        await store.ingest_many([_req(inbox_id, i, f"alpha message {i}") for i in range(4)])
        await store.search_messages("alpha")  # p0..p3 are now indexed
        await store.ingest_many([_req(inbox_id, i, f"bravo message {i}") for i in range(4, 8)])
        assert _backlog(path) == 4
        # another connection edits while p4..p7 are pending (the store is idle; WAL allows it)
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM messages WHERE provider_id IN ('p0', 'p4')")
            edited = "UPDATE messages SET text = 'charlie edited' WHERE provider_id IN ('p1', 'p5')"
            conn.execute(edited)
            conn.execute("UPDATE messages SET text = NULL WHERE provider_id IN ('p2', 'p6')")
        await store.indexer.drain(force=True)  # its own job count did not change
        assert {m.provider_id for m in await store.search_messages("alpha")} == {"p3"}
        assert {m.provider_id for m in await store.search_messages("bravo")} == {"p7"}
        assert {m.provider_id for m in await store.search_messages("charlie")} == {"p1", "p5"}
        _integrity_check(path)
    finally:
        await store.close()


async def test_closing_the_store_indexes_what_it_wrote(tmp_path: Path) -> None:
    """A short-lived process (a `hub` CLI command) leaves no backlog behind."""
    path = tmp_path / "d.db"
    store, inbox_id = await _open(path)
    store.indexer.interval = 3600  # only the drain at close can index them
    await store.indexer.stop()
    store.indexer.start()
    await store.ingest_many([_req(inbox_id, i, f"delta {i}") for i in range(5)])
    assert _backlog(path) == 5
    await store.close()
    assert _backlog(path) == 0
    _integrity_check(path)


async def test_upgrading_a_version_2_file_keeps_its_index_and_indexes_new_messages(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    store, inbox_id = await _open(path)
    await store.ingest(_req(inbox_id, 1, "shipped yesterday"))
    await store.close()
    # rebuild the same rows in a file at schema 2, where a trigger indexed each insert
    old = sqlite3.connect(tmp_path / "v2.db", isolation_level=None)
    for step, script in enumerate(migrations.MIGRATIONS[:2], start=1):
        old.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {step};\nCOMMIT;")
    old.execute("ATTACH DATABASE ? AS cur", (str(path),))
    for table in ("teams", "inboxes", "customers", "identities", "conversations", "messages"):
        old.execute(f"INSERT INTO main.{table} SELECT * FROM cur.{table}")
    old.execute("DETACH DATABASE cur")
    old.close()
    store, inbox_id = await _open(tmp_path / "v2.db")
    try:
        assert await store.schema_version() == migrations.LATEST
        await store.ingest(_req(inbox_id, 2, "shipped today"))
        found = await store.search_messages("shipped")
        assert sorted(m.provider_id or "" for m in found) == ["p1", "p2"]
        _integrity_check(tmp_path / "v2.db")
    finally:
        await store.close()
