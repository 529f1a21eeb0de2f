"""Conversation, message and search jobs for the SQLite store (the outbox: outbox.py)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.errors import InvalidInput, NotFound
from hub.model import (
    Conversation,
    ConversationFilter,
    DeliveryStatus,
    Direction,
    Message,
    MessageKind,
    Page,
    new_id,
)
from hub.store.base import (
    ConversationPatch,
    IdempotencyClaim,
    NewMessage,
    NoteResult,
)
from hub.store.sqlite import rows
from hub.store.sqlite.claims import find_claim, record_claim
from hub.store.sqlite.ingest import load_conversation
from hub.store.sqlite.rows import dumps, ms

_COLUMN_FOR_PATCH = {
    "status": lambda v: v.value,
    "priority": lambda v: v.value,
    "assignee_id": lambda v: v,
    "team_id": lambda v: v,
    # tags are a set kept in the caller's order: repeats dropped, as update_customer does
    "tags": lambda v: dumps(list(dict.fromkeys(v))),
    "snoozed_until": ms,
    "resolved_at": ms,
    "unread_count": lambda v: v,
    "updated_at": ms,
}


def require_conversation(conn: sqlite3.Connection, conversation_id: str) -> Conversation:
    found = load_conversation(conn, conversation_id)
    if found is None:
        raise NotFound(
            f"conversation {conversation_id!r} does not exist", code="conversation_not_found"
        )
    return found


def list_conversations(
    conn: sqlite3.Connection, flt: ConversationFilter, limit: int, cursor: str | None
) -> Page[Conversation]:
    where: list[str] = []
    params: list[Any] = []
    simple = {
        "status": flt.status.value if flt.status else None,
        "assignee_id": flt.assignee_id,
        "inbox_id": flt.inbox_id,
        "team_id": flt.team_id,
        "customer_id": flt.customer_id,
        "channel": flt.channel,
    }
    for column, value in simple.items():
        if value is not None:
            where.append(f"c.{column} = ?")
            params.append(value)
    if flt.unassigned:
        where.append("c.assignee_id IS NULL")
    if flt.inbox_ids is not None:
        if not flt.inbox_ids:
            return Page(items=())
        where.append(f"c.inbox_id IN ({','.join('?' * len(flt.inbox_ids))})")
        params += list(flt.inbox_ids)
    if flt.tag is not None:
        where.append("c.id IN (SELECT conversation_id FROM conversation_tags WHERE tag = ?)")
        params.append(flt.tag)
    if cursor:
        at, cid = rows.decode_cursor(cursor, 2)
        where.append("(c.last_message_at, c.id) < (?, ?)")
        params += [at, cid]
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    found = conn.execute(
        f"SELECT c.* FROM conversations c {clause}"
        " ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return rows.keyset_page(found, limit, rows.conversation, "last_message_at")


def update_conversation(
    conn: sqlite3.Connection, conversation_id: str, patch: ConversationPatch
) -> tuple[Conversation, Conversation]:
    before = require_conversation(conn, conversation_id)
    changes = patch.changed_fields()
    if changes:
        sets = ", ".join(f"{name} = ?" for name in changes)
        values = [_COLUMN_FOR_PATCH[name](value) for name, value in changes.items()]
        conn.execute(f"UPDATE conversations SET {sets} WHERE id = ?", (*values, conversation_id))
        if "tags" in changes:
            conn.execute(
                "DELETE FROM conversation_tags WHERE conversation_id = ?", (conversation_id,)
            )
            conn.executemany(
                "INSERT OR IGNORE INTO conversation_tags (tag, conversation_id) VALUES (?, ?)",
                [(tag, conversation_id) for tag in changes["tags"]],
            )
    return before, require_conversation(conn, conversation_id)


def claim_conversation(
    conn: sqlite3.Connection, conversation_id: str, agent_id: str, now: datetime
) -> Conversation | None:
    require_conversation(conn, conversation_id)
    cur = conn.execute(
        "UPDATE conversations SET assignee_id = ?, updated_at = ?"
        " WHERE id = ? AND assignee_id IS NULL",
        (agent_id, ms(now), conversation_id),
    )
    if cur.rowcount == 0:
        # "None if someone else holds it": a repeated claim by the holder (a double click, a
        # retried request) is not a lost race, so it returns the conversation unchanged
        current = require_conversation(conn, conversation_id)
        return current if current.assignee_id == agent_id else None
    return require_conversation(conn, conversation_id)


def due_snoozed(conn: sqlite3.Connection, now: datetime, limit: int) -> list[Conversation]:
    found = conn.execute(
        "SELECT * FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ?"
        " ORDER BY snoozed_until LIMIT ?",
        (ms(now), limit),
    ).fetchall()
    return [rows.conversation(r) for r in found]


def get_message(conn: sqlite3.Connection, message_id: str) -> Message | None:
    row = conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
    return rows.message(row) if row else None


def list_messages(
    conn: sqlite3.Connection, conversation_id: str, limit: int, cursor: str | None
) -> Page[Message]:
    params: list[Any] = [conversation_id]
    extra = ""
    if cursor:
        at, mid = rows.decode_cursor(cursor, 2)
        extra = " AND (created_at, id) < (?, ?)"
        params += [at, mid]
    found = conn.execute(
        f"SELECT * FROM messages WHERE conversation_id = ?{extra}"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return rows.keyset_page(found, limit, rows.message, "created_at")


def insert_agent_message(
    conn: sqlite3.Connection,
    new: NewMessage,
    conversation: Conversation,
    direction: Direction,
    status: DeliveryStatus,
    thread_key: str | None = None,
) -> Message:
    if new.kind not in MessageKind.__members__.values():
        # NewMessage.kind is a plain str; an unknown one used to fail on reading the row back
        # with a bare ValueError (a 500) instead of the caller's error
        raise InvalidInput(f"unknown message kind {new.kind!r}", code="invalid_kind")
    message_id = new_id("msg")
    conn.execute(
        "INSERT INTO messages (id, conversation_id, customer_id, direction, kind, channel, text,"
        " html, attachments, thread_key, author_id, delivery_status, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            conversation.id,
            conversation.customer_id,
            direction.value,
            new.kind,
            conversation.channel,
            new.text,
            new.html,
            rows.attachments_json(new.attachments),
            thread_key,
            new.author_id,
            status.value,
            ms(new.created_at),
        ),
    )
    found = get_message(conn, message_id)
    assert found is not None
    return found


def add_note(conn: sqlite3.Connection, note: NewMessage) -> tuple[Message, Conversation]:
    conversation = require_conversation(conn, note.conversation_id)
    message = insert_agent_message(conn, note, conversation, Direction.OUT, DeliveryStatus.SENT)
    conn.execute(
        "UPDATE conversations SET updated_at = ?, message_count = message_count + 1 WHERE id = ?",
        (ms(note.created_at), conversation.id),
    )
    return message, require_conversation(conn, conversation.id)


def add_note_once(
    conn: sqlite3.Connection, note: NewMessage, claim: IdempotencyClaim
) -> NoteResult:
    earlier = find_claim(conn, claim, note.conversation_id)
    if earlier is not None:
        message = get_message(conn, earlier)
        assert message is not None
        conversation = require_conversation(conn, message.conversation_id)
        return NoteResult(message=message, conversation=conversation, created=False)
    message, conversation = add_note(conn, note)
    record_claim(conn, claim, message)
    return NoteResult(message=message, conversation=conversation, created=True)


def _search_expression(query: str) -> str:
    # user text never reaches FTS5 syntax: every word becomes a quoted phrase (AND-ed)
    words = re.findall(r"\w+", query, flags=re.UNICODE)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words[:32])


def search_messages(
    conn: sqlite3.Connection, query: str, limit: int, inbox_ids: Sequence[str] | None
) -> list[Message]:
    expression = _search_expression(query)
    if not expression or (inbox_ids is not None and not inbox_ids):
        return []
    params: list[Any] = [expression]
    extra = ""
    if inbox_ids is not None:
        extra = (
            " AND m.conversation_id IN (SELECT id FROM conversations"
            f" WHERE inbox_id IN ({','.join('?' * len(inbox_ids))}))"
        )
        params += list(inbox_ids)
    found = conn.execute(
        "SELECT m.* FROM messages_fts f JOIN messages m ON m.seq = f.rowid"
        f" WHERE messages_fts MATCH ?{extra} ORDER BY f.rank LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [rows.message(r) for r in found]
