"""Store contract for API-token management: expiry, lookup by id, listing and use times."""

from __future__ import annotations

from datetime import timedelta

from hub.model import Agent, Role, utcnow
from hub.store import Store


async def _agent(store: Store, email: str = "ada@example.com") -> Agent:
    return await store.create_agent(
        email=email, name="Ada", role=Role.AGENT, password_hash=None, team_ids=(), now=utcnow()
    )


async def test_a_token_keeps_its_expiry(store: Store) -> None:
    agent = await _agent(store)
    now = utcnow()
    expires = now + timedelta(days=30)
    token = await store.create_token(
        agent_id=agent.id, name="ci", token_hash="h1", now=now, expires_at=expires
    )
    assert token.expires_at == expires
    assert await store.get_token(token.id) == token
    found = await store.agent_for_token("h1")
    assert found is not None and found[1].expires_at == expires


async def test_a_token_without_expiry_never_expires(store: Store) -> None:
    agent = await _agent(store)
    token = await store.create_token(agent_id=agent.id, name="ci", token_hash="h1", now=utcnow())
    assert token.expires_at is None


async def test_get_token_returns_a_revoked_token_with_its_revocation_time(store: Store) -> None:
    agent = await _agent(store)
    token = await store.create_token(agent_id=agent.id, name="ci", token_hash="h1", now=utcnow())
    when = utcnow()
    await store.revoke_token(token.id, now=when)
    found = await store.get_token(token.id)
    assert found is not None and found.revoked_at == when


async def test_get_an_unknown_token_is_none(store: Store) -> None:
    assert await store.get_token("tok_missing") is None


async def test_list_tokens_includes_expired_but_unrevoked_tokens(store: Store) -> None:
    agent = await _agent(store)
    now = utcnow()
    old = await store.create_token(
        agent_id=agent.id, name="old", token_hash="h1", now=now, expires_at=now - timedelta(days=1)
    )
    assert await store.list_tokens(agent.id) == [old]


async def test_touch_token_sets_last_used_at(store: Store) -> None:
    agent = await _agent(store)
    now = utcnow()
    token = await store.create_token(agent_id=agent.id, name="ci", token_hash="h1", now=now)
    used = now + timedelta(minutes=5)
    await store.touch_token(token.id, now=used)
    found = await store.get_token(token.id)
    assert found is not None and found.last_used_at == used


async def test_touch_token_never_moves_last_used_at_backwards(store: Store) -> None:
    agent = await _agent(store)
    now = utcnow()
    token = await store.create_token(agent_id=agent.id, name="ci", token_hash="h1", now=now)
    later = now + timedelta(minutes=5)
    await store.touch_token(token.id, now=later)
    await store.touch_token(token.id, now=now + timedelta(minutes=1))
    found = await store.get_token(token.id)
    assert found is not None and found.last_used_at == later
