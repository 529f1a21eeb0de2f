"""Store contract: browser sessions stored by token hash, ended one by one or all at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.errors import NotFound
from hub.model import Agent, Role, Session, utcnow
from hub.store import Store

DAY = timedelta(days=1)


async def _session(store: Store, agent: Agent, token_hash: str = "h1") -> Session:
    now = utcnow()
    return await store.create_session(
        agent_id=agent.id, token_hash=token_hash, csrf_secret="csrf", now=now, expires_at=now + DAY
    )


async def test_create_session_round_trips_every_field(store: Store, agent: Agent) -> None:
    now = utcnow()
    session = await store.create_session(
        agent_id=agent.id, token_hash="h1", csrf_secret="csrf-1", now=now, expires_at=now + DAY
    )
    assert session.id
    assert (session.agent_id, session.csrf_secret) == (agent.id, "csrf-1")
    assert (session.created_at, session.last_seen_at, session.expires_at) == (now, now, now + DAY)
    assert await store.get_session("h1") == (session, agent)


async def test_get_session_of_an_unknown_hash_is_none(store: Store) -> None:
    assert await store.get_session("nope") is None


async def test_get_session_returns_the_agent_as_it_is_now(store: Store, agent: Agent) -> None:
    await _session(store, agent)
    await store.update_agent(agent.id, active=False)
    found = await store.get_session("h1")
    assert found is not None
    assert found[1].active is False


async def test_create_session_for_an_unknown_agent_is_not_found(store: Store) -> None:
    now = utcnow()
    with pytest.raises(NotFound):
        await store.create_session(
            agent_id="agt_missing", token_hash="h", csrf_secret="c", now=now, expires_at=now
        )


async def test_touch_session_moves_last_seen(store: Store, agent: Agent) -> None:
    session = await _session(store, agent)
    later = session.created_at + timedelta(minutes=5)
    assert await store.touch_session(session.id, now=later) is True
    found = await store.get_session("h1")
    assert found is not None
    assert found[0].last_seen_at == later
    assert found[0].expires_at == session.expires_at


async def test_touch_an_unknown_session_returns_false(store: Store) -> None:
    assert await store.touch_session("ses_missing", now=utcnow()) is False


async def test_delete_session_ends_only_that_session(store: Store, agent: Agent) -> None:
    await _session(store, agent, "h1")
    other = await _session(store, agent, "h2")
    assert await store.delete_session("h1") is True
    assert await store.get_session("h1") is None
    assert await store.get_session("h2") == (other, agent)


async def test_delete_an_unknown_session_returns_false(store: Store) -> None:
    assert await store.delete_session("nope") is False


async def test_delete_agent_sessions_ends_all_of_that_agents_sessions(
    store: Store, agent: Agent
) -> None:
    bob = await store.create_agent(
        email="bob@example.com",
        name="Bob",
        role=Role.AGENT,
        password_hash=None,
        team_ids=(),
        now=utcnow(),
    )
    await _session(store, agent, "h1")
    await _session(store, agent, "h2")
    kept = await _session(store, bob, "h3")
    assert await store.delete_agent_sessions(agent.id) == 2
    assert await store.get_session("h1") is None
    assert await store.get_session("h2") is None
    assert await store.get_session("h3") == (kept, bob)


async def test_delete_expired_sessions_keeps_live_ones(store: Store, agent: Agent) -> None:
    now = utcnow()
    await store.create_session(
        agent_id=agent.id, token_hash="old", csrf_secret="c", now=now - DAY, expires_at=now
    )
    live = await store.create_session(
        agent_id=agent.id, token_hash="new", csrf_secret="c", now=now, expires_at=now + DAY
    )
    assert await store.delete_expired_sessions(now=now) == 1
    assert await store.get_session("old") is None
    assert await store.get_session("new") == (live, agent)
