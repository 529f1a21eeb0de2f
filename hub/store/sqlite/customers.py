"""Customer, identity and merge jobs for the SQLite store (run in a connection's thread)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.errors import Conflict, NotFound
from hub.model import (
    Customer,
    CustomerFile,
    Identity,
    IdentityKind,
    MergeRecord,
    Message,
    Page,
    new_id,
)
from hub.store.base import UNSET
from hub.store.sqlite import rows
from hub.store.sqlite.ingest import insert_customer, insert_identity, load_customer
from hub.store.sqlite.rows import dumps, loads, ms

IN_CHUNK = 500  # ids per IN (...): well under SQLite's bound-parameter limit


def _require(conn: sqlite3.Connection, customer_id: str) -> Customer:
    customer = load_customer(conn, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id!r} does not exist", code="customer_not_found")
    return customer


def _owner(conn: sqlite3.Connection, kind: str, address: str) -> str | None:
    row = conn.execute(
        "SELECT customer_id FROM identities WHERE kind = ? AND address = ?", (kind, address)
    ).fetchone()
    return row["customer_id"] if row else None


def find_identity(conn: sqlite3.Connection, kind: IdentityKind, address: str) -> Identity | None:
    row = conn.execute(
        "SELECT * FROM identities WHERE kind = ? AND address = ?", (kind.value, address)
    ).fetchone()
    return rows.identity(row) if row else None


def create_customer(
    conn: sqlite3.Connection,
    name: str | None,
    attributes: Mapping[str, Any],
    tags: Sequence[str],
    identities: Sequence[tuple[IdentityKind, str]],
    now: datetime,
) -> CustomerFile:
    # a repeated identity is one identity (it used to hit the UNIQUE index and leak a raw
    # sqlite3.IntegrityError); repeated tags are dropped as update_customer drops them
    identities = list(dict.fromkeys(identities))
    tags = list(dict.fromkeys(tags))
    for kind, address in identities:
        owner = _owner(conn, kind.value, address)
        if owner is not None:
            raise Conflict(
                f"{kind.value} address {address!r} already belongs to customer {owner}",
                code="identity_taken",
                customer_id=owner,
            )
    customer = insert_customer(conn, name, now, dumps(dict(attributes)))
    if tags:
        conn.execute("UPDATE customers SET tags = ? WHERE id = ?", (dumps(list(tags)), customer.id))
    for kind, address in identities:
        insert_identity(conn, customer.id, kind.value, address, now)
    result = customer_file(conn, customer.id)
    assert result is not None
    return result


def resolve_customer(
    conn: sqlite3.Connection, kind: IdentityKind, address: str, name: str | None, now: datetime
) -> tuple[Customer, Identity, bool]:
    existing = find_identity(conn, kind, address)
    if existing is not None:
        return _require(conn, existing.customer_id), existing, False
    customer = insert_customer(conn, name, now)
    insert_identity(conn, customer.id, kind.value, address, now)
    identity = find_identity(conn, kind, address)
    assert identity is not None
    return customer, identity, True


def add_identity(
    conn: sqlite3.Connection, customer_id: str, kind: IdentityKind, address: str, now: datetime
) -> Identity:
    customer = _require(conn, customer_id)
    if customer.merged_into is not None:
        raise Conflict(f"customer {customer_id} was merged into {customer.merged_into}")
    owner = _owner(conn, kind.value, address)
    if owner == customer_id:
        found = find_identity(conn, kind, address)
        assert found is not None
        return found
    if owner is not None:
        raise Conflict(
            f"{kind.value} address {address!r} already belongs to customer {owner}; merge instead",
            code="identity_taken",
            customer_id=owner,
        )
    insert_identity(conn, customer_id, kind.value, address, now)
    conn.execute("UPDATE customers SET updated_at = ? WHERE id = ?", (ms(now), customer_id))
    found = find_identity(conn, kind, address)
    assert found is not None
    return found


def update_customer(
    conn: sqlite3.Connection,
    customer_id: str,
    name: Any,
    attributes: Any,
    tags: Any,
    now: datetime,
) -> Customer:
    customer = _require(conn, customer_id)
    new_name = customer.name if name is UNSET else name
    merged = dict(customer.attributes)
    if attributes is not UNSET:
        for key, value in attributes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
    new_tags = list(customer.tags) if tags is UNSET else list(dict.fromkeys(tags))
    conn.execute(
        "UPDATE customers SET name = ?, attributes = ?, tags = ?, updated_at = ? WHERE id = ?",
        (new_name, dumps(merged), dumps(new_tags), ms(now), customer_id),
    )
    return _require(conn, customer_id)


def list_customers(
    conn: sqlite3.Connection, query: str | None, limit: int, cursor: str | None
) -> Page[Customer]:
    where = ["c.merged_into IS NULL"]
    params: list[Any] = []
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        # LIKE folds ASCII case only, so "øystein" missed "Øystein"; hub_casefold (registered
        # on every connection by the engine) folds the name the way Python does
        where.append(
            "(hub_casefold(c.name) LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM identities i"
            " WHERE i.customer_id = c.id AND i.address LIKE ? ESCAPE '\\'))"
        )
        params += [pattern.casefold(), pattern.lower()]
    if cursor:
        created, cid = rows.decode_cursor(cursor, 2)
        where.append("(c.created_at, c.id) < (?, ?)")
        params += [created, cid]
    found = conn.execute(
        f"SELECT c.* FROM customers c WHERE {' AND '.join(where)}"
        " ORDER BY c.created_at DESC, c.id DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return rows.keyset_page(found, limit, rows.customer, "created_at")


def list_customer_messages(
    conn: sqlite3.Connection,
    customer_id: str,
    limit: int,
    cursor: str | None,
    inbox_ids: Sequence[str] | None,
) -> Page[Message]:
    """A customer's messages across conversations, newest first (messages_customer index)."""
    if inbox_ids is not None and not inbox_ids:
        return Page(items=())
    where = ["customer_id = ?"]
    params: list[Any] = [customer_id]
    if inbox_ids is not None:
        where.append(
            "conversation_id IN (SELECT id FROM conversations"
            f" WHERE customer_id = ? AND inbox_id IN ({','.join('?' * len(inbox_ids))}))"
        )
        params += [customer_id, *inbox_ids]
    if cursor:
        at, mid = rows.decode_cursor(cursor, 2)
        where.append("(created_at, id) < (?, ?)")
        params += [at, mid]
    found = conn.execute(
        f"SELECT * FROM messages WHERE {' AND '.join(where)}"
        " ORDER BY created_at DESC, id DESC LIMIT ?",
        (*params, limit + 1),
    ).fetchall()
    return rows.keyset_page(found, limit, rows.message, "created_at")


def customer_file(conn: sqlite3.Connection, customer_id: str) -> CustomerFile | None:
    customer = load_customer(conn, customer_id)
    if customer is None:
        return None
    identities = conn.execute(
        "SELECT * FROM identities WHERE customer_id = ? ORDER BY created_at, id", (customer_id,)
    ).fetchall()
    conversations = conn.execute(
        "SELECT * FROM conversations WHERE customer_id = ?"
        " ORDER BY last_message_at DESC, id DESC LIMIT 200",
        (customer_id,),
    ).fetchall()
    merges = conn.execute(
        "SELECT * FROM merges WHERE kept_id = ? OR merged_id = ? ORDER BY created_at, id",
        (customer_id, customer_id),
    ).fetchall()
    return CustomerFile(
        customer=customer,
        identities=tuple(rows.identity(r) for r in identities),
        conversations=tuple(rows.conversation(r) for r in conversations),
        merges=tuple(rows.merge(r) for r in merges),
    )


def customer_inbox_ids(
    conn: sqlite3.Connection, customer_ids: Sequence[str]
) -> dict[str, frozenset[str]]:
    """Each customer's inboxes: distinct pairs, read from the conv_customer index alone."""
    found: dict[str, set[str]] = {cid: set() for cid in customer_ids}
    unique = list(found)
    for start in range(0, len(unique), IN_CHUNK):
        chunk = unique[start : start + IN_CHUNK]
        marks = ", ".join("?" * len(chunk))
        for customer_id, inbox_id in conn.execute(
            "SELECT DISTINCT customer_id, inbox_id FROM conversations"
            f" WHERE customer_id IN ({marks})",
            chunk,
        ):
            found[customer_id].add(inbox_id)
    return {cid: frozenset(inboxes) for cid, inboxes in found.items()}


def _ids(conn: sqlite3.Connection, sql: str, value: str) -> list[str]:
    return [r[0] for r in conn.execute(sql, (value,)).fetchall()]


def _row_dict(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return dict(row)


def merge_customers(
    conn: sqlite3.Connection, kept_id: str, merged_id: str, actor_id: str | None, now: datetime
) -> MergeRecord:
    if kept_id == merged_id:
        raise Conflict("cannot merge a customer into itself", code="merge_self")
    kept, merged = _require(conn, kept_id), _require(conn, merged_id)
    for c in (kept, merged):
        if c.merged_into is not None:
            raise Conflict(
                f"customer {c.id} was already merged into {c.merged_into}", code="already_merged"
            )
    snapshot = {
        "kept": _row_dict(conn, kept_id),
        "merged": _row_dict(conn, merged_id),
        "identities": _ids(conn, "SELECT id FROM identities WHERE customer_id = ?", merged_id),
        "conversations": _ids(
            conn, "SELECT id FROM conversations WHERE customer_id = ?", merged_id
        ),
        "messages": _ids(conn, "SELECT id FROM messages WHERE customer_id = ?", merged_id),
    }
    for table in ("identities", "conversations", "messages"):
        conn.execute(
            f"UPDATE {table} SET customer_id = ? WHERE customer_id = ?", (kept_id, merged_id)
        )
    # the kept customer wins on conflicts; the merged one only fills gaps (CW #5115)
    attributes = {**merged.attributes, **kept.attributes}
    tags = list(dict.fromkeys([*kept.tags, *merged.tags]))
    conn.execute(
        "UPDATE customers SET name = ?, attributes = ?, tags = ?, updated_at = ? WHERE id = ?",
        (kept.name or merged.name, dumps(attributes), dumps(tags), ms(now), kept_id),
    )
    conn.execute(
        "UPDATE customers SET merged_into = ?, updated_at = ? WHERE id = ?",
        (kept_id, ms(now), merged_id),
    )
    merge_id = new_id("mrg")
    conn.execute(
        "INSERT INTO merges (id, kept_id, merged_id, actor_id, created_at, snapshot)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (merge_id, kept_id, merged_id, actor_id, ms(now), dumps(snapshot)),
    )
    record = get_merge(conn, merge_id)
    assert record is not None
    return record


def _restore_row(conn: sqlite3.Connection, saved: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE customers SET name = ?, attributes = ?, tags = ?, created_at = ?,"
        " updated_at = ?, merged_into = ? WHERE id = ?",
        (
            saved["name"],
            saved["attributes"],
            saved["tags"],
            saved["created_at"],
            saved["updated_at"],
            saved["merged_into"],
            saved["id"],
        ),
    )


def undo_merge(conn: sqlite3.Connection, merge_id: str, now: datetime) -> MergeRecord:
    row = conn.execute("SELECT * FROM merges WHERE id = ?", (merge_id,)).fetchone()
    if row is None:
        raise NotFound(f"merge {merge_id!r} does not exist", code="merge_not_found")
    if row["undone_at"] is not None:
        raise Conflict(f"merge {merge_id} was already undone", code="merge_undone")
    later = conn.execute(
        "SELECT id FROM merges WHERE undone_at IS NULL AND created_at >= ? AND id != ?"
        " AND (merged_id = ? OR merged_id = ?)",
        (row["created_at"], merge_id, row["kept_id"], row["merged_id"]),
    ).fetchone()
    if later is not None:
        raise Conflict(
            f"customer {row['kept_id']} was merged again by {later['id']}; undo that first",
            code="merge_not_latest",
        )
    snapshot = loads(row["snapshot"])
    kept_id, merged_id = row["kept_id"], row["merged_id"]
    for table, key in (
        ("identities", "identities"),
        ("conversations", "conversations"),
        ("messages", "messages"),
    ):
        ids = snapshot[key]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            conn.execute(
                f"UPDATE {table} SET customer_id = ? WHERE customer_id = ? AND id IN ({marks})",
                (merged_id, kept_id, *chunk),
            )
    _restore_row(conn, snapshot["kept"])
    _restore_row(conn, snapshot["merged"])
    conn.execute("UPDATE merges SET undone_at = ? WHERE id = ?", (ms(now), merge_id))
    record = get_merge(conn, merge_id)
    assert record is not None
    return record


def get_merge(conn: sqlite3.Connection, merge_id: str) -> MergeRecord | None:
    row = conn.execute("SELECT * FROM merges WHERE id = ?", (merge_id,)).fetchone()
    return rows.merge(row) if row else None
