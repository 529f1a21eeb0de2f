"""Customers over the API under the customer access policy, in both `access.customers` modes.

Agent A (team A) against a customer whose only conversation is in team B's inbox: in
`shared` mode A reads the profile but not B's conversations, and may not change it; in
`team` mode the customer does not exist for A (404, the body of a missing id).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.actions import do_merge, do_undo_merge
from hub.config import HubConfig
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import IngestResult
from tests.conftest import World
from tests.web.inbox_world import ingest


@pytest.fixture(params=["shared", "team"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(make_config: Callable[..., HubConfig], mode: str) -> HubConfig:
    return make_config(HUB_ACCESS_CUSTOMERS=mode)


def hidden_or(mode: str, status: int) -> int:
    """What agent A gets on a team-B customer: 404 in team mode, else `status`."""
    return 404 if mode == "team" else status


async def team_b_customer(client: TestClient, world: World) -> IngestResult:
    return await ingest(client, world.inbox_b, sender="bea@b.example", name="Bea", text="b secret")


async def team_a_customer(client: TestClient, world: World) -> IngestResult:
    return await ingest(client, world.inbox_a, sender="ada@a.example", name="Ada", text="hello a")


async def answer(resp: Any) -> tuple[int, dict[str, Any]]:
    return resp.status, await resp.json()


async def test_agent_a_reading_a_team_b_customer(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    status, body = await answer(
        await client.get(f"/api/v1/customers/{b.customer.id}", headers=world.auth("a"))
    )
    assert status == hidden_or(mode, 200)
    if mode == "shared":  # the profile, without team B's conversation
        assert body["customer"]["name"] == "Bea"
        assert [i["address"] for i in body["identities"]] == ["bea@b.example"]
        assert body["conversations"] == []
    else:
        missing = await client.get("/api/v1/customers/cus_nosuchcustomer", headers=world.auth("a"))
        assert body == {
            "error": {
                **(await missing.json())["error"],
                "message": f"customer {b.customer.id!r} does not exist",
            }
        }


async def test_agent_a_renaming_a_team_b_customer_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    url = f"/api/v1/customers/{b.customer.id}"
    resp = await client.patch(url, headers=world.auth("a"), json={"name": "Mallory"})
    status, body = await answer(resp)
    assert status == hidden_or(mode, 403)
    if mode == "shared":
        assert body["error"]["code"] == "customer_not_yours"
    customer = await client.app[STORE_KEY].get_customer(b.customer.id)
    assert customer is not None and customer.name == "Bea"


async def test_agent_a_adding_an_address_to_a_team_b_customer_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    resp = await client.post(
        f"/api/v1/customers/{b.customer.id}/identities",
        headers=world.auth("a"),
        json={"kind": "email", "address": "mallory@a.example"},
    )
    assert resp.status == hidden_or(mode, 403)
    file = await client.app[STORE_KEY].customer_file(b.customer.id)
    assert file is not None and [i.address for i in file.identities] == ["bea@b.example"]


@pytest.mark.parametrize("direction", ["b_into_a", "a_into_b"])
async def test_agent_a_merging_a_team_b_customer_is_refused(
    client: TestClient, world: World, mode: str, direction: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    kept, merged = (a, b) if direction == "b_into_a" else (b, a)
    resp = await client.post(
        f"/api/v1/customers/{kept.customer.id}/merge",
        headers=world.auth("a"),
        json={"customer_id": merged.customer.id},
    )
    status, body = await answer(resp)
    assert status == hidden_or(mode, 403)
    if mode == "shared":
        assert body["error"]["code"] == "customer_not_yours"
    conversation = await client.app[STORE_KEY].get_conversation(b.conversation.id)
    assert conversation is not None and conversation.customer_id == b.customer.id


async def test_agent_a_undoing_a_merge_of_team_b_customers_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    other = await ingest(client, world.inbox_b, sender="bob@b.example")
    actions = client.app[ACTIONS_KEY]
    record = await do_merge(actions, b.customer.id, other.customer.id, actor_id=None)
    resp = await client.post(f"/api/v1/merges/{record.id}/undo", headers=world.auth("a"))
    status, body = await answer(resp)
    assert status == hidden_or(mode, 403)
    if mode == "team":
        assert body["error"]["code"] == "merge_not_found"
    merge = await client.app[STORE_KEY].get_merge(record.id)
    assert merge is not None and merge.undone_at is None


async def test_agent_a_taking_an_address_of_a_team_b_customer_is_refused_unnamed(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    resp = await client.post(
        f"/api/v1/customers/{a.customer.id}/identities",
        headers=world.auth("a"),
        json={"kind": "email", "address": "BEA@b.example"},
    )
    status, body = await answer(resp)
    assert (status, body["error"]["code"]) == (403, "customer_not_yours")
    assert b.customer.id not in str(body)


async def test_agent_a_creating_a_customer_with_a_hidden_customers_address_learns_no_id(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    resp = await client.post(
        "/api/v1/customers",
        headers=world.auth("a"),
        json={"identities": [{"kind": "email", "address": "bea@b.example"}]},
    )
    status, body = await answer(resp)
    assert (status, body["error"]["code"]) == (409, "identity_taken")
    assert (b.customer.id in str(body)) == (mode == "shared")


async def test_agent_a_lists_team_b_customers_only_in_shared_mode(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    resp = await client.get("/api/v1/customers?limit=1", headers=world.auth("a"))
    page = await resp.json()
    ids = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        more = f"/api/v1/customers?limit=1&cursor={page['next_cursor']}"
        page = await (await client.get(more, headers=world.auth("a"))).json()
        ids += [c["id"] for c in page["items"]]
    expected = [b.customer.id, a.customer.id] if mode == "shared" else [a.customer.id]
    assert ids == expected


async def test_search_never_returns_team_b_messages_to_agent_a(
    client: TestClient, world: World, mode: str
) -> None:
    await team_b_customer(client, world)
    mine = await ingest(client, world.inbox_a, sender="ada@a.example", text="a secret")
    resp = await client.get("/api/v1/search?q=secret", headers=world.auth("a"))
    assert [m["id"] for m in (await resp.json())["items"]] == [mine.message.id]
    resp = await client.get("/api/v1/search?q=secret", headers=world.auth("b"))
    assert [m["text"] for m in (await resp.json())["items"]] == ["b secret"]


async def test_the_admin_reads_edits_merges_and_unmerges_a_team_b_customer(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    url, admin = f"/api/v1/customers/{b.customer.id}", world.auth("admin")
    file = await (await client.get(url, headers=admin)).json()
    assert [c["id"] for c in file["conversations"]] == [b.conversation.id]
    assert (await client.patch(url, headers=admin, json={"name": "Bea B"})).status == 200
    address = {"kind": "email", "address": "bea2@b.example"}
    assert (await client.post(f"{url}/identities", headers=admin, json=address)).status == 201
    resp = await client.post(
        f"/api/v1/customers/{a.customer.id}/merge",
        headers=admin,
        json={"customer_id": b.customer.id},
    )
    assert resp.status == 201
    undo = await client.post(f"/api/v1/merges/{(await resp.json())['id']}/undo", headers=admin)
    assert undo.status == 200


async def test_an_agent_seeing_every_conversation_merges_and_unmerges(
    client: TestClient, world: World, mode: str
) -> None:
    a = await team_a_customer(client, world)
    other = await ingest(client, world.api_inbox, sender="ada@home.example")  # team-less inbox
    resp = await client.post(
        f"/api/v1/customers/{a.customer.id}/merge",
        headers=world.auth("a"),
        json={"customer_id": other.customer.id},
    )
    assert resp.status == 201
    undo = await client.post(
        f"/api/v1/merges/{(await resp.json())['id']}/undo", headers=world.auth("a")
    )
    assert undo.status == 200


async def test_a_customer_of_both_teams_is_edited_but_not_merged_by_agent_a(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    await ingest(client, world.inbox_a, sender="bea@b.example", text="to team a too")
    a = await team_a_customer(client, world)
    url = f"/api/v1/customers/{b.customer.id}"
    file = await (await client.get(url, headers=world.auth("a"))).json()
    assert b.conversation.id not in [c["id"] for c in file["conversations"]]
    assert len(file["conversations"]) == 1
    assert (await client.patch(url, headers=world.auth("a"), json={"name": "B"})).status == 200
    resp = await client.post(
        f"/api/v1/customers/{a.customer.id}/merge",
        headers=world.auth("a"),
        json={"customer_id": b.customer.id},
    )
    assert resp.status == 403  # A sees the customer, but not all of its conversations


async def test_a_customer_without_conversations_is_editable_only_in_shared_mode(
    client: TestClient, world: World, mode: str
) -> None:
    resp = await client.post("/api/v1/customers", headers=world.auth("admin"), json={"name": "N"})
    url = f"/api/v1/customers/{(await resp.json())['customer']['id']}"
    resp = await client.patch(url, headers=world.auth("a"), json={"name": "New"})
    assert resp.status == hidden_or(mode, 200)


async def test_an_undone_merge_with_a_hidden_customer_is_left_out_of_the_file_in_team_mode(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    actions = client.app[ACTIONS_KEY]
    record = await do_merge(actions, a.customer.id, b.customer.id, actor_id=None)
    live = await client.get(f"/api/v1/customers/{a.customer.id}", headers=world.auth("a"))
    assert [m["id"] for m in (await live.json())["merges"]] == [record.id]  # A's to undo
    await do_undo_merge(actions, record.id)
    resp = await client.get(f"/api/v1/customers/{a.customer.id}", headers=world.auth("a"))
    merges = (await resp.json())["merges"]
    assert [m["id"] for m in merges] == ([record.id] if mode == "shared" else [])
