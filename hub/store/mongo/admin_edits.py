"""Edits of agents, teams and inboxes on MongoDB (creation lives in admin.py)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from hub.errors import Conflict, NotFound
from hub.model import Agent, Inbox, Role, Team
from hub.store.base import UNSET
from hub.store.mongo import documents as docs
from hub.store.mongo.admin import require_team, team_exists
from hub.store.mongo.documents import Doc
from hub.store.mongo.schema import Collections


async def update_agent(
    cols: Collections,
    agent_id: str,
    *,
    name: Any,
    role: Any,
    team_ids: Any,
    active: Any,
    password_hash: Any,
) -> Agent:
    """Change an agent's given fields (NotFound for the agent or a team)."""
    sets: Doc = {}
    if name is not UNSET:
        sets["name"] = name
    if role is not UNSET:
        sets["role"] = Role(role).value
    if active is not UNSET:
        sets["active"] = bool(active)
    if password_hash is not UNSET:
        sets["password_hash"] = password_hash
    if team_ids is not UNSET:
        if await cols.agents.find_one({"_id": agent_id}, {"_id": 1}) is None:
            raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
        for team_id in team_ids:
            await require_team(cols, team_id)
        sets["team_ids"] = sorted(dict.fromkeys(team_ids))
    if sets:
        found = await cols.agents.find_one_and_update(
            {"_id": agent_id}, {"$set": sets}, return_document=ReturnDocument.AFTER
        )
    else:
        found = await cols.agents.find_one({"_id": agent_id})
    if found is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    return docs.agent(found)


async def update_inbox(
    cols: Collections, inbox_id: str, *, name: Any, team_id: Any, config: Any
) -> Inbox:
    """Change an inbox's given fields (NotFound for the inbox or the team)."""
    if await cols.inboxes.find_one({"_id": inbox_id}, {"_id": 1}) is None:
        raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
    sets: Doc = {}
    if name is not UNSET:
        sets["name"] = name
    if team_id is not UNSET:
        if team_id is not None:
            await require_team(cols, team_id)
        sets["team_id"] = team_id
    if config is not UNSET:
        sets["config"] = dict(config)
    if sets:
        await cols.inboxes.update_one({"_id": inbox_id}, {"$set": sets})
    found = await cols.inboxes.find_one({"_id": inbox_id})
    if found is None:
        raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
    return docs.inbox(found)


async def rename_team(cols: Collections, team_id: str, name: str) -> Team:
    """Rename a team; the unique name index decides a taken name (Conflict)."""
    try:
        found = await cols.teams.find_one_and_update(
            {"_id": team_id}, {"$set": {"name": name}}, return_document=ReturnDocument.AFTER
        )
    except DuplicateKeyError:  # the unique name index: another team has it
        raise team_exists(name) from None
    if found is None:
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    return docs.team(found)


async def delete_team(cols: Collections, team_id: str) -> bool:
    """Delete an unused team; Conflict naming the inboxes and agents still in it."""
    if await cols.teams.find_one({"_id": team_id}, {"_id": 1}) is None:
        return False
    by_name = [("name", ASCENDING), ("_id", ASCENDING)]
    inboxes = await cols.inboxes.find({"team_id": team_id}, {"name": 1}).sort(by_name).to_list()
    agents = await cols.agents.find({"team_ids": team_id}, {"name": 1}).sort(by_name).to_list()
    if inboxes or agents:
        users = [f"inbox {d['name']!r}" for d in inboxes] + [f"agent {d['name']!r}" for d in agents]
        raise Conflict(
            f"the team is still used by {', '.join(users)}; move them to another team first",
            code="team_in_use",
            inboxes=[d["_id"] for d in inboxes],
            agents=[d["_id"] for d in agents],
        )
    done = await cols.teams.delete_one({"_id": team_id})
    return bool(done.deleted_count)
