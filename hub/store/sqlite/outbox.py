"""Outbox jobs for the SQLite store: replies queued with their entry, claimed, sent, tracked."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from hub.errors import NotFound
from hub.model import (
    DeliveryStatus,
    Direction,
    Message,
    OutboxEntry,
    OutboxStatus,
    new_id,
)
from hub.store.base import (
    ReplyRequest,
    ReplyResult,
    SendResult,
)
from hub.store.common import DELIVERY_RANK, SENDING_LEASE
from hub.store.sqlite import rows
from hub.store.sqlite.claims import find_claim, record_claim
from hub.store.sqlite.conversations import (
    get_message,
    insert_agent_message,
    require_conversation,
)
from hub.store.sqlite.rows import ms


def _outbox_by_key(conn: sqlite3.Connection, key: str) -> OutboxEntry | None:
    row = conn.execute("SELECT * FROM outbox WHERE idempotency_key = ?", (key,)).fetchone()
    return rows.outbox(row) if row else None


def enqueue_reply(conn: sqlite3.Connection, req: ReplyRequest) -> ReplyResult:
    # a claim that matches was made with this very key, so the outbox lookup finds its entry
    claimed = None
    if req.claim is not None:
        claimed = find_claim(conn, req.claim, req.message.conversation_id)
    existing = _outbox_by_key(conn, req.idempotency_key)
    if existing is not None:
        message = get_message(conn, existing.message_id)
        assert message is not None
        conversation = require_conversation(conn, existing.conversation_id)
        return ReplyResult(
            message=message, outbox=existing, conversation=conversation, created=False
        )
    conversation = require_conversation(conn, req.message.conversation_id)
    message = insert_agent_message(
        conn,
        req.message,
        conversation,
        Direction.OUT,
        DeliveryStatus.QUEUED,
        thread_key=req.thread.message_key,
    )
    now = ms(req.message.created_at)
    outbox_id = new_id("obx")
    conn.execute(
        "INSERT INTO outbox (id, message_id, conversation_id, idempotency_key, status, attempts,"
        " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?)",
        (outbox_id, message.id, conversation.id, req.idempotency_key, now, now, now),
    )
    conn.execute(
        "UPDATE conversations SET last_message_at = MAX(last_message_at, ?), updated_at = ?,"
        " message_count = message_count + 1, unread_count = 0,"
        " first_response_at = COALESCE(first_response_at, ?) WHERE id = ?",
        (now, now, now, conversation.id),
    )
    if req.claim is not None and claimed is None:
        record_claim(conn, req.claim, message)
    entry = _outbox_by_key(conn, req.idempotency_key)
    assert entry is not None
    return ReplyResult(
        message=message,
        outbox=entry,
        conversation=require_conversation(conn, conversation.id),
        created=True,
    )


def claim_outbox(conn: sqlite3.Connection, now: datetime, limit: int) -> list[OutboxEntry]:
    # an entry left 'sending' past the lease belongs to a dispatcher that died mid-send
    stale = ms(now - SENDING_LEASE)
    found = conn.execute(
        "SELECT id FROM outbox WHERE (status = 'queued' AND next_attempt_at <= ?)"
        " OR (status = 'sending' AND updated_at <= ?) ORDER BY next_attempt_at LIMIT ?",
        (ms(now), stale, limit),
    ).fetchall()
    ids = [r["id"] for r in found]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    conn.execute(
        f"UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?"
        f" WHERE id IN ({marks})",
        (ms(now), *ids),
    )
    claimed = conn.execute(
        f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY next_attempt_at", ids
    ).fetchall()
    return [rows.outbox(r) for r in claimed]


def get_outbox(conn: sqlite3.Connection, outbox_id: str) -> OutboxEntry | None:
    row = conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
    return rows.outbox(row) if row else None


def record_send(conn: sqlite3.Connection, result: SendResult) -> tuple[OutboxEntry, Message]:
    entry = get_outbox(conn, result.outbox_id)
    if entry is None:
        raise NotFound(f"outbox entry {result.outbox_id!r} does not exist")
    if result.delivery_status == DeliveryStatus.QUEUED:
        status = OutboxStatus.QUEUED
    elif result.delivery_status == DeliveryStatus.FAILED:
        status = OutboxStatus.FAILED
    else:
        status = OutboxStatus.SENT
    conn.execute(
        "UPDATE outbox SET status = ?, last_error = ?, provider_id = COALESCE(?, provider_id),"
        " next_attempt_at = COALESCE(?, next_attempt_at), updated_at = ? WHERE id = ?",
        (
            status.value,
            result.error,
            result.provider_id,
            ms(result.next_attempt_at),
            ms(result.at),
            entry.id,
        ),
    )
    conn.execute(
        "UPDATE messages SET delivery_status = ?, error = ?,"
        " provider_id = COALESCE(?, provider_id), sent_at = CASE WHEN ? IN ('sent', 'delivered')"
        " THEN COALESCE(sent_at, ?) ELSE sent_at END WHERE id = ?",
        (
            result.delivery_status.value,
            result.error,
            result.provider_id,
            result.delivery_status.value,
            ms(result.at),
            entry.message_id,
        ),
    )
    updated = get_outbox(conn, entry.id)
    message = get_message(conn, entry.message_id)
    assert updated is not None and message is not None
    return updated, message


def set_delivery_status(
    conn: sqlite3.Connection,
    channel: str,
    provider_id: str,
    status: DeliveryStatus,
    error: str | None,
) -> Message | None:
    row = conn.execute(
        "SELECT * FROM messages WHERE channel = ? AND provider_id = ? AND direction = 'out'",
        (channel, provider_id),
    ).fetchone()
    if row is None:
        return None
    current = rows.message(row)
    # callbacks arrive out of order; never move a status backwards (delivered -> sent)
    if status != DeliveryStatus.FAILED and DELIVERY_RANK.get(status, 0) <= DELIVERY_RANK.get(
        current.delivery_status, 0
    ):
        return current
    conn.execute(
        "UPDATE messages SET delivery_status = ?, error = ? WHERE id = ?",
        (status.value, error, current.id),
    )
    return get_message(conn, current.id)
