"""Idempotency claims on SQLite: replies and notes share one table, unique on the key."""

from __future__ import annotations

import sqlite3

from hub.errors import IdempotencyKeyReused
from hub.model import Message
from hub.store.base import IdempotencyClaim
from hub.store.sqlite.rows import ms


def find_claim(
    conn: sqlite3.Connection, claim: IdempotencyClaim, conversation_id: str
) -> str | None:
    """The message id stored under the claim's key, None for a new key; raises
    IdempotencyKeyReused if the key came with another request (conversation or body)."""
    row = conn.execute(
        "SELECT fingerprint, conversation_id, message_id FROM message_keys WHERE key = ?",
        (claim.key,),
    ).fetchone()
    if row is None:
        return None
    if row["fingerprint"] != claim.fingerprint:
        raise IdempotencyKeyReused(other_conversation=row["conversation_id"] != conversation_id)
    return str(row["message_id"])


def record_claim(conn: sqlite3.Connection, claim: IdempotencyClaim, message: Message) -> None:
    """Record the claim for the message just stored, in the same transaction (the primary key
    makes a second claim of the key fail, should two ever race past find_claim)."""
    conn.execute(
        "INSERT INTO message_keys (key, fingerprint, conversation_id, message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (claim.key, claim.fingerprint, message.conversation_id, message.id, ms(message.created_at)),
    )
