"""Browser-session jobs for the SQLite store: rows keyed by the hash of the cookie token."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from hub.errors import NotFound
from hub.model import Agent, Session, new_id
from hub.store.sqlite import admin
from hub.store.sqlite.rows import dtn, ms


def _session(row: sqlite3.Row) -> Session:
    return Session(
        id=row["id"],
        agent_id=row["agent_id"],
        csrf_secret=row["csrf_secret"],
        created_at=dtn(row["created_at"]),
        last_seen_at=dtn(row["last_seen_at"]),
        expires_at=dtn(row["expires_at"]),
    )


def create_session(
    conn: sqlite3.Connection,
    agent_id: str,
    token_hash: str,
    csrf_secret: str,
    now: datetime,
    expires_at: datetime,
) -> Session:
    if admin.get_agent(conn, agent_id) is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    session_id = new_id("ses")
    conn.execute(
        "INSERT INTO sessions (id, token_hash, agent_id, csrf_secret, created_at, last_seen_at,"
        " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (session_id, token_hash, agent_id, csrf_secret, ms(now), ms(now), ms(expires_at)),
    )
    row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return _session(row)


def get_session(conn: sqlite3.Connection, token_hash: str) -> tuple[Session, Agent] | None:
    row = conn.execute("SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
    if row is None:
        return None
    agent = admin.get_agent(conn, row["agent_id"])
    if agent is None:
        return None
    return _session(row), agent


def touch_session(conn: sqlite3.Connection, session_id: str, now: datetime) -> bool:
    cur = conn.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ?", (ms(now), session_id))
    return cur.rowcount > 0


def delete_session(conn: sqlite3.Connection, token_hash: str) -> bool:
    return conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,)).rowcount > 0


def delete_agent_sessions(conn: sqlite3.Connection, agent_id: str) -> int:
    return conn.execute("DELETE FROM sessions WHERE agent_id = ?", (agent_id,)).rowcount


def delete_expired_sessions(conn: sqlite3.Connection, now: datetime) -> int:
    return conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (ms(now),)).rowcount
