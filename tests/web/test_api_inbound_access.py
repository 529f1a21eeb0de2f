"""Posting inbound speaks as a customer: an agent may not attach messages to another team's
customer (and so gain their file), and an inbox's message ids are its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.keys import STORE_KEY
from tests.conftest import World, build_world, inbound_body

VICTIM = {"kind": "email", "address": "victim@b.test", "name": "Victim"}


async def _team_b_customer(client: TestClient, world: World) -> str:
    body = inbound_body(world.inbox_b.id, "b-1", sender=VICTIM)
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth("b"))
    assert resp.status == 201, await resp.text()
    customer_id: str = (await resp.json())["customer_id"]
    resp = await client.patch(
        f"/api/v1/customers/{customer_id}",
        json={"attributes": {"plan": "gold"}},
        headers=world.auth("b"),
    )
    assert resp.status == 200, await resp.text()
    return customer_id


@pytest.fixture(params=["shared", "team"])
async def mode_client(
    request: pytest.FixtureRequest,
    aiohttp_client: Callable[..., Any],
    make_config: Callable[..., HubConfig],
) -> TestClient:
    config = make_config(HUB_ACCESS_CUSTOMERS=request.param)
    return await aiohttp_client(create_app(config))  # type: ignore[no-any-return]


async def test_an_agent_cannot_attach_a_message_to_another_teams_customer(
    mode_client: TestClient,
) -> None:
    client = mode_client
    world = await build_world(client)
    customer_id = await _team_b_customer(client, world)
    body = inbound_body(world.inbox_a.id, "a-1", sender=VICTIM)
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth("a"))
    assert resp.status == 403, await resp.text()
    assert (await resp.json())["error"]["code"] == "sender_not_yours"
    # nothing was stored, and the customer is no more A's than before
    assert (await client.app[STORE_KEY].counts())["messages"] == 1
    resp = await client.patch(
        f"/api/v1/customers/{customer_id}", json={"name": "Taken"}, headers=world.auth("a")
    )
    assert resp.status in (403, 404)


async def test_the_batch_refuses_another_teams_customer_and_stores_none(
    client: TestClient, world: World
) -> None:
    await _team_b_customer(client, world)
    messages = [
        inbound_body(world.inbox_a.id, "a-ok"),
        inbound_body(world.inbox_a.id, "a-bad", sender=VICTIM),
    ]
    resp = await client.post(
        "/api/v1/inbound/batch", json={"messages": messages}, headers=world.auth("a")
    )
    assert resp.status == 422, await resp.text()
    problems = (await resp.json())["error"]["details"]["problems"]
    assert [(p["index"], p["code"]) for p in problems] == [(1, "sender_not_yours")]
    assert (await client.app[STORE_KEY].counts())["messages"] == 1


async def test_the_owning_team_and_an_admin_still_post_for_the_customer(
    client: TestClient, world: World
) -> None:
    customer_id = await _team_b_customer(client, world)
    for who, provider_id in (("b", "b-2"), ("admin", "adm-1")):
        body = inbound_body(world.inbox_b.id, provider_id, sender=VICTIM)
        resp = await client.post("/api/v1/inbound", json=body, headers=world.auth(who))
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["customer_id"] == customer_id


async def test_a_new_address_is_no_ones_and_an_agent_may_post_it(
    client: TestClient, world: World
) -> None:
    body = inbound_body(world.inbox_a.id, "a-new", sender={"kind": "email", "address": "n@a.test"})
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth("a"))
    assert resp.status == 201, await resp.text()


async def test_the_same_provider_id_in_two_inboxes_is_two_messages(
    client: TestClient, world: World
) -> None:
    first = await client.post(
        "/api/v1/inbound", json=inbound_body(world.inbox_b.id, "order-42"), headers=world.auth("b")
    )
    assert first.status == 201
    body = inbound_body(
        world.inbox_a.id, "order-42", sender={"kind": "email", "address": "x@a.test"}
    )
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth("a"))
    # not a "duplicate" pointing at team B's message: A's message is stored, with A's ids
    assert resp.status == 201, await resp.text()
    ack = await resp.json()
    assert ack["duplicate"] is False
    assert ack["message_id"] != (await first.json())["message_id"]
    assert (await client.app[STORE_KEY].counts())["messages"] == 2
