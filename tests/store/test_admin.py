"""Store contract: lifecycle, counts, teams, agents, inboxes and API tokens."""

from __future__ import annotations

import asyncio

import pytest

from hub.errors import Conflict, NotFound
from hub.model import Agent, Role, utcnow
from hub.store import Store

from .conftest import IngestHelper, StoreFactory


async def _agent(store: Store, email: str = "ada@example.com", name: str = "Ada") -> Agent:
    return await store.create_agent(
        email=email, name=name, role=Role.AGENT, password_hash=None, team_ids=(), now=utcnow()
    )


# --- lifecycle and counts ------------------------------------------------------------


async def test_schema_version_is_positive_after_open(store: Store) -> None:
    version = await store.schema_version()
    assert isinstance(version, int)
    assert version >= 1


async def _opened(factory: StoreFactory) -> Store:
    store = factory()
    await store.open()
    return store


async def test_reopening_keeps_the_schema_version(store_factory: StoreFactory) -> None:
    first = await _opened(store_factory)
    version = await first.schema_version()
    await first.close()
    second = await _opened(store_factory)
    try:
        assert await second.schema_version() == version
    finally:
        await second.close()


async def test_data_survives_close_and_reopen(store_factory: StoreFactory) -> None:
    first = await _opened(store_factory)
    team = await first.create_team("Billing", now=utcnow())
    await first.close()
    second = await _opened(store_factory)
    try:
        assert await second.list_teams() == [team]
    finally:
        await second.close()


async def test_close_finishes_writes_already_started(store_factory: StoreFactory) -> None:
    first = await _opened(store_factory)
    pending = asyncio.create_task(first.create_team("Sales", now=utcnow()))
    await asyncio.sleep(0)  # let the write start
    await first.close()
    team = await pending
    second = await _opened(store_factory)
    try:
        assert await second.list_teams() == [team]
    finally:
        await second.close()


async def test_a_closed_store_can_be_opened_again_and_written(
    store_factory: StoreFactory,
) -> None:
    store = await _opened(store_factory)
    await store.close()
    await store.open()
    try:
        team = await store.create_team("Billing", now=utcnow())
        assert await store.list_teams() == [team]
    finally:
        await store.close()


async def test_counts_are_zero_for_an_empty_store(store: Store) -> None:
    counts = await store.counts()
    for entity in ("customers", "identities", "conversations", "messages", "agents", "teams"):
        assert counts[entity] == 0, entity
    assert counts["inboxes"] == 0
    assert counts["outbox"] == 0


async def test_counts_follow_writes(store: Store, ingest: IngestHelper) -> None:
    await store.create_team("Support", now=utcnow())
    await ingest(sender="a@example.com")
    await ingest(sender="a@example.com")
    await ingest(sender="b@example.com")
    counts = await store.counts()
    assert counts["teams"] == 1
    assert counts["inboxes"] == 1
    assert counts["customers"] == 2
    assert counts["identities"] == 2
    assert counts["conversations"] == 2
    assert counts["messages"] == 3


# --- teams ----------------------------------------------------------------------------


async def test_create_team_returns_the_team(store: Store) -> None:
    now = utcnow()
    team = await store.create_team("Support", now=now)
    assert team.name == "Support"
    assert team.created_at == now
    assert team.id


async def test_create_team_with_a_duplicate_name_conflicts(store: Store) -> None:
    await store.create_team("Support", now=utcnow())
    with pytest.raises(Conflict):
        await store.create_team("Support", now=utcnow())
    assert len(await store.list_teams()) == 1


async def test_list_teams_orders_by_name(store: Store) -> None:
    for name in ("Sales", "Billing", "Support"):
        await store.create_team(name, now=utcnow())
    assert [t.name for t in await store.list_teams()] == ["Billing", "Sales", "Support"]


# --- agents ---------------------------------------------------------------------------


async def test_create_agent_round_trips_every_field(store: Store) -> None:
    team = await store.create_team("Support", now=utcnow())
    now = utcnow()
    agent = await store.create_agent(
        email="ada@example.com",
        name="Ada",
        role=Role.ADMIN,
        password_hash="$argon2id$hash",
        team_ids=(team.id,),
        now=now,
    )
    assert (agent.email, agent.name, agent.role) == ("ada@example.com", "Ada", Role.ADMIN)
    assert agent.team_ids == (team.id,)
    assert agent.active is True
    assert agent.created_at == now
    assert agent.password_hash == "$argon2id$hash"
    assert await store.get_agent(agent.id) == agent


async def test_create_agent_with_a_duplicate_email_conflicts(store: Store) -> None:
    await _agent(store, "ada@example.com", "Ada")
    with pytest.raises(Conflict):
        await _agent(store, "ada@example.com", "Other")
    assert len(await store.list_agents()) == 1


async def test_create_agent_with_an_unknown_team_is_not_found_and_stores_nothing(
    store: Store,
) -> None:
    with pytest.raises(NotFound):
        await store.create_agent(
            email="ada@example.com",
            name="Ada",
            role=Role.AGENT,
            password_hash=None,
            team_ids=("tem_missing",),
            now=utcnow(),
        )
    assert await store.get_agent_by_email("ada@example.com") is None


async def test_get_agent_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_agent("agt_missing") is None


async def test_get_agent_by_email_finds_the_agent(store: Store) -> None:
    agent = await _agent(store, "ada@example.com")
    assert await store.get_agent_by_email("ada@example.com") == agent
    assert await store.get_agent_by_email("bob@example.com") is None


async def test_list_agents_orders_by_name(store: Store) -> None:
    for name in ("Zoe", "Ada", "Max"):
        await _agent(store, f"{name.lower()}@example.com", name)
    assert [a.name for a in await store.list_agents()] == ["Ada", "Max", "Zoe"]


# --- inboxes --------------------------------------------------------------------------


async def test_create_inbox_round_trips_every_field(store: Store) -> None:
    team = await store.create_team("Support", now=utcnow())
    now = utcnow()
    config = {"imap": {"host": "mail.example.com", "port": 993}, "folders": ["INBOX"]}
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=team.id, config=config, now=now
    )
    assert (inbox.name, inbox.channel, inbox.team_id) == ("Mail", "email", team.id)
    assert dict(inbox.config) == config
    assert inbox.created_at == now
    assert await store.get_inbox(inbox.id) == inbox


async def test_create_inbox_with_an_unknown_team_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.create_inbox(
            name="Mail", channel="email", team_id="tem_missing", config={}, now=utcnow()
        )
    assert await store.list_inboxes() == []


async def test_get_inbox_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_inbox("inb_missing") is None


async def test_list_inboxes_orders_by_name(store: Store) -> None:
    for name, channel in (("SMS", "sms"), ("Chat", "webchat"), ("Mail", "email")):
        await store.create_inbox(name=name, channel=channel, team_id=None, config={}, now=utcnow())
    assert [i.name for i in await store.list_inboxes()] == ["Chat", "Mail", "SMS"]


# --- API tokens -----------------------------------------------------------------------


async def test_agent_for_token_returns_the_agent_and_token(store: Store) -> None:
    agent_id = (await _agent(store)).id
    now = utcnow()
    token = await store.create_token(agent_id=agent_id, name="cli", token_hash="h1", now=now)
    assert (token.agent_id, token.name, token.created_at) == (agent_id, "cli", now)
    found = await store.agent_for_token("h1")
    assert found is not None
    assert found[0] == await store.get_agent(agent_id)
    assert found[1] == token


async def test_agent_for_an_unknown_token_is_none(store: Store) -> None:
    assert await store.agent_for_token("nope") is None


async def test_create_token_for_an_unknown_agent_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.create_token(agent_id="agt_missing", name="cli", token_hash="h", now=utcnow())


async def test_revoked_token_no_longer_authenticates(store: Store) -> None:
    agent_id = (await _agent(store)).id
    token = await store.create_token(agent_id=agent_id, name="cli", token_hash="h1", now=utcnow())
    assert await store.revoke_token(token.id, now=utcnow()) is True
    assert await store.agent_for_token("h1") is None


async def test_revoking_a_token_twice_returns_false_the_second_time(store: Store) -> None:
    agent_id = (await _agent(store)).id
    token = await store.create_token(agent_id=agent_id, name="cli", token_hash="h1", now=utcnow())
    assert await store.revoke_token(token.id, now=utcnow()) is True
    assert await store.revoke_token(token.id, now=utcnow()) is False


async def test_revoking_an_unknown_token_returns_false(store: Store) -> None:
    assert await store.revoke_token("tok_missing", now=utcnow()) is False


async def test_list_tokens_returns_only_the_agents_live_tokens(store: Store) -> None:
    ada = (await _agent(store, "ada@example.com")).id
    bob = (await _agent(store, "bob@example.com")).id
    kept = await store.create_token(agent_id=ada, name="a", token_hash="h1", now=utcnow())
    revoked = await store.create_token(agent_id=ada, name="b", token_hash="h2", now=utcnow())
    await store.create_token(agent_id=bob, name="c", token_hash="h3", now=utcnow())
    await store.revoke_token(revoked.id, now=utcnow())
    assert await store.list_tokens(ada) == [kept]
