"""Whole-hub export and import of records (hub/store/record_format.py) for SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.errors import Conflict, InvalidInput
from hub.store.record_format import RECORD_FIELDS, Record, RecordKind
from hub.store.sqlite.rows import dt, dumps, loads, ms

# Each kind lives in the table of the same name (checked by the contract tests' counts).
TABLES: dict[RecordKind, str] = {kind: kind.value for kind in RecordKind}

_TIMES = frozenset(
    {
        "created_at",
        "updated_at",
        "last_used_at",
        "revoked_at",
        "expires_at",
        "last_message_at",
        "first_response_at",
        "resolved_at",
        "snoozed_until",
        "sent_at",
        "next_attempt_at",
        "undone_at",
    }
)
_JSON = frozenset({"attributes", "tags", "config", "attachments"})
_BOOLS = frozenset({"active"})
# Fields kept outside the kind's own table: an agent's team_ids live in agent_teams.
_NOT_COLUMNS = frozenset({"team_ids"})


def _columns(kind: RecordKind) -> tuple[str, ...]:
    return tuple(f for f in RECORD_FIELDS[kind] if f not in _NOT_COLUMNS)


def _to_record(name: str, value: Any) -> Any:
    if name in _TIMES:
        return dt(value)
    if name in _JSON:
        return loads(value)
    if name in _BOOLS:
        return bool(value)
    return value


def _to_column(kind: RecordKind, record_id: Any, name: str, value: Any) -> Any:
    if name in _TIMES:
        if value is not None and not isinstance(value, datetime):
            raise InvalidInput(
                f"{kind.value} record {record_id!r}: {name} must be a datetime or None,"
                f" got {type(value).__name__}",
                code="invalid_record",
            )
        return ms(value)
    if name in _JSON:
        return dumps(value)
    if name in _BOOLS:
        return int(bool(value))
    return value


# --- merge snapshots: SQLite keeps raw customer rows (ms ints, JSON text), see customers.py


def _neutral_snapshot(stored: str) -> dict[str, Any]:
    raw = loads(stored)
    customer_fields = RECORD_FIELDS[RecordKind.CUSTOMERS]
    out: dict[str, Any] = {
        side: {f: _to_record(f, raw[side][f]) for f in customer_fields}
        for side in ("kept", "merged")
    }
    for key in ("identities", "conversations", "messages"):
        out[key] = list(raw[key])
    return out


def _stored_snapshot(record_id: Any, snapshot: Any) -> str:
    customer_fields = RECORD_FIELDS[RecordKind.CUSTOMERS]
    try:
        raw: dict[str, Any] = {
            side: {
                f: _to_column(RecordKind.CUSTOMERS, record_id, f, snapshot[side][f])
                for f in customer_fields
            }
            for side in ("kept", "merged")
        }
        for key in ("identities", "conversations", "messages"):
            raw[key] = list(snapshot[key])
    except (KeyError, TypeError) as exc:
        raise InvalidInput(
            f"merges record {record_id!r}: snapshot lacks {exc}", code="invalid_record"
        ) from exc
    return dumps(raw)


# --- export ----------------------------------------------------------------------------


def _team_ids(conn: sqlite3.Connection, agent_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {a: [] for a in agent_ids}
    if not agent_ids:
        return out
    marks = ",".join("?" * len(agent_ids))
    found = conn.execute(
        f"SELECT agent_id, team_id FROM agent_teams WHERE agent_id IN ({marks})"
        " ORDER BY agent_id, team_id",
        agent_ids,
    ).fetchall()
    for row in found:
        out[row["agent_id"]].append(row["team_id"])
    return out


def _row_value(row: sqlite3.Row, name: str) -> Any:
    return _neutral_snapshot(row[name]) if name == "snapshot" else _to_record(name, row[name])


def export_records(
    conn: sqlite3.Connection, kind: RecordKind, after: str | None, limit: int
) -> list[Record]:
    """Up to `limit` records of one kind with ids above `after`, in ascending id order."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1, got {limit}", code="invalid_limit")
    columns = _columns(kind)
    where, params = ("WHERE id > ?", [after]) if after is not None else ("", [])
    found = conn.execute(
        f"SELECT {', '.join(columns)} FROM {TABLES[kind]} {where} ORDER BY id LIMIT ?",
        (*params, limit),
    ).fetchall()
    records: list[Record] = [{name: _row_value(row, name) for name in columns} for row in found]
    if kind is RecordKind.AGENTS:
        teams = _team_ids(conn, [r["id"] for r in records])
        for record in records:
            record["team_ids"] = teams[record["id"]]
    # the neutral form lists fields in RECORD_FIELDS order, whatever the table's order
    return [{f: r[f] for f in RECORD_FIELDS[kind]} for r in records]


# --- import ----------------------------------------------------------------------------


def _upsert_sql(kind: RecordKind) -> str:
    columns = _columns(kind)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    return (
        f"INSERT INTO {TABLES[kind]} ({', '.join(columns)})"
        f" VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT(id) DO UPDATE SET {updates}"
    )


def _check_fields(kind: RecordKind, record: Record) -> None:
    expected = set(RECORD_FIELDS[kind])
    missing, extra = expected - record.keys(), record.keys() - expected
    if missing or extra:
        problem = "; ".join(
            part
            for part in (
                f"missing {sorted(missing)}" if missing else "",
                f"unknown {sorted(extra)}" if extra else "",
            )
            if part
        )
        raise InvalidInput(
            f"{kind.value} record {record.get('id')!r}: {problem}", code="invalid_record"
        )


def _column_values(kind: RecordKind, record: Record) -> list[Any]:
    record_id = record["id"]
    return [
        _stored_snapshot(record_id, record[name])
        if name == "snapshot"
        else _to_column(kind, record_id, name, record[name])
        for name in _columns(kind)
    ]


def _replace_links(conn: sqlite3.Connection, kind: RecordKind, record: Record) -> None:
    """Rewrite the side tables that mirror a list field, so they match the record exactly."""
    if kind is RecordKind.AGENTS:
        conn.execute("DELETE FROM agent_teams WHERE agent_id = ?", (record["id"],))
        conn.executemany(
            "INSERT INTO agent_teams (agent_id, team_id) VALUES (?, ?)",
            [(record["id"], t) for t in dict.fromkeys(record["team_ids"])],
        )
    elif kind is RecordKind.CONVERSATIONS:
        conn.execute("DELETE FROM conversation_tags WHERE conversation_id = ?", (record["id"],))
        conn.executemany(
            "INSERT OR IGNORE INTO conversation_tags (tag, conversation_id) VALUES (?, ?)",
            [(tag, record["id"]) for tag in record["tags"]],
        )


def import_records(conn: sqlite3.Connection, kind: RecordKind, records: Sequence[Record]) -> int:
    """Upsert records by id inside the current transaction; returns how many were written."""
    sql = _upsert_sql(kind)
    for record in records:
        _check_fields(kind, record)
        try:
            conn.execute(sql, _column_values(kind, record))
            _replace_links(conn, kind, record)
        except sqlite3.IntegrityError as exc:
            # another row holds a unique key (email, address, provider id) or a reference is
            # missing: say which record, so the operator can fix the target and re-run
            raise Conflict(
                f"cannot import {kind.value} record {record['id']!r}: {exc}",
                code="import_conflict",
                kind=kind.value,
                record_id=record["id"],
            ) from exc
    return len(records)
