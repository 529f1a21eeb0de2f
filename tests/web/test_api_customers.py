"""Customers over the API: file, search, identities across channels, merge and undo."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.conftest import World, inbound_body


async def test_one_customer_across_email_and_phone(client: TestClient, world: World) -> None:
    resp = await client.post(
        "/api/v1/customers",
        headers=world.auth(),
        json={"name": "Ada", "identities": [{"kind": "email", "address": "Ada@Example.com"}]},
    )
    assert resp.status == 201
    cid = (await resp.json())["customer"]["id"]
    resp = await client.post(
        f"/api/v1/customers/{cid}/identities",
        headers=world.auth(),
        json={"kind": "phone", "address": "+1 (415) 555-0100"},
    )
    assert resp.status == 201
    # a message from that phone lands on the same customer (no duplicate contact, CW #258)
    body = inbound_body(
        world.api_inbox.id, "sms1", sender={"kind": "phone", "address": "+14155550100"}
    )
    ack = await (await client.post("/api/v1/inbound", json=body, headers=world.auth())).json()
    assert ack["customer_id"] == cid
    file = await (await client.get(f"/api/v1/customers/{cid}", headers=world.auth())).json()
    assert {(i["kind"], i["address"]) for i in file["identities"]} == {
        ("email", "ada@example.com"),
        ("phone", "+14155550100"),
    }
    assert [c["id"] for c in file["conversations"]] == [ack["conversation_id"]]


async def test_address_owned_by_someone_else_is_a_conflict(
    client: TestClient, world: World
) -> None:
    await client.post(
        "/api/v1/customers",
        headers=world.auth(),
        json={"identities": [{"kind": "email", "address": "x@example.com"}]},
    )
    resp = await client.post(
        "/api/v1/customers",
        headers=world.auth(),
        json={"identities": [{"kind": "email", "address": "X@EXAMPLE.COM"}]},
    )
    assert resp.status == 409
    assert (await resp.json())["error"]["code"] == "identity_taken"


async def test_search_customers_by_address(client: TestClient, world: World) -> None:
    await client.post(
        "/api/v1/customers",
        headers=world.auth(),
        json={"name": "Grace", "identities": [{"kind": "email", "address": "grace@navy.example"}]},
    )
    resp = await client.get("/api/v1/customers?q=navy", headers=world.auth())
    assert [c["name"] for c in (await resp.json())["items"]] == ["Grace"]


async def test_merge_then_undo_over_the_api_restores_both(client: TestClient, world: World) -> None:
    ids = []
    for pid, address in (("e1", "a@one.example"), ("e2", "a@two.example")):
        body = inbound_body(world.api_inbox.id, pid, sender={"kind": "email", "address": address})
        ids.append(
            (await (await client.post("/api/v1/inbound", json=body, headers=world.auth())).json())[
                "customer_id"
            ]
        )
    before = [
        await (await client.get(f"/api/v1/customers/{c}", headers=world.auth())).json() for c in ids
    ]
    resp = await client.post(
        f"/api/v1/customers/{ids[0]}/merge", headers=world.auth(), json={"customer_id": ids[1]}
    )
    assert resp.status == 201
    merge_id = (await resp.json())["id"]
    merged = await (await client.get(f"/api/v1/customers/{ids[0]}", headers=world.auth())).json()
    assert len(merged["identities"]) == 2 and len(merged["conversations"]) == 2
    resp = await client.post(f"/api/v1/merges/{merge_id}/undo", headers=world.auth())
    assert resp.status == 200
    after = [
        await (await client.get(f"/api/v1/customers/{c}", headers=world.auth())).json() for c in ids
    ]
    for old, new in zip(before, after, strict=True):
        assert {k: v for k, v in new.items() if k != "merges"} == {
            k: v for k, v in old.items() if k != "merges"
        }
    again = await client.post(f"/api/v1/merges/{merge_id}/undo", headers=world.auth())
    assert again.status == 409


async def test_patch_customer_attributes_is_a_merge_patch(client: TestClient, world: World) -> None:
    resp = await client.post(
        "/api/v1/customers",
        headers=world.auth(),
        json={"name": "Bo", "attributes": {"plan": "pro", "city": "Oslo"}},
    )
    cid = (await resp.json())["customer"]["id"]
    resp = await client.patch(
        f"/api/v1/customers/{cid}",
        headers=world.auth(),
        json={"attributes": {"city": None, "seats": 5}},
    )
    assert resp.status == 200
    assert (await resp.json())["attributes"] == {"plan": "pro", "seats": 5}
