"""Admin actions: agents, teams and inboxes are created and edited only through these.

Each validates its input (InvalidInput names the `field`), writes through the store, then
publishes the matching EventType. Callers in the web layer also call `Lookups.forget()`
afterwards, so a deactivation or a team change shows at once in this process.

    agent = await do_create_agent(ctx, email="a@x.org", name="Ada", role=Role.AGENT,
                                  team_ids=[team.id], password="long enough secret")
    await do_update_agent(ctx, agent.id, active=False)   # also ends their sessions
"""

from __future__ import annotations

import asyncio
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from hub.actions.context import ActionContext
from hub.errors import Conflict, InvalidAddress, InvalidInput, NotFound
from hub.events import EventType
from hub.identity import normalise_email
from hub.inbox_settings import InboxSettings, installed_inbox_settings
from hub.model import Agent, Inbox, Role, Team
from hub.passwords import hash_password
from hub.secret_key import load_secret_key
from hub.store.base import UNSET

MAX_NAME_LENGTH = 200
MAX_CONFIG_BYTES = 64 * 1024
# zero-width (non-)joiners are format characters that Persian, Indic scripts and emoji need;
# they move no text and drive no terminal, unlike the bidi overrides and C0/C1 controls
_JOINERS = frozenset("\u200c\u200d")


def clean_name(value: str, *, field: str = "name", what: str = "name") -> str:
    """A trimmed, non-empty name of at most MAX_NAME_LENGTH characters, with no control or
    format characters (terminal escapes, NUL, bidi overrides): names reach the operator's
    terminal through `hub token list` and `hub user list`."""
    name = " ".join(value.split())
    if not name:
        raise InvalidInput(f"the {what} must not be empty", field=field)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"the {what} is longer than {MAX_NAME_LENGTH} characters", field=field)
    bad = next(
        (c for c in name if unicodedata.category(c) in ("Cc", "Cf") and c not in _JOINERS), None
    )
    if bad is not None:
        raise InvalidInput(
            f"the {what} contains the control or format character U+{ord(bad):04X}",
            field=field,
        )
    return name


def clean_email(value: str) -> str:
    """The normalised email of an agent; InvalidInput on `email` if it is not one."""
    try:
        return normalise_email(value)
    except InvalidAddress as exc:
        raise InvalidInput(f"not a valid email address: {exc.reason}", field="email") from exc


async def _hash(password: str) -> str:
    # argon2id takes ~0.1 s of CPU: off the event loop
    return await asyncio.to_thread(hash_password, password)


async def require_agent(ctx: ActionContext, agent_id: str) -> Agent:
    """The agent, or NotFound with its id."""
    agent = await ctx.store.get_agent(agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id!r} does not exist", code="agent_not_found")
    return agent


def _agents_changed(ctx: ActionContext) -> None:
    if ctx.assigner is not None:
        ctx.assigner.agents_changed()


async def do_create_agent(
    ctx: ActionContext,
    *,
    email: str,
    name: str,
    role: Role,
    team_ids: Sequence[str],
    password: str | None,
) -> Agent:
    """Create an agent (password None: they cannot sign in until one is set)."""
    email, name = clean_email(email), clean_name(name)
    password_hash = await _hash(password) if password is not None else None
    agent = await ctx.store.create_agent(
        email=email,
        name=name,
        role=Role(role),
        password_hash=password_hash,
        team_ids=list(dict.fromkeys(team_ids)),
        now=ctx.clock(),
    )
    _agents_changed(ctx)
    ctx.bus.publish(EventType.AGENT_CREATED, {"agent": agent})
    return agent


async def _keep_an_admin(ctx: ActionContext, agent: Agent, role: Role, active: bool) -> None:
    """Conflict if the change would leave the hub without an active admin."""
    was_admin = agent.active and agent.role == Role.ADMIN
    stays_admin = active and role == Role.ADMIN
    if not was_admin or stays_admin:
        return
    others = [
        a
        for a in await ctx.store.list_agents()
        if a.id != agent.id and a.active and a.role == Role.ADMIN
    ]
    if not others:
        raise Conflict(
            "this is the last active admin: make another agent admin first", code="last_admin"
        )


async def do_update_agent(
    ctx: ActionContext,
    agent_id: str,
    *,
    name: str = UNSET,
    role: Role = UNSET,
    team_ids: Sequence[str] = UNSET,
    active: bool = UNSET,
) -> Agent:
    """Edit an agent; deactivating one ends all their sessions at once."""
    agent = await require_agent(ctx, agent_id)
    if name is not UNSET:
        name = clean_name(name)
    new_role = agent.role if role is UNSET else Role(role)
    await _keep_an_admin(ctx, agent, new_role, agent.active if active is UNSET else active)
    updated = await ctx.store.update_agent(
        agent_id,
        name=name,
        role=role if role is UNSET else new_role,
        team_ids=team_ids if team_ids is UNSET else list(dict.fromkeys(team_ids)),
        active=active,
    )
    if not updated.active:
        await ctx.store.delete_agent_sessions(agent_id)
    _agents_changed(ctx)
    ctx.bus.publish(EventType.AGENT_UPDATED, {"agent": updated})
    return updated


async def do_set_password(ctx: ActionContext, agent_id: str, password: str) -> Agent:
    """Set a new password; every session of the agent ends (they sign in again)."""
    await require_agent(ctx, agent_id)
    updated = await ctx.store.update_agent(agent_id, password_hash=await _hash(password))
    await ctx.store.delete_agent_sessions(agent_id)
    ctx.bus.publish(EventType.AGENT_UPDATED, {"agent": updated})
    return updated


async def do_create_team(ctx: ActionContext, name: str) -> Team:
    """Create a team; Conflict on a taken name."""
    team = await ctx.store.create_team(clean_name(name), now=ctx.clock())
    ctx.bus.publish(EventType.TEAM_CREATED, {"team": team})
    return team


async def do_rename_team(ctx: ActionContext, team_id: str, name: str) -> Team:
    """Rename a team; Conflict on a taken name."""
    team = await ctx.store.rename_team(team_id, clean_name(name))
    ctx.bus.publish(EventType.TEAM_UPDATED, {"team": team})
    return team


async def do_delete_team(ctx: ActionContext, team_id: str) -> None:
    """Delete an unused team; Conflict naming the inboxes and agents that still use it."""
    if not await ctx.store.delete_team(team_id):
        raise NotFound(f"team {team_id!r} does not exist", code="team_not_found")
    ctx.bus.publish(EventType.TEAM_DELETED, {"team_id": team_id})


def _check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise InvalidInput("the inbox config must be a JSON object", field="config")
    return dict(config)


def inbox_settings(ctx: ActionContext) -> InboxSettings:
    """The hub's secret-settings policy (the app sets it; else built once from the hub secret)."""
    if ctx.inbox_settings is None:
        ctx.inbox_settings = installed_inbox_settings(load_secret_key(ctx.config))
    return ctx.inbox_settings


async def do_create_inbox(
    ctx: ActionContext,
    *,
    name: str,
    channel: str,
    team_id: str | None,
    config: Mapping[str, Any],
) -> Inbox:
    """Create an inbox (the caller checks that the channel is installed); secrets are sealed.

    A secret is sealed with the inbox's id as associated data, so it is written by a second
    update once the id exists; the event goes out after both.
    """
    if not channel:
        raise InvalidInput("choose a channel", field="channel")
    settings = inbox_settings(ctx)
    edit = settings.split(channel, _check_config(config))
    settings.check(channel, edit, None)
    inbox = await ctx.store.create_inbox(
        name=clean_name(name),
        channel=channel,
        team_id=team_id or None,
        config=edit.plain,
        now=ctx.clock(),
    )
    if edit.secrets:
        stored = settings.stored_config(edit, inbox_id=inbox.id, channel=channel, current={})
        inbox = await ctx.store.update_inbox(inbox.id, config=stored)
    ctx.bus.publish(EventType.INBOX_CREATED, {"inbox": inbox})
    return inbox


async def do_update_inbox(
    ctx: ActionContext,
    inbox_id: str,
    *,
    name: str = UNSET,
    team_id: str | None = UNSET,
    config: Mapping[str, Any] = UNSET,
) -> Inbox:
    """Edit an inbox's name, team (None: no team) or config (replaced whole, except that a
    secret setting left out keeps its value; see hub/inbox_settings.py)."""
    stored: Mapping[str, Any] = UNSET
    if config is not UNSET:
        current = await ctx.store.get_inbox(inbox_id)
        if current is None:
            raise NotFound(f"inbox {inbox_id!r} does not exist", code="inbox_not_found")
        settings = inbox_settings(ctx)
        edit = settings.split(current.channel, _check_config(config))
        settings.check(current.channel, edit, current)
        stored = settings.stored_config(
            edit, inbox_id=inbox_id, channel=current.channel, current=current.config
        )
    inbox = await ctx.store.update_inbox(
        inbox_id,
        name=name if name is UNSET else clean_name(name),
        team_id=team_id if team_id is UNSET else (team_id or None),
        config=stored,
    )
    ctx.bus.publish(EventType.INBOX_UPDATED, {"inbox": inbox})
    return inbox
