"""The ingest write job: dedupe, resolve, thread and store one inbound, in the writer thread."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime

from hub.conversation_rules import choose_conversation
from hub.errors import HubError, InvalidInput, NotFound
from hub.model import (
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    IngestResult,
    Message,
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
    at = rows.msn(now)
    conn.execute(
        "INSERT INTO customers (id, name, attributes, tags, created_at, updated_at)"
        " VALUES (?, ?, ?, '[]', ?, ?)",
        (customer_id, name, attributes, at, at),
    )
    # built from what was written: reading it back cost a statement on the writer, and
    # each statement is a GIL round trip with the event loop (a visitor's first message)
    return Customer(
        id=customer_id,
        name=name,
        attributes=rows.loads(attributes),
        created_at=rows.dtn(at),
        updated_at=rows.dtn(at),
    )


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


def _duplicate(conn: sqlite3.Connection, message_id: str) -> IngestResult:
    row = conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
    message = rows.message(row)
    conversation = load_conversation(conn, message.conversation_id)
    customer = load_customer(conn, message.customer_id)
    assert conversation is not None and customer is not None
    return IngestResult(
        message=message, conversation=conversation, customer=customer, duplicate=True
    )


# One statement instead of four (dedupe, inbox, identity, customer): each execute costs
# ~10 µs of Python plus its share of the GIL, and this runs for every inbound message.
_LOOKUP = (
    "SELECT i.channel AS inbox_channel, i.team_id AS inbox_team,"
    " (SELECT m.id FROM messages m WHERE m.channel = ? AND m.provider_id = ?) AS duplicate_id,"
    " c.* FROM (SELECT ? AS id) q"
    " LEFT JOIN inboxes i ON i.id = q.id"
    " LEFT JOIN identities idn ON idn.kind = ? AND idn.address = ?"
    " LEFT JOIN customers c ON c.id = idn.customer_id"
)


def _resolve(
    conn: sqlite3.Connection, req: IngestRequest, found: sqlite3.Row
) -> tuple[Customer, bool]:
    ib = req.inbound
    if found["id"] is not None:
        customer = rows.customer(found)
        if customer.name is None and ib.sender_name:
            conn.execute(
                "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
                (ib.sender_name, ms(req.received_at), customer.id),
            )
            updated = load_customer(conn, customer.id)
            assert updated is not None
            return updated, False
        return customer, False
    customer = insert_customer(conn, ib.sender_name, req.received_at)
    insert_identity(conn, customer.id, ib.sender_kind.value, req.sender, req.received_at)
    return customer, True


def _new_conversation(
    conn: sqlite3.Connection, req: IngestRequest, customer: Customer, team_id: str | None
) -> Conversation:
    """A conversation that already counts its first message (no second UPDATE needed)."""
    ib = req.inbound
    now = rows.msn(req.received_at)
    at = rows.dtn(now)
    assignee = req.assign_new(team_id) if req.assign_new is not None else None
    conversation = Conversation(
        id=new_id("cnv"),
        customer_id=customer.id,
        inbox_id=ib.inbox_id,
        channel=ib.channel,
        assignee_id=assignee,
        team_id=team_id,
        subject=ib.subject,
        created_at=at,
        updated_at=at,
        last_message_at=at,
        unread_count=1,
        message_count=1,
    )
    conn.execute(
        "INSERT INTO conversations (id, customer_id, inbox_id, channel, status, priority,"
        " assignee_id, team_id, tags, subject, created_at, updated_at, last_message_at,"
        " unread_count, message_count)"
        " VALUES (?, ?, ?, ?, 'open', 'none', ?, ?, '[]', ?, ?, ?, ?, 1, 1)",
        (
            conversation.id,
            customer.id,
            ib.inbox_id,
            ib.channel,
            assignee,
            team_id,
            ib.subject,
            now,
            now,
            now,
        ),
    )
    return conversation


def _count_message(
    conn: sqlite3.Connection, current: Conversation, at: datetime, reopen: bool
) -> Conversation:
    """Bump the counters (and reopen) of a conversation loaded in this same transaction."""
    now = rows.msn(at)
    last = max(rows.msn(current.last_message_at), now)
    if reopen:
        conn.execute(
            "UPDATE conversations SET status = 'open', resolved_at = NULL, snoozed_until = NULL,"
            " last_message_at = ?, updated_at = ?, unread_count = unread_count + 1,"
            " message_count = message_count + 1 WHERE id = ?",
            (last, now, current.id),
        )
    else:
        conn.execute(
            "UPDATE conversations SET last_message_at = ?, updated_at = ?,"
            " unread_count = unread_count + 1, message_count = message_count + 1 WHERE id = ?",
            (last, now, current.id),
        )
    changes: dict[str, object] = {
        "last_message_at": rows.dtn(last),
        "updated_at": rows.dtn(now),
        "unread_count": current.unread_count + 1,
        "message_count": current.message_count + 1,
    }
    if reopen:
        changes.update(status=Status.OPEN, resolved_at=None, snoozed_until=None)
    return replace(current, **changes)  # type: ignore[arg-type]


def _check(conn: sqlite3.Connection, req: IngestRequest) -> sqlite3.Row:
    """The lookup, and every refusal (HubError) an ingest can give. It writes nothing."""
    ib = req.inbound
    found: sqlite3.Row = conn.execute(
        _LOOKUP, (ib.channel, ib.provider_id, ib.inbox_id, ib.sender_kind.value, req.sender)
    ).fetchone()
    if found["duplicate_id"] is not None:
        return found
    if found["inbox_channel"] is None:
        raise NotFound(f"inbox {ib.inbox_id!r} does not exist", code="inbox_not_found")
    if found["inbox_channel"] != ib.channel:
        raise InvalidInput(
            f"inbox {ib.inbox_id!r} belongs to channel {found['inbox_channel']!r},"
            f" not {ib.channel!r}",
            code="channel_mismatch",
        )
    return found


def run_ingest(conn: sqlite3.Connection, req: IngestRequest) -> IngestResult:
    """Ingest one message inside the current transaction (the caller commits)."""
    return _apply(conn, req, _check(conn, req))


def _apply(conn: sqlite3.Connection, req: IngestRequest, found: sqlite3.Row) -> IngestResult:
    """The writes of one ingest that `_check` accepted; raises no HubError."""
    if found["duplicate_id"] is not None:
        return _duplicate(conn, found["duplicate_id"])
    ib = req.inbound
    customer, customer_created = _resolve(conn, req, found)
    if customer_created:  # a new customer has no conversations to look up
        unresolved = resolved = None
    else:
        unresolved, resolved = _recent(conn, customer.id, ib.inbox_id)
    placement = choose_conversation(
        by_thread=_by_thread(conn, req),
        latest_unresolved=unresolved,
        latest_resolved=resolved,
        now=req.received_at,
        reopen_window=req.reopen_window,
    )
    if placement.conversation is None:
        conversation = _new_conversation(conn, req, customer, found["inbox_team"])
    else:
        conversation = _count_message(
            conn, placement.conversation, req.received_at, placement.reopen
        )
    message = Message(
        id=new_id("msg"),
        conversation_id=conversation.id,
        customer_id=customer.id,
        direction=Direction.IN,
        kind=MessageKind.MESSAGE,
        channel=ib.channel,
        text=ib.text,
        html=ib.html,
        attachments=ib.attachments,
        provider_id=ib.provider_id,
        thread_key=ib.thread.message_key,
        sender=req.sender,
        delivery_status=DeliveryStatus.RECEIVED,
        created_at=conversation.updated_at,
        sent_at=rows.dt(ms(ib.sent_at)),
    )
    conn.execute(
        "INSERT INTO messages (id, conversation_id, customer_id, direction, kind, channel, text,"
        " html, attachments, provider_id, thread_key, sender, delivery_status, created_at, sent_at)"
        " VALUES (?, ?, ?, 'in', 'message', ?, ?, ?, ?, ?, ?, ?, 'received', ?, ?)",
        (
            message.id,
            conversation.id,
            customer.id,
            ib.channel,
            ib.text,
            ib.html,
            rows.attachments_json(ib.attachments),
            ib.provider_id,
            ib.thread.message_key,
            req.sender,
            ms(message.created_at),
            ms(ib.sent_at),
        ),
    )
    return IngestResult(
        message=message,
        conversation=conversation,
        customer=customer,
        customer_created=customer_created,
        conversation_created=placement.conversation is None,
        conversation_reopened=placement.reopen,
    )


def run_ingest_many(
    conn: sqlite3.Connection, reqs: list[IngestRequest]
) -> list[IngestResult | HubError]:
    """Ingest several messages in one write job; a refused message does not sink the others.

    No savepoint per message (one costs ~35 µs here): every refusal comes from `_check`,
    before that message writes anything. Any other error is a fault, and fails the whole
    job, which the engine rolls back.
    """
    results: list[IngestResult | HubError] = []
    for req in reqs:
        try:
            found = _check(conn, req)
        except HubError as exc:  # this message alone is rejected; the others stand
            results.append(exc)
            continue
        results.append(_apply(conn, req, found))
    return results
