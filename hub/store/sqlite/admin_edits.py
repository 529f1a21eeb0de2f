"""Edits of agents, teams and inboxes for the SQLite store (creation lives in admin.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from hub.errors import Conflict, NotFound
from hub.model import Agent, Inbox, Role, Team
from hub.store.base import UNSET
from hub.store.sqlite import admin, rows
from hub.store.sqlite.rows import dumps


def _require_team(conn: sqlite3.Connection, team_id: str) -> None:
    if not conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone():
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")


def update_agent(
    conn: sqlite3.Connection,
    agent_id: str,
    name: str,
    role: Role,
    team_ids: Sequence[str],
    active: bool,
    password_hash: str | None,
) -> Agent:
    if admin.get_agent(conn, agent_id) is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    columns: dict[str, Any] = {}
    if name is not UNSET:
        columns["name"] = name
    if role is not UNSET:
        columns["role"] = Role(role).value
    if active is not UNSET:
        columns["active"] = 1 if active else 0
    if password_hash is not UNSET:
        columns["password_hash"] = password_hash
    if columns:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(f"UPDATE agents SET {assignments} WHERE id = ?", (*columns.values(), agent_id))
    if team_ids is not UNSET:
        for team_id in team_ids:
            _require_team(conn, team_id)
        conn.execute("DELETE FROM agent_teams WHERE agent_id = ?", (agent_id,))
        conn.executemany(
            "INSERT INTO agent_teams (agent_id, team_id) VALUES (?, ?)",
            [(agent_id, t) for t in dict.fromkeys(team_ids)],
        )
    found = admin.get_agent(conn, agent_id)
    assert found is not None
    return found


def update_inbox(
    conn: sqlite3.Connection,
    inbox_id: str,
    name: str,
    team_id: str | None,
    config: Mapping[str, Any],
) -> Inbox:
    if admin.get_inbox(conn, inbox_id) is None:
        raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
    columns: dict[str, Any] = {}
    if name is not UNSET:
        columns["name"] = name
    if team_id is not UNSET:
        if team_id is not None:
            _require_team(conn, team_id)
        columns["team_id"] = team_id
    if config is not UNSET:
        columns["config"] = dumps(dict(config))
    if columns:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        conn.execute(
            f"UPDATE inboxes SET {assignments} WHERE id = ?", (*columns.values(), inbox_id)
        )
    found = admin.get_inbox(conn, inbox_id)
    assert found is not None
    return found


def rename_team(conn: sqlite3.Connection, team_id: str, name: str) -> Team:
    row = conn.execute("SELECT * FROM teams WHERE id = ?", (team_id,)).fetchone()
    if row is None:
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    taken = conn.execute(
        "SELECT 1 FROM teams WHERE name = ? AND id != ?", (name, team_id)
    ).fetchone()
    if taken:
        raise Conflict(f"a team named {name!r} already exists", code="team_exists")
    conn.execute("UPDATE teams SET name = ? WHERE id = ?", (name, team_id))
    return rows.team(conn.execute("SELECT * FROM teams WHERE id = ?", (team_id,)).fetchone())


def delete_team(conn: sqlite3.Connection, team_id: str) -> bool:
    if not conn.execute("SELECT 1 FROM teams WHERE id = ?", (team_id,)).fetchone():
        return False
    inboxes = conn.execute(
        "SELECT id, name FROM inboxes WHERE team_id = ? ORDER BY name, id", (team_id,)
    ).fetchall()
    agents = conn.execute(
        "SELECT a.id, a.name FROM agents a JOIN agent_teams t ON t.agent_id = a.id"
        " WHERE t.team_id = ? ORDER BY a.name, a.id",
        (team_id,),
    ).fetchall()
    if inboxes or agents:
        users = [f"inbox {r['name']!r}" for r in inboxes] + [f"agent {r['name']!r}" for r in agents]
        raise Conflict(
            f"the team is still used by {', '.join(users)}; move them to another team first",
            code="team_in_use",
            inboxes=[r["id"] for r in inboxes],
            agents=[r["id"] for r in agents],
        )
    conn.execute("DELETE FROM teams WHERE id = ?", (team_id,))
    return True
