"""Admin and canned-response actions: validation, their events, and session ends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.actions import (
    ActionContext,
    do_create_agent,
    do_create_canned_response,
    do_create_inbox,
    do_create_team,
    do_delete_canned_response,
    do_delete_team,
    do_rename_team,
    do_set_password,
    do_update_agent,
    do_update_inbox,
)
from hub.actions.canned import fill_placeholders
from hub.errors import Conflict, InvalidInput, NotFound
from hub.events import EventType
from hub.model import Agent, Role, utcnow
from hub.passwords import verify_password


async def _agent(ctx: ActionContext, email: str, role: Role = Role.AGENT) -> Agent:
    return await do_create_agent(
        ctx, email=email, name=email.split("@")[0], role=role, team_ids=(), password=None
    )


async def _session(ctx: ActionContext, agent: Agent, token_hash: str) -> None:
    now = utcnow()
    await ctx.store.create_session(
        agent_id=agent.id,
        token_hash=token_hash,
        csrf_secret="c",
        now=now,
        expires_at=now + timedelta(days=1),
    )


async def test_create_agent_normalises_the_email_hashes_and_publishes(
    ctx: ActionContext,
) -> None:
    sub = ctx.bus.subscribe()
    agent = await do_create_agent(
        ctx,
        email=" Ada@Example.COM ",
        name="  Ada   Lovelace ",
        role=Role.AGENT,
        team_ids=(),
        password="a long password",
    )
    assert (agent.email, agent.name) == ("ada@example.com", "Ada Lovelace")
    assert agent.password_hash and verify_password(agent.password_hash, "a long password")
    event = await sub.get()
    assert (event.type, event.data["agent"]) == (EventType.AGENT_CREATED, agent)


@pytest.mark.parametrize(
    ("email", "name", "password", "field"),
    [
        ("not-an-email", "Ada", None, "email"),
        ("ada@example.com", "   ", None, "name"),
        ("ada@example.com", "Ada", "short", "password"),
    ],
)
async def test_create_agent_rejects_bad_input_naming_the_field(
    ctx: ActionContext, email: str, name: str, password: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        await do_create_agent(
            ctx, email=email, name=name, role=Role.AGENT, team_ids=(), password=password
        )
    assert info.value.details["field"] == field
    assert await ctx.store.list_agents() == []


async def test_deactivating_an_agent_ends_their_sessions(ctx: ActionContext) -> None:
    await _agent(ctx, "root@example.com", Role.ADMIN)
    agent = await _agent(ctx, "ada@example.com")
    await _session(ctx, agent, "h1")
    sub = ctx.bus.subscribe()
    updated = await do_update_agent(ctx, agent.id, active=False)
    assert updated.active is False
    assert await ctx.store.get_session("h1") is None
    event = await sub.get()
    assert (event.type, event.data["agent"]) == (EventType.AGENT_UPDATED, updated)


async def test_other_edits_keep_the_sessions(ctx: ActionContext) -> None:
    agent = await _agent(ctx, "ada@example.com")
    await _session(ctx, agent, "h1")
    await do_update_agent(ctx, agent.id, name="Ada L.")
    assert await ctx.store.get_session("h1") is not None


async def test_setting_a_password_ends_the_sessions(ctx: ActionContext) -> None:
    agent = await _agent(ctx, "ada@example.com")
    await _session(ctx, agent, "h1")
    updated = await do_set_password(ctx, agent.id, "brand new password")
    assert updated.password_hash and verify_password(updated.password_hash, "brand new password")
    assert await ctx.store.get_session("h1") is None


@pytest.mark.parametrize("change", [{"active": False}, {"role": Role.AGENT}])
async def test_the_last_active_admin_stays(ctx: ActionContext, change: dict[str, object]) -> None:
    admin = await _agent(ctx, "root@example.com", Role.ADMIN)
    with pytest.raises(Conflict) as info:
        await do_update_agent(ctx, admin.id, **change)  # type: ignore[arg-type]
    assert info.value.code == "last_admin"
    assert await ctx.store.get_agent(admin.id) == admin


async def test_an_admin_may_step_down_while_another_remains(ctx: ActionContext) -> None:
    admin = await _agent(ctx, "root@example.com", Role.ADMIN)
    await _agent(ctx, "other@example.com", Role.ADMIN)
    assert (await do_update_agent(ctx, admin.id, role=Role.AGENT)).role == Role.AGENT


async def test_update_of_an_unknown_agent_is_not_found(ctx: ActionContext) -> None:
    with pytest.raises(NotFound):
        await do_update_agent(ctx, "agt_missing", name="x")


async def test_team_actions_publish_their_events(ctx: ActionContext) -> None:
    sub = ctx.bus.subscribe()
    team = await do_create_team(ctx, "Support")
    renamed = await do_rename_team(ctx, team.id, "Care")
    await do_delete_team(ctx, team.id)
    events = [await sub.get() for _ in range(3)]
    assert [e.type for e in events] == [
        EventType.TEAM_CREATED,
        EventType.TEAM_UPDATED,
        EventType.TEAM_DELETED,
    ]
    assert events[1].data["team"] == renamed
    assert events[2].data["team_id"] == team.id


async def test_deleting_an_unknown_team_is_not_found(ctx: ActionContext) -> None:
    with pytest.raises(NotFound):
        await do_delete_team(ctx, "tem_missing")


async def test_inbox_actions_publish_their_events(ctx: ActionContext) -> None:
    sub = ctx.bus.subscribe()
    inbox = await do_create_inbox(ctx, name="Shop", channel="api", team_id="", config={})
    assert inbox.team_id is None  # "" from a form means no team
    updated = await do_update_inbox(ctx, inbox.id, config={"a": 1})
    assert [(await sub.get()).type, (await sub.get()).type] == [
        EventType.INBOX_CREATED,
        EventType.INBOX_UPDATED,
    ]
    assert dict(updated.config) == {"a": 1}


async def test_canned_response_actions_clean_input_and_publish(ctx: ActionContext) -> None:
    sub = ctx.bus.subscribe()
    canned = await do_create_canned_response(
        ctx, shortcut=" /Thanks ", title=" Closing ", body="Bye {{customer.name}}\r\n"
    )
    assert (canned.shortcut, canned.title, canned.body) == (
        "thanks",
        "Closing",
        "Bye {{customer.name}}",
    )
    await do_delete_canned_response(ctx, canned.id)
    assert [(await sub.get()).type, (await sub.get()).type] == [
        EventType.CANNED_RESPONSE_CREATED,
        EventType.CANNED_RESPONSE_DELETED,
    ]


@pytest.mark.parametrize(
    ("shortcut", "body", "field"),
    [
        ("has space", "x", "shortcut"),
        ("ok", "Hi {{ customer.email }}", "body"),
        ("ok", " ", "body"),
    ],
)
async def test_canned_response_bad_input_names_the_field(
    ctx: ActionContext, shortcut: str, body: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        await do_create_canned_response(ctx, shortcut=shortcut, title="T", body=body)
    assert info.value.details["field"] == field


def test_fill_placeholders_substitutes_text_only() -> None:
    body = "Hi {{ customer.first_name }}, {{agent.name}} here. {{ other }} {% if x %}"
    values = {"customer.first_name": "Ada", "agent.name": "{{ agent.name }}"}
    assert fill_placeholders(body, values) == (
        "Hi Ada, {{ agent.name }} here. {{ other }} {% if x %}"
    )


def test_fill_placeholders_leaves_missing_values_empty() -> None:
    assert fill_placeholders("Hi {{ customer.name }}!", {}) == "Hi !"


async def test_agent_team_and_inbox_names_with_escapes_or_bidi_overrides_are_refused(
    ctx: ActionContext,
) -> None:
    with pytest.raises(InvalidInput) as info:
        await do_create_agent(
            ctx, email="e@x.org", name="Eve\x1b[31m", role=Role.AGENT, team_ids=(), password=None
        )
    assert info.value.details == {"field": "name"}
    with pytest.raises(InvalidInput):
        await do_create_team(ctx, "Sales\u202e")
    team = await do_create_team(ctx, "Sales")
    with pytest.raises(InvalidInput):
        await do_rename_team(ctx, team.id, "Sa\x00les")
    with pytest.raises(InvalidInput) as info:
        await do_create_inbox(ctx, name="Shop\u2066", channel="api", team_id=None, config={})
    assert info.value.details == {"field": "name"}
