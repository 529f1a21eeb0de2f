"""Shared fixtures: a hub app on a temp SQLite store, and a small seeded world."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from hub.actions import ActionContext, do_create_inbox
from hub.app import create_app
from hub.config import HubConfig, load_config
from hub.events import EventBus
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import Agent, Inbox, Role, utcnow
from hub.store import create_store
from hub.web.middleware import hash_token, new_token


def peers_required() -> bool:
    """Under CI (HUB_REQUIRE_PEERS=1) a missing peer fails a test instead of skipping it."""
    return os.environ.get("HUB_REQUIRE_PEERS") == "1"


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., HubConfig]:
    def make(**env: str) -> HubConfig:
        base = {"HUB_STORE_URL": f"sqlite:///{tmp_path}/hub.db", "HUB_OUTBOX_POLL_SECONDS": "0.05"}
        return load_config(files=[], env={**base, **env})

    return make


@pytest.fixture
def config(make_config: Callable[..., HubConfig]) -> HubConfig:
    return make_config()


@pytest.fixture
async def ctx(config: HubConfig) -> AsyncIterator[ActionContext]:
    """The actions on a fresh SQLite store, without the web app (no assigner, no channels)."""
    store = create_store(config.store.url)
    await store.open()
    yield ActionContext(store=store, bus=EventBus(), config=config)
    await store.close()


@pytest.fixture
async def client(aiohttp_client: Callable[..., object], config: HubConfig) -> TestClient:
    return await aiohttp_client(create_app(config))  # type: ignore[misc, no-any-return]


@dataclass
class World:
    """Two teams, an admin, one agent per team, and inboxes: api (no team), A and B."""

    admin: Agent
    agent_a: Agent
    agent_b: Agent
    api_inbox: Inbox
    inbox_a: Inbox
    inbox_b: Inbox
    tokens: dict[str, str]

    def auth(self, who: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
async def world(client: TestClient) -> World:
    return await build_world(client)


async def build_world(
    client: TestClient, *, api_inbox_config: dict[str, str] | None = None
) -> World:
    """Seed the world through the app's store; `api_inbox_config` e.g. sets a webhook_url."""
    store = client.app[STORE_KEY]
    now = utcnow()
    team_a = await store.create_team("Team A", now=now)
    team_b = await store.create_team("Team B", now=now)
    people = {}
    for key, role, teams in (
        ("admin", Role.ADMIN, [team_a.id, team_b.id]),
        ("a", Role.AGENT, [team_a.id]),
        ("b", Role.AGENT, [team_b.id]),
    ):
        people[key] = await store.create_agent(
            email=f"{key}@hub.test",
            name=f"Agent {key}",
            role=role,
            password_hash=None,
            team_ids=teams,
            now=now,
        )
    tokens = {}
    for key, agent in people.items():
        tokens[key] = new_token()
        await store.create_token(
            agent_id=agent.id, name="t", token_hash=hash_token(tokens[key]), now=now
        )
    # through the action: a webhook_secret in api_inbox_config is sealed as in production
    api_inbox = await do_create_inbox(
        client.app[ACTIONS_KEY],
        name="API",
        channel="api",
        team_id=None,
        config=api_inbox_config or {},
    )
    inbox_a = await store.create_inbox(
        name="A", channel="api", team_id=team_a.id, config={}, now=now
    )
    inbox_b = await store.create_inbox(
        name="B", channel="api", team_id=team_b.id, config={}, now=now
    )
    return World(
        admin=people["admin"],
        agent_a=people["a"],
        agent_b=people["b"],
        api_inbox=api_inbox,
        inbox_a=inbox_a,
        inbox_b=inbox_b,
        tokens=tokens,
    )


WEBHOOK_SECRET = "whsec-test-0123456789abcdef"  # an API inbox's webhook_secret in tests


def inbound_body(inbox_id: str, provider_id: str, **extra: object) -> dict[str, object]:
    """A valid /api/v1/inbound body."""
    body: dict[str, object] = {
        "inbox_id": inbox_id,
        "provider_id": provider_id,
        "sender": {"kind": "email", "address": "Customer@Example.com", "name": "Cus Tomer"},
        "text": f"message {provider_id}",
    }
    body.update(extra)
    return body
