"""The sidebar's customer forms and the merge finder under the customer access policy, in
both `access.customers` modes: agent A against a customer whose conversation is team B's."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from hub.actions import do_merge
from hub.config import HubConfig
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import IngestResult
from tests.conftest import World
from tests.web.inbox_world import MANUAL_ROUTING, ingest, page, post_form, row_ids
from tests.web.signin import sign_in

_CANDIDATE = re.compile(r'data-testid="merge-candidate" data-customer-id="([^"]+)"')


@pytest.fixture(params=["shared", "team"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def config(make_config: Callable[..., HubConfig], mode: str) -> HubConfig:
    return make_config(**MANUAL_ROUTING, HUB_ACCESS_CUSTOMERS=mode)


def hidden_or(mode: str, status: int) -> int:
    """What agent A gets on a team-B customer: 404 in team mode, else `status`."""
    return 404 if mode == "team" else status


async def team_b_customer(client: TestClient, world: World) -> IngestResult:
    return await ingest(
        client, world.inbox_b, sender="bea@b.example", name="Bea Dup", text="b secret"
    )


async def team_a_customer(client: TestClient, world: World) -> IngestResult:
    return await ingest(client, world.inbox_a, sender="bea@a.example", name="Bea", text="a secret")


async def test_agent_a_editing_a_team_b_customers_attributes_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    csrf = await sign_in(client, "a@hub.test")
    url = f"/inbox/customers/{b.customer.id}/attributes"
    status, _, _ = await post_form(client, url, csrf, op="set", key="plan", value="free")
    assert status == hidden_or(mode, 403)
    customer = await client.app[STORE_KEY].get_customer(b.customer.id)
    assert customer is not None and customer.attributes == {}


async def test_agent_a_tagging_a_team_b_customer_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    csrf = await sign_in(client, "a@hub.test")
    status, _, _ = await post_form(client, f"/inbox/customers/{b.customer.id}/tags", csrf, add="x")
    assert status == hidden_or(mode, 403)
    customer = await client.app[STORE_KEY].get_customer(b.customer.id)
    assert customer is not None and customer.tags == ()


@pytest.mark.parametrize("direction", ["b_into_a", "a_into_b"])
async def test_agent_a_merging_a_team_b_customer_from_the_sidebar_is_refused(
    client: TestClient, world: World, mode: str, direction: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    kept, merged = (a, b) if direction == "b_into_a" else (b, a)
    csrf = await sign_in(client, "a@hub.test")
    status, _, _ = await post_form(
        client,
        f"/inbox/customers/{kept.customer.id}/merge",
        csrf,
        other_id=merged.customer.id,
        return_to=f"/inbox/c/{a.conversation.id}",
    )
    assert status == hidden_or(mode, 403)
    conversation = await client.app[STORE_KEY].get_conversation(b.conversation.id)
    assert conversation is not None and conversation.customer_id == b.customer.id


async def test_agent_a_undoing_a_merge_of_team_b_customers_is_refused(
    client: TestClient, world: World, mode: str
) -> None:
    b = await team_b_customer(client, world)
    other = await ingest(client, world.inbox_b, sender="bob@b.example")
    record = await do_merge(
        client.app[ACTIONS_KEY], b.customer.id, other.customer.id, actor_id=None
    )
    csrf = await sign_in(client, "a@hub.test")
    status, _, _ = await post_form(client, f"/inbox/merges/{record.id}/undo", csrf)
    assert status == hidden_or(mode, 403)
    merge = await client.app[STORE_KEY].get_merge(record.id)
    assert merge is not None and merge.undone_at is None


async def test_the_merge_finder_offers_agent_a_no_team_b_customer(
    client: TestClient, world: World, mode: str
) -> None:
    a = await team_a_customer(client, world)
    await team_b_customer(client, world)
    mine = await ingest(client, world.api_inbox, sender="bea@home.example", name="Bea Home")
    await sign_in(client, "a@hub.test")
    html = await page(client, f"/inbox/c/{a.conversation.id}?merge_q=bea")
    assert _CANDIDATE.findall(html) == [mine.customer.id]


async def test_the_sidebar_offers_no_merge_of_a_customer_with_team_b_conversations(
    client: TestClient, world: World, mode: str
) -> None:
    await team_b_customer(client, world)
    shared = await ingest(client, world.inbox_a, sender="bea@b.example", text="to a as well")
    await sign_in(client, "a@hub.test")
    html = await page(client, f"/inbox/c/{shared.conversation.id}?merge_q=bea")
    assert 'data-testid="merge-not-yours"' in html
    assert 'data-testid="merge-search"' not in html and "merge-candidate" not in html


async def test_inbox_search_lists_no_team_b_conversation_to_agent_a(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    await sign_in(client, "a@hub.test")
    html = await page(client, "/inbox?view=all&q=secret")
    assert row_ids(html) == [a.conversation.id]
    assert b.conversation.id not in html and "b secret" not in html


async def test_the_admin_merges_a_team_b_customer_and_undoes_it_from_the_sidebar(
    client: TestClient, world: World, mode: str
) -> None:
    a, b = await team_a_customer(client, world), await team_b_customer(client, world)
    csrf = await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{a.conversation.id}?merge_q=dup")
    assert _CANDIDATE.findall(html) == [b.customer.id]
    status, location, _ = await post_form(
        client,
        f"/inbox/customers/{a.customer.id}/merge",
        csrf,
        other_id=b.customer.id,
        return_to=f"/inbox/c/{a.conversation.id}",
    )
    assert status == 303
    undo = re.search(r'action="/inbox/merges/([^"]+)/undo"', await page(client, location))
    assert undo is not None
    status, _, _ = await post_form(client, f"/inbox/merges/{undo.group(1)}/undo", csrf)
    assert status == 303
    back = await client.app[STORE_KEY].get_conversation(b.conversation.id)
    assert back is not None and back.customer_id == b.customer.id


async def test_agent_a_edits_and_merges_customers_of_their_own_inboxes(
    client: TestClient, world: World, mode: str
) -> None:
    a = await team_a_customer(client, world)
    mine = await ingest(client, world.api_inbox, sender="bea@home.example", name="Bea Home")
    csrf = await sign_in(client, "a@hub.test")
    url = f"/inbox/customers/{a.customer.id}"
    status, _, _ = await post_form(client, f"{url}/attributes", csrf, key="plan", value="pro")
    assert status == 303
    status, _, _ = await post_form(client, f"{url}/merge", csrf, other_id=mine.customer.id)
    assert status == 303
    moved = await client.app[STORE_KEY].get_conversation(mine.conversation.id)
    assert moved is not None and moved.customer_id == a.customer.id
