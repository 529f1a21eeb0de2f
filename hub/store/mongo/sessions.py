"""Browser sessions on MongoDB, keyed by the hash of the cookie token."""

from __future__ import annotations

from datetime import datetime

from hub.errors import NotFound
from hub.model import Agent, Session, new_id
from hub.store.mongo import documents as docs
from hub.store.mongo.admin import get_agent
from hub.store.mongo.schema import Collections


async def create_session(
    cols: Collections,
    *,
    agent_id: str,
    token_hash: str,
    csrf_secret: str,
    now: datetime,
    expires_at: datetime,
) -> Session:
    """Store a session by its token's hash (NotFound for an unknown agent)."""
    if await get_agent(cols, agent_id) is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    doc = {
        "_id": new_id("ses"),
        "token_hash": token_hash,
        "agent_id": agent_id,
        "csrf_secret": csrf_secret,
        "created_at": docs.stored(now),
        "last_seen_at": docs.stored(now),
        "expires_at": docs.stored(expires_at),
    }
    await cols.sessions.insert_one(doc)
    return docs.session(doc)


async def get_session(cols: Collections, token_hash: str) -> tuple[Session, Agent] | None:
    """The session with this token hash and its agent."""
    found = await cols.sessions.find_one({"token_hash": token_hash})
    if found is None:
        return None
    agent = await get_agent(cols, found["agent_id"])
    return (docs.session(found), agent) if agent is not None else None


async def touch_session(cols: Collections, session_id: str, *, now: datetime) -> bool:
    """Record activity; False if the session is gone."""
    done = await cols.sessions.update_one(
        {"_id": session_id}, {"$set": {"last_seen_at": docs.stored(now)}}
    )
    return bool(done.matched_count)


async def delete_session(cols: Collections, token_hash: str) -> bool:
    """End one session; False if there was none."""
    return bool((await cols.sessions.delete_one({"token_hash": token_hash})).deleted_count)


async def delete_agent_sessions(cols: Collections, agent_id: str) -> int:
    """End every session of an agent; how many."""
    return int((await cols.sessions.delete_many({"agent_id": agent_id})).deleted_count)


async def delete_expired_sessions(cols: Collections, *, now: datetime) -> int:
    """Drop sessions whose absolute expiry has passed; how many."""
    done = await cols.sessions.delete_many({"expires_at": {"$lte": docs.stored(now)}})
    return int(done.deleted_count)
