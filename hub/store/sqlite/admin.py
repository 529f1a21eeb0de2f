"""Team, agent, inbox and API-token jobs for the SQLite store."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hub.errors import Conflict, NotFound
from hub.model import Agent, ApiToken, Inbox, Role, Team, new_id
from hub.store.sqlite import rows
from hub.store.sqlite.rows import dumps, ms


def create_team(conn: sqlite3.Connection, name: str, now: datetime) -> Team:
    if conn.execute("SELECT 1 FROM teams WHERE name = ?", (name,)).fetchone():
        raise Conflict(f"a team named {name!r} already exists", code="team_exists")
    team_id = new_id("tem")
    conn.execute(
        "INSERT INTO teams (id, name, created_at) VALUES (?, ?, ?)", (team_id, name, ms(now))
    )
    return Team(id=team_id, name=name, created_at=rows.dtn(ms(now) or 0))


def list_teams(conn: sqlite3.Connection) -> list[Team]:
    return [rows.team(r) for r in conn.execute("SELECT * FROM teams ORDER BY name").fetchall()]


def _team_ids(conn: sqlite3.Connection, agent_id: str) -> tuple[str, ...]:
    found = conn.execute(
        "SELECT team_id FROM agent_teams WHERE agent_id = ? ORDER BY team_id", (agent_id,)
    ).fetchall()
    return tuple(r[0] for r in found)


def _agent(conn: sqlite3.Connection, row: sqlite3.Row | None) -> Agent | None:
    return rows.agent(row, _team_ids(conn, row["id"])) if row else None


def create_agent(
    conn: sqlite3.Connection,
    email: str,
    name: str,
    role: Role,
    password_hash: str | None,
    team_ids: Sequence[str],
    now: datetime,
) -> Agent:
    if conn.execute("SELECT 1 FROM agents WHERE email = ?", (email,)).fetchone():
        raise Conflict(f"an agent with email {email!r} already exists", code="agent_exists")
    for team_id in team_ids:
        if not conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone():
            raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    agent_id = new_id("agt")
    conn.execute(
        "INSERT INTO agents (id, email, name, role, active, password_hash, created_at)"
        " VALUES (?, ?, ?, ?, 1, ?, ?)",
        (agent_id, email, name, role.value, password_hash, ms(now)),
    )
    conn.executemany(
        "INSERT INTO agent_teams (agent_id, team_id) VALUES (?, ?)",
        [(agent_id, t) for t in dict.fromkeys(team_ids)],
    )
    found = get_agent(conn, agent_id)
    assert found is not None
    return found


def get_agent(conn: sqlite3.Connection, agent_id: str) -> Agent | None:
    return _agent(conn, conn.execute("SELECT * FROM agents WHERE id = ?", (agent_id,)).fetchone())


def get_agent_by_email(conn: sqlite3.Connection, email: str) -> Agent | None:
    row = conn.execute("SELECT * FROM agents WHERE email = ?", (email,)).fetchone()
    return _agent(conn, row)


def list_agents(conn: sqlite3.Connection) -> list[Agent]:
    found = conn.execute("SELECT * FROM agents ORDER BY name, id").fetchall()
    return [rows.agent(r, _team_ids(conn, r["id"])) for r in found]


def create_inbox(
    conn: sqlite3.Connection,
    name: str,
    channel: str,
    team_id: str | None,
    config: Mapping[str, Any],
    now: datetime,
) -> Inbox:
    if (
        team_id is not None
        and not conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone()
    ):
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    inbox_id = new_id("inb")
    conn.execute(
        "INSERT INTO inboxes (id, name, channel, team_id, config, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (inbox_id, name, channel, team_id, dumps(dict(config)), ms(now)),
    )
    found = get_inbox(conn, inbox_id)
    assert found is not None
    return found


def get_inbox(conn: sqlite3.Connection, inbox_id: str) -> Inbox | None:
    row = conn.execute("SELECT * FROM inboxes WHERE id = ?", (inbox_id,)).fetchone()
    return rows.inbox(row) if row else None


def list_inboxes(conn: sqlite3.Connection) -> list[Inbox]:
    return [rows.inbox(r) for r in conn.execute("SELECT * FROM inboxes ORDER BY name").fetchall()]


def create_token(
    conn: sqlite3.Connection,
    agent_id: str,
    name: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> ApiToken:
    if get_agent(conn, agent_id) is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    token_id = new_id("tok")
    conn.execute(
        "INSERT INTO api_tokens (id, agent_id, name, token_hash, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (token_id, agent_id, name, token_hash, ms(now), ms(expires_at)),
    )
    found = get_token(conn, token_id)
    assert found is not None
    return found


def agent_for_token(conn: sqlite3.Connection, token_hash: str) -> tuple[Agent, ApiToken] | None:
    row = conn.execute(
        "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,)
    ).fetchone()
    if row is None:
        return None
    agent = get_agent(conn, row["agent_id"])
    if agent is None:
        return None
    return agent, rows.token(row)


def get_token(conn: sqlite3.Connection, token_id: str) -> ApiToken | None:
    row = conn.execute("SELECT * FROM api_tokens WHERE id = ?", (token_id,)).fetchone()
    return rows.token(row) if row else None


def list_tokens(conn: sqlite3.Connection, agent_id: str) -> list[ApiToken]:
    found = conn.execute(
        "SELECT * FROM api_tokens WHERE agent_id = ? AND revoked_at IS NULL"
        " ORDER BY created_at, id",
        (agent_id,),
    ).fetchall()
    return [rows.token(r) for r in found]


def revoke_token(conn: sqlite3.Connection, token_id: str, now: datetime) -> bool:
    cur = conn.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (ms(now), token_id),
    )
    return cur.rowcount > 0


def touch_token(conn: sqlite3.Connection, token_id: str, now: datetime) -> None:
    # never moves backwards: two processes may record uses out of order
    conn.execute(
        "UPDATE api_tokens SET last_used_at = ?"
        " WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
        (ms(now), token_id, ms(now)),
    )
