"""Store contract: editing agents, inboxes and teams, and deleting unused teams."""

from __future__ import annotations

import pytest

from hub.errors import Conflict, NotFound
from hub.model import Agent, Role, Team, utcnow
from hub.store import Store


async def _team(store: Store, name: str = "Support") -> Team:
    return await store.create_team(name, now=utcnow())


async def _agent(store: Store, team_ids: tuple[str, ...] = ()) -> Agent:
    return await store.create_agent(
        email="ada@example.com",
        name="Ada",
        role=Role.AGENT,
        password_hash="old-hash",
        team_ids=team_ids,
        now=utcnow(),
    )


# --- update_agent ---------------------------------------------------------------------


async def test_update_agent_changes_only_the_given_fields(store: Store) -> None:
    agent = await _agent(store)
    updated = await store.update_agent(agent.id, name="Ada L.", role=Role.ADMIN)
    assert (updated.name, updated.role) == ("Ada L.", Role.ADMIN)
    assert (updated.email, updated.active, updated.password_hash) == (
        agent.email,
        True,
        "old-hash",
    )
    assert await store.get_agent(agent.id) == updated


async def test_update_agent_replaces_the_teams(store: Store) -> None:
    support, sales = await _team(store, "Support"), await _team(store, "Sales")
    agent = await _agent(store, (support.id,))
    updated = await store.update_agent(agent.id, team_ids=[sales.id])
    assert updated.team_ids == (sales.id,)
    assert await store.get_agent(agent.id) == updated


async def test_update_agent_with_no_teams_clears_them(store: Store) -> None:
    support = await _team(store)
    agent = await _agent(store, (support.id,))
    assert (await store.update_agent(agent.id, team_ids=[])).team_ids == ()


async def test_update_agent_deactivates_and_sets_the_password_hash(store: Store) -> None:
    agent = await _agent(store)
    updated = await store.update_agent(agent.id, active=False, password_hash="new-hash")
    assert updated.active is False
    assert updated.password_hash == "new-hash"


async def test_update_agent_can_clear_the_password_hash(store: Store) -> None:
    agent = await _agent(store)
    assert (await store.update_agent(agent.id, password_hash=None)).password_hash is None


async def test_update_agent_with_nothing_given_changes_nothing(store: Store) -> None:
    agent = await _agent(store)
    assert await store.update_agent(agent.id) == agent


async def test_update_agent_of_an_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_agent("agt_missing", name="x")


async def test_update_agent_with_an_unknown_team_is_not_found_and_changes_nothing(
    store: Store,
) -> None:
    support = await _team(store)
    agent = await _agent(store, (support.id,))
    with pytest.raises(NotFound):
        await store.update_agent(agent.id, name="Changed", team_ids=["tem_missing"])
    assert await store.get_agent(agent.id) == agent


# --- update_inbox ---------------------------------------------------------------------


async def test_update_inbox_changes_name_team_and_replaces_config(store: Store) -> None:
    team = await _team(store)
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=None, config={"a": 1, "b": 2}, now=utcnow()
    )
    updated = await store.update_inbox(
        inbox.id, name="Support mail", team_id=team.id, config={"c": [3]}
    )
    assert (updated.name, updated.team_id, dict(updated.config)) == (
        "Support mail",
        team.id,
        {"c": [3]},
    )
    assert (updated.channel, updated.created_at) == (inbox.channel, inbox.created_at)
    assert await store.get_inbox(inbox.id) == updated


async def test_update_inbox_can_remove_the_team(store: Store) -> None:
    team = await _team(store)
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=team.id, config={}, now=utcnow()
    )
    assert (await store.update_inbox(inbox.id, team_id=None)).team_id is None


async def test_update_inbox_leaves_unset_fields_alone(store: Store) -> None:
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=None, config={"a": 1}, now=utcnow()
    )
    updated = await store.update_inbox(inbox.id, name="Other")
    assert dict(updated.config) == {"a": 1}


async def test_update_inbox_of_an_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_inbox("inb_missing", name="x")


async def test_update_inbox_with_an_unknown_team_is_not_found(store: Store) -> None:
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=None, config={}, now=utcnow()
    )
    with pytest.raises(NotFound):
        await store.update_inbox(inbox.id, team_id="tem_missing")
    assert await store.get_inbox(inbox.id) == inbox


# --- rename_team ----------------------------------------------------------------------


async def test_rename_team_changes_the_name(store: Store) -> None:
    team = await _team(store, "Support")
    renamed = await store.rename_team(team.id, "Customer care")
    assert (renamed.id, renamed.name, renamed.created_at) == (
        team.id,
        "Customer care",
        team.created_at,
    )
    assert await store.list_teams() == [renamed]


async def test_rename_team_to_its_own_name_is_fine(store: Store) -> None:
    team = await _team(store, "Support")
    assert await store.rename_team(team.id, "Support") == team


async def test_rename_team_to_a_taken_name_conflicts(store: Store) -> None:
    await _team(store, "Support")
    sales = await _team(store, "Sales")
    with pytest.raises(Conflict):
        await store.rename_team(sales.id, "Support")
    assert sorted(t.name for t in await store.list_teams()) == ["Sales", "Support"]


async def test_rename_an_unknown_team_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.rename_team("tem_missing", "x")


# --- delete_team ----------------------------------------------------------------------


async def test_delete_an_unused_team(store: Store) -> None:
    team = await _team(store)
    assert await store.delete_team(team.id) is True
    assert await store.list_teams() == []


async def test_delete_an_unknown_team_returns_false(store: Store) -> None:
    assert await store.delete_team("tem_missing") is False


async def test_delete_a_team_used_by_an_inbox_conflicts_naming_it(store: Store) -> None:
    team = await _team(store)
    inbox = await store.create_inbox(
        name="Mail", channel="email", team_id=team.id, config={}, now=utcnow()
    )
    with pytest.raises(Conflict) as info:
        await store.delete_team(team.id)
    assert info.value.details["inboxes"] == [inbox.id]
    assert info.value.details["agents"] == []
    assert "Mail" in info.value.message
    assert await store.list_teams() == [team]


async def test_delete_a_team_used_by_an_agent_conflicts_naming_them(store: Store) -> None:
    team = await _team(store)
    agent = await _agent(store, (team.id,))
    with pytest.raises(Conflict) as info:
        await store.delete_team(team.id)
    assert info.value.details["agents"] == [agent.id]
    assert "Ada" in info.value.message
    assert await store.list_teams() == [team]


async def test_a_team_can_be_deleted_once_nothing_uses_it(store: Store) -> None:
    team = await _team(store)
    agent = await _agent(store, (team.id,))
    await store.update_agent(agent.id, team_ids=[])
    assert await store.delete_team(team.id) is True
