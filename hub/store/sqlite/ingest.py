"""The ingest write job: dedupe, resolve, thread and store one inbound, in the writer thread."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from hub.conversation_rules import choose_conversation
from hub.errors import InvalidInput, NotFound
from hub.model import (
    Conversation,
    Customer,
    Direction,
    IngestResult,
    MessageKind,
    Status,
    new_id,
)
from hub.store.base import IngestRequest
from hub.store.sqlite import rows
from hub.store.sqlite.rows import ms


def load_customer(conn: sqlite3.Connection, customer_id: str) -> Customer | None:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return rows.customer(row) if row else None


def load_conversation(conn: sqlite3.Connection, conversation_id: str) -> Conversation | None:
    row = conn.execute("SELECT * FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
    return rows.conversation(row) if row else None


def insert_customer(
    conn: sqlite3.Connection, name: str | None, now: datetime, attributes: str = "{}"
) -> Customer:
    customer_id = new_id("cus")
    conn.execute(
        "INSERT INTO customers (id, name, attributes, tags, created_at, updated_at)"
        " VALUES (?, ?, ?, '[]', ?, ?)",
        (customer_id, name, attributes, ms(now), ms(now)),
    )
    customer = load_customer(conn, customer_id)
    assert customer is not None
    return customer


def insert_identity(
    conn: sqlite3.Connection, customer_id: str, kind: str, address: str, now: datetime
) -> str:
    identity_id = new_id("idn")
    conn.execute(
        "INSERT INTO identities (id, customer_id, kind, address, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (identity_id, customer_id, kind, address, ms(now)),
    )
    return identity_id


def _by_thread(conn: sqlite3.Connection, req: IngestRequest) -> Conversation | None:
    refs = [r for r in req.inbound.thread.references if r]
    if not refs:
        return None
    marks = ",".join("?" * len(refs))
    row = conn.execute(
        f"SELECT c.* FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        f" WHERE m.thread_key IN ({marks}) AND c.inbox_id = ?"
        f" ORDER BY m.created_at DESC LIMIT 1",
        (*refs, req.inbound.inbox_id),
    ).fetchone()
    return rows.conversation(row) if row else None


def _recent(
    conn: sqlite3.Connection, customer_id: str, inbox_id: str
) -> tuple[Conversation | None, Conversation | None]:
    """The customer's latest unresolved and latest resolved conversation in an inbox.

    One indexed query (conv_customer) instead of two; a customer has few conversations
    per inbox, and the 20 most recent are plenty to find both.
    """
    found = conn.execute(
        "SELECT * FROM conversations WHERE customer_id = ? AND inbox_id = ?"
        " ORDER BY last_message_at DESC, id DESC LIMIT 20",
        (customer_id, inbox_id),
    ).fetchall()
    unresolved = next((r for r in found if r["status"] != Status.RESOLVED.value), None)
    resolved = max(
        (r for r in found if r["status"] == Status.RESOLVED.value and r["resolved_at"]),
        key=lambda r: r["resolved_at"],
        default=None,
    )
    return (
        rows.conversation(unresolved) if unresolved else None,
        rows.conversation(resolved) if resolved else None,
    )


def _duplicate(conn: sqlite3.Connection, req: IngestRequest) -> IngestResult | None:
    row = conn.execute(
        "SELECT * FROM messages WHERE channel = ? AND provider_id = ?",
        (req.inbound.channel, req.inbound.provider_id),
    ).fetchone()
    if row is None:
        return None
    message = rows.message(row)
    conversation = load_conversation(conn, message.conversation_id)
    customer = load_customer(conn, message.customer_id)
    assert conversation is not None and customer is not None
    return IngestResult(
        message=message, conversation=conversation, customer=customer, duplicate=True
    )


def _resolve(conn: sqlite3.Connection, req: IngestRequest) -> tuple[Customer, bool]:
    ib = req.inbound
    row = conn.execute(
        "SELECT customer_id FROM identities WHERE kind = ? AND address = ?",
        (ib.sender_kind.value, req.sender),
    ).fetchone()
    if row is not None:
        customer = load_customer(conn, row["customer_id"])
        assert customer is not None
        if customer.name is None and ib.sender_name:
            conn.execute(
                "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
                (ib.sender_name, ms(req.received_at), customer.id),
            )
            customer = load_customer(conn, customer.id)
            assert customer is not None
        return customer, False
    customer = insert_customer(conn, ib.sender_name, req.received_at)
    insert_identity(conn, customer.id, ib.sender_kind.value, req.sender, req.received_at)
    return customer, True


def _new_conversation(
    conn: sqlite3.Connection, req: IngestRequest, customer: Customer, team_id: str | None
) -> str:
    ib = req.inbound
    conversation_id = new_id("cnv")
    now = ms(req.received_at)
    conn.execute(
        "INSERT INTO conversations (id, customer_id, inbox_id, channel, status, priority,"
        " team_id, tags, subject, created_at, updated_at, last_message_at)"
        " VALUES (?, ?, ?, ?, 'open', 'none', ?, '[]', ?, ?, ?, ?)",
        (conversation_id, customer.id, ib.inbox_id, ib.channel, team_id, ib.subject, now, now, now),
    )
    return conversation_id


def run_ingest(conn: sqlite3.Connection, req: IngestRequest) -> IngestResult:
    """Ingest one message inside the current transaction (the caller commits)."""
    ib = req.inbound
    duplicate = _duplicate(conn, req)
    if duplicate is not None:
        return duplicate
    inbox = conn.execute(
        "SELECT channel, team_id FROM inboxes WHERE id = ?", (ib.inbox_id,)
    ).fetchone()
    if inbox is None:
        raise NotFound(f"inbox {ib.inbox_id!r} does not exist", code="inbox_not_found")
    if inbox["channel"] != ib.channel:
        raise InvalidInput(
            f"inbox {ib.inbox_id!r} belongs to channel {inbox['channel']!r}, not {ib.channel!r}",
            code="channel_mismatch",
        )
    customer, customer_created = _resolve(conn, req)
    unresolved, resolved = _recent(conn, customer.id, ib.inbox_id)
    placement = choose_conversation(
        by_thread=_by_thread(conn, req),
        latest_unresolved=unresolved,
        latest_resolved=resolved,
        now=req.received_at,
        reopen_window=req.reopen_window,
    )
    now = ms(req.received_at)
    if placement.conversation is None:
        conversation_id = _new_conversation(conn, req, customer, inbox["team_id"])
    else:
        conversation_id = placement.conversation.id
        if placement.reopen:
            conn.execute(
                "UPDATE conversations SET status = 'open', resolved_at = NULL,"
                " snoozed_until = NULL WHERE id = ?",
                (conversation_id,),
            )
    message_id = new_id("msg")
    message_row = conn.execute(
        "INSERT INTO messages (id, conversation_id, customer_id, direction, kind, channel, text,"
        " html, attachments, provider_id, thread_key, sender, delivery_status, created_at, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?) RETURNING *",
        (
            message_id,
            conversation_id,
            customer.id,
            Direction.IN.value,
            MessageKind.MESSAGE.value,
            ib.channel,
            ib.text,
            ib.html,
            rows.attachments_json(ib.attachments),
            ib.provider_id,
            ib.thread.message_key,
            req.sender,
            now,
            ms(ib.sent_at),
        ),
    ).fetchone()
    conversation_row = conn.execute(
        "UPDATE conversations SET last_message_at = MAX(last_message_at, ?), updated_at = ?,"
        " unread_count = unread_count + 1, message_count = message_count + 1 WHERE id = ?"
        " RETURNING *",
        (now, now, conversation_id),
    ).fetchone()
    return IngestResult(
        message=rows.message(message_row),
        conversation=rows.conversation(conversation_row),
        customer=customer,
        customer_created=customer_created,
        conversation_created=placement.conversation is None,
        conversation_reopened=placement.reopen,
    )
