"""Teams, agents (team ids embedded), inboxes and API tokens on MongoDB."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, NotFound
from hub.model import Agent, ApiToken, Inbox, Role, Team, new_id
from hub.store.mongo import documents as docs
from hub.store.mongo.schema import Collections

_BY_NAME = [("name", ASCENDING), ("_id", ASCENDING)]


async def require_team(cols: Collections, team_id: str) -> None:
    """NotFound unless the team exists."""
    if await cols.teams.find_one({"_id": team_id}, {"_id": 1}) is None:
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")


def team_exists(name: str) -> Conflict:
    """The Conflict for a team name that is taken."""
    return Conflict(f"a team named {name!r} already exists", code="team_exists")


async def create_team(cols: Collections, name: str, *, now: datetime) -> Team:
    """A new team; the unique name index decides a duplicate (Conflict)."""
    doc = {"_id": new_id("tem"), "name": name, "created_at": docs.stored(now)}
    try:
        await cols.teams.insert_one(doc)
    except DuplicateKeyError:
        raise team_exists(name) from None
    return docs.team(doc)


async def list_teams(cols: Collections) -> list[Team]:
    """All teams by name."""
    return [docs.team(d) for d in await cols.teams.find().sort(_BY_NAME).to_list()]


async def create_agent(
    cols: Collections,
    *,
    email: str,
    name: str,
    role: Role,
    password_hash: str | None,
    team_ids: Sequence[str],
    now: datetime,
) -> Agent:
    """A new agent with its team ids embedded; Conflict on a taken email."""
    if await cols.agents.find_one({"email": email}, {"_id": 1}) is not None:
        raise Conflict(f"an agent with email {email!r} already exists", code="agent_exists")
    for team_id in team_ids:
        await require_team(cols, team_id)
    doc = {
        "_id": new_id("agt"),
        "email": email,
        "name": name,
        "role": Role(role).value,
        "active": True,
        "password_hash": password_hash,
        "team_ids": sorted(dict.fromkeys(team_ids)),
        "created_at": docs.stored(now),
    }
    try:
        await cols.agents.insert_one(doc)
    except DuplicateKeyError:  # the same email, created concurrently
        raise Conflict(
            f"an agent with email {email!r} already exists", code="agent_exists"
        ) from None
    return docs.agent(doc)


async def get_agent(cols: Collections, agent_id: str) -> Agent | None:
    """One agent."""
    found = await cols.agents.find_one({"_id": agent_id})
    return docs.agent(found) if found else None


async def get_agent_by_email(cols: Collections, email: str) -> Agent | None:
    """The agent with this (normalised) email."""
    found = await cols.agents.find_one({"email": email})
    return docs.agent(found) if found else None


async def list_agents(cols: Collections) -> list[Agent]:
    """All agents by name."""
    return [docs.agent(d) for d in await cols.agents.find().sort(_BY_NAME).to_list()]


async def create_inbox(
    cols: Collections,
    *,
    name: str,
    channel: str,
    team_id: str | None,
    config: Mapping[str, Any],
    now: datetime,
) -> Inbox:
    """A new inbox (NotFound for an unknown team)."""
    if team_id is not None:
        await require_team(cols, team_id)
    doc = {
        "_id": new_id("inb"),
        "name": name,
        "channel": channel,
        "team_id": team_id,
        "config": dict(config),
        "created_at": docs.stored(now),
    }
    await cols.inboxes.insert_one(doc)
    return docs.inbox(doc)


async def get_inbox(cols: Collections, inbox_id: str) -> Inbox | None:
    """One inbox."""
    found = await cols.inboxes.find_one({"_id": inbox_id})
    return docs.inbox(found) if found else None


async def list_inboxes(cols: Collections) -> list[Inbox]:
    """All inboxes by name."""
    return [docs.inbox(d) for d in await cols.inboxes.find().sort(_BY_NAME).to_list()]


async def create_token(
    cols: Collections,
    *,
    agent_id: str,
    name: str,
    token_hash: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> ApiToken:
    """Store a token by its hash (NotFound for an unknown agent)."""
    if await get_agent(cols, agent_id) is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    doc = {
        "_id": new_id("tok"),
        "agent_id": agent_id,
        "name": name,
        "token_hash": token_hash,
        "created_at": docs.stored(now),
        "last_used_at": None,
        "revoked_at": None,
        "expires_at": docs.stored_or_none(expires_at),
    }
    await cols.tokens.insert_one(doc)
    return docs.token(doc)


async def agent_for_token(cols: Collections, token_hash: str) -> tuple[Agent, ApiToken] | None:
    """The agent an unrevoked token belongs to (expiry is the caller's check)."""
    found = await cols.tokens.find_one({"token_hash": token_hash, "revoked_at": None})
    if found is None:
        return None
    agent = await get_agent(cols, found["agent_id"])
    return (agent, docs.token(found)) if agent is not None else None


async def get_token(cols: Collections, token_id: str) -> ApiToken | None:
    """One token by id, revoked or not."""
    found = await cols.tokens.find_one({"_id": token_id})
    return docs.token(found) if found else None


async def list_tokens(cols: Collections, agent_id: str) -> list[ApiToken]:
    """An agent's unrevoked tokens, oldest first."""
    found = (
        await cols.tokens.find({"agent_id": agent_id, "revoked_at": None})
        .sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        .to_list()
    )
    return [docs.token(d) for d in found]


async def revoke_token(cols: Collections, token_id: str, *, now: datetime) -> bool:
    """Revoke a token once; False if unknown or revoked already."""
    done = await cols.tokens.update_one(
        {"_id": token_id, "revoked_at": None}, {"$set": {"revoked_at": docs.stored(now)}}
    )
    return bool(done.modified_count)


async def touch_token(cols: Collections, token_id: str, *, now: datetime) -> None:
    """last_used_at = now, never backwards (processes may record uses out of order)."""
    stamp = docs.stored(now)
    await cols.tokens.update_one(
        {"_id": token_id, "$or": [{"last_used_at": None}, {"last_used_at": {"$lt": stamp}}]},
        {"$set": {"last_used_at": stamp}},
    )
