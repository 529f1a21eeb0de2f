"""Canned-response jobs for the SQLite store."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from hub.errors import Conflict, NotFound
from hub.model import CannedResponse, new_id
from hub.store.base import UNSET
from hub.store.sqlite.rows import dtn, ms


def _canned(row: sqlite3.Row) -> CannedResponse:
    return CannedResponse(
        id=row["id"],
        shortcut=row["shortcut"],
        title=row["title"],
        body=row["body"],
        created_at=dtn(row["created_at"]),
        updated_at=dtn(row["updated_at"]),
    )


def _check_shortcut_free(conn: sqlite3.Connection, shortcut: str, own_id: str = "") -> None:
    taken = conn.execute(
        "SELECT 1 FROM canned_responses WHERE shortcut = ? AND id != ?", (shortcut, own_id)
    ).fetchone()
    if taken:
        raise Conflict(
            f"a canned response with shortcut {shortcut!r} already exists",
            code="shortcut_exists",
            field="shortcut",
        )


def create_canned_response(
    conn: sqlite3.Connection, shortcut: str, title: str, body: str, now: datetime
) -> CannedResponse:
    _check_shortcut_free(conn, shortcut)
    canned_id = new_id("can")
    conn.execute(
        "INSERT INTO canned_responses (id, shortcut, title, body, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (canned_id, shortcut, title, body, ms(now), ms(now)),
    )
    found = get_canned_response(conn, canned_id)
    assert found is not None
    return found


def list_canned_responses(conn: sqlite3.Connection) -> list[CannedResponse]:
    found = conn.execute("SELECT * FROM canned_responses ORDER BY shortcut").fetchall()
    return [_canned(r) for r in found]


def get_canned_response(conn: sqlite3.Connection, canned_id: str) -> CannedResponse | None:
    row = conn.execute("SELECT * FROM canned_responses WHERE id = ?", (canned_id,)).fetchone()
    return _canned(row) if row else None


def update_canned_response(
    conn: sqlite3.Connection,
    canned_id: str,
    shortcut: str,
    title: str,
    body: str,
    now: datetime,
) -> CannedResponse:
    if get_canned_response(conn, canned_id) is None:
        raise NotFound(
            f"canned response {canned_id!r} does not exist", code="canned_response_not_found"
        )
    columns: dict[str, Any] = {"updated_at": ms(now)}
    if shortcut is not UNSET:
        _check_shortcut_free(conn, shortcut, canned_id)
        columns["shortcut"] = shortcut
    if title is not UNSET:
        columns["title"] = title
    if body is not UNSET:
        columns["body"] = body
    assignments = ", ".join(f"{column} = ?" for column in columns)
    conn.execute(
        f"UPDATE canned_responses SET {assignments} WHERE id = ?", (*columns.values(), canned_id)
    )
    found = get_canned_response(conn, canned_id)
    assert found is not None
    return found


def delete_canned_response(conn: sqlite3.Connection, canned_id: str) -> bool:
    return conn.execute("DELETE FROM canned_responses WHERE id = ?", (canned_id,)).rowcount > 0
