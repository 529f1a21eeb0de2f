"""SQLite migration 4 (message_keys): outbox rows from before keep their plain keys and send."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from hub.model import IdentityKind, Inbound, MessageKind, utcnow
from hub.store.base import IdempotencyClaim, IngestRequest, NewMessage, ReplyRequest
from hub.store.sqlite import migrations
from hub.store.sqlite.store import SqliteStore

OLD_TABLES = ("teams", "inboxes", "customers", "identities", "conversations", "messages", "outbox")


def _ingest_request(inbox_id: str) -> IngestRequest:
    inbound = Inbound(
        channel="api",
        inbox_id=inbox_id,
        provider_id="p1",
        sender_kind=IdentityKind.EMAIL,
        sender="c@x.example",
        text="where is my order?",
    )
    return IngestRequest(
        inbound=inbound, sender="c@x.example", received_at=utcnow(), reopen_window=timedelta(7)
    )


def _reply(conversation_id: str, text: str) -> NewMessage:
    return NewMessage(
        conversation_id=conversation_id,
        kind=MessageKind.MESSAGE.value,
        text=text,
        created_at=utcnow(),
    )


async def _version_3_file_with_a_queued_reply(tmp_path: Path) -> tuple[Path, str]:
    """A file at schema 3 holding a reply queued under the client's plain key, as then."""
    current = tmp_path / "current.db"
    store = SqliteStore(str(current))
    await store.open()
    inbox = await store.create_inbox(name="i", channel="api", team_id=None, config={}, now=utcnow())
    conversation_id = (await store.ingest(_ingest_request(inbox.id))).conversation.id
    message = _reply(conversation_id, "it ships today")
    await store.enqueue_reply(ReplyRequest(message=message, idempotency_key="reply-1"))
    await store.close()
    path = tmp_path / "v3.db"
    old = sqlite3.connect(path, isolation_level=None)
    for step, script in enumerate(migrations.MIGRATIONS[:3], start=1):
        old.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {step};\nCOMMIT;")
    old.execute("ATTACH DATABASE ? AS cur", (str(current),))
    for table in OLD_TABLES:
        old.execute(f"INSERT INTO main.{table} SELECT * FROM cur.{table}")
    old.execute("DETACH DATABASE cur")
    old.close()
    return path, conversation_id


async def test_a_reply_queued_before_the_upgrade_is_sent_under_its_plain_key(
    tmp_path: Path,
) -> None:
    path, _ = await _version_3_file_with_a_queued_reply(tmp_path)
    store = SqliteStore(str(path))
    await store.open()
    try:
        assert await store.schema_version() == migrations.LATEST
        (entry,) = await store.claim_outbox(utcnow() + timedelta(seconds=1))
        assert entry.idempotency_key == "reply-1"
        message = await store.get_message(entry.message_id)
        assert message is not None and message.text == "it ships today"
    finally:
        await store.close()


async def test_after_the_upgrade_a_claimed_reply_is_stored_beside_the_old_rows(
    tmp_path: Path,
) -> None:
    path, conversation_id = await _version_3_file_with_a_queued_reply(tmp_path)
    store = SqliteStore(str(path))
    await store.open()
    try:
        claim = IdempotencyClaim(key="key:scoped", fingerprint="f")
        request = ReplyRequest(
            message=_reply(conversation_id, "and a tracking number"),
            idempotency_key=claim.key,
            claim=claim,
        )
        first = await store.enqueue_reply(request)
        again = await store.enqueue_reply(request)
        assert first.created and not again.created and again.message == first.message
        assert (await store.counts())["outbox"] == 2
    finally:
        await store.close()
