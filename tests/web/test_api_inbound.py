"""The generic API channel: durable, idempotent inbound; bad input rejected with no writes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.keys import STORE_KEY
from tests.conftest import World, build_world, inbound_body


async def _counts(client: TestClient) -> dict[str, int]:
    return await client.app[STORE_KEY].counts()


async def test_inbound_is_stored_and_acked_with_ids(client: TestClient, world: World) -> None:
    resp = await client.post(
        "/api/v1/inbound", json=inbound_body(world.api_inbox.id, "p1"), headers=world.auth()
    )
    assert resp.status == 201
    ack = await resp.json()
    assert ack["duplicate"] is False
    msgs = await client.get(
        f"/api/v1/conversations/{ack['conversation_id']}/messages", headers=world.auth()
    )
    items = (await msgs.json())["items"]
    assert [m["id"] for m in items] == [ack["message_id"]]
    assert items[0]["sender"] == "customer@example.com"


async def test_reposting_the_same_provider_id_is_a_duplicate(
    client: TestClient, world: World
) -> None:
    body = inbound_body(world.api_inbox.id, "same")
    first = await (await client.post("/api/v1/inbound", json=body, headers=world.auth())).json()
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth())
    assert resp.status == 200
    second = await resp.json()
    assert second["duplicate"] is True
    assert second["message_id"] == first["message_id"]
    assert (await _counts(client))["messages"] == 1


async def test_fifty_concurrent_duplicate_posts_store_one_message(
    client: TestClient, world: World
) -> None:
    body = inbound_body(world.api_inbox.id, "burst")
    responses = await asyncio.gather(
        *(client.post("/api/v1/inbound", json=body, headers=world.auth()) for _ in range(50))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * 49 + [201]
    assert len({(await r.json())["message_id"] for r in responses}) == 1
    assert (await _counts(client))["messages"] == 1


BAD_BODIES = {
    "malformed_json": (b"{not json", "application/json", 422, "malformed_json"),
    "wrong_type": (
        b'{"inbox_id": 5, "provider_id": "x", "sender": {"kind": "email",'
        b' "address": "a@b.test"}, "text": "hi"}',
        "application/json",
        422,
        "validation_failed",
    ),
    "unknown_field": (
        b'{"inbox_id": "INBOX", "provider_id": "x", "sender": {"kind": "email",'
        b' "address": "a@b.test"}, "text": "hi", "colour": "red"}',
        "application/json",
        422,
        "validation_failed",
    ),
    "invalid_address": (
        b'{"inbox_id": "INBOX", "provider_id": "x", "sender": {"kind": "email",'
        b' "address": "not-an-address"}, "text": "hi"}',
        "application/json",
        422,
        "invalid_address",
    ),
    "unknown_kind": (
        b'{"inbox_id": "INBOX", "provider_id": "x", "sender": {"kind": "fax",'
        b' "address": "123"}, "text": "hi"}',
        "application/json",
        422,
        "validation_failed",
    ),
    "no_content": (
        b'{"inbox_id": "INBOX", "provider_id": "x", "sender": {"kind": "email",'
        b' "address": "a@b.test"}}',
        "application/json",
        422,
        "invalid_input",
    ),
    "unknown_inbox": (
        b'{"inbox_id": "inb_nope", "provider_id": "x", "sender": {"kind": "email",'
        b' "address": "a@b.test"}, "text": "hi"}',
        "application/json",
        404,
        "inbox_not_found",
    ),
    "not_json_type": (
        b"text=hi",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    "array_body": (b"[]", "application/json", 422, "validation_failed"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_bad_inbound_gets_4xx_with_reason_and_writes_nothing(
    client: TestClient, world: World, case: str
) -> None:
    raw, content_type, status, code = BAD_BODIES[case]
    before = await _counts(client)
    resp = await client.post(
        "/api/v1/inbound",
        data=raw.replace(b"INBOX", world.api_inbox.id.encode()),
        headers={**world.auth(), "Content-Type": content_type},
    )
    assert resp.status == status
    error = (await resp.json())["error"]
    assert error["code"] == code
    assert error["message"]
    assert await _counts(client) == before


async def test_oversize_body_is_413_and_writes_nothing(
    make_config: Callable[..., HubConfig], aiohttp_client: Callable[..., Awaitable[TestClient]]
) -> None:
    config = make_config(HUB_SERVER_MAX_BODY_BYTES="2048")
    client = await aiohttp_client(create_app(config))
    world = await build_world(client)
    body = inbound_body(world.api_inbox.id, "big", text="x" * 5000)
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth())
    assert resp.status == 413
    assert (await resp.json())["error"]["code"] == "payload_too_large"
    assert (await _counts(client))["messages"] == 0


async def test_batch_with_one_invalid_message_stores_none(client: TestClient, world: World) -> None:
    good = inbound_body(world.api_inbox.id, "b1")
    bad = inbound_body(world.api_inbox.id, "b2", sender={"kind": "phone", "address": "12"})
    resp = await client.post(
        "/api/v1/inbound/batch", json={"messages": [good, bad]}, headers=world.auth()
    )
    assert resp.status == 422
    problems = (await resp.json())["error"]["details"]["problems"]
    assert [p["index"] for p in problems] == [1]
    assert (await _counts(client))["messages"] == 0


async def test_batch_stores_every_message_once(client: TestClient, world: World) -> None:
    bodies = [inbound_body(world.api_inbox.id, f"m{i}") for i in range(40)]
    resp = await client.post(
        "/api/v1/inbound/batch", json={"messages": bodies + bodies[:5]}, headers=world.auth()
    )
    assert resp.status == 200
    items = (await resp.json())["items"]
    assert sum(1 for i in items if not i["duplicate"]) == 40
    assert (await _counts(client))["messages"] == 40


async def test_inbound_to_another_teams_inbox_is_not_found(
    client: TestClient, world: World
) -> None:
    resp = await client.post(
        "/api/v1/inbound", json=inbound_body(world.inbox_b.id, "x"), headers=world.auth("a")
    )
    assert resp.status == 404
    assert (await _counts(client))["messages"] == 0
