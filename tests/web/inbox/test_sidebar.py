"""The customer file sidebar: identities, attributes, tags, past conversations, merge/undo."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from hub.actions import do_set_status, do_update_customer
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import IdentityKind, Status
from tests.conftest import World
from tests.web.inbox_world import ingest, page, post_form
from tests.web.signin import sign_in


async def test_the_sidebar_lists_identities_and_past_conversations(
    client: TestClient, world: World
) -> None:
    first = await ingest(client, world.api_inbox, sender="kari@example.com", name="Kari")
    await do_set_status(client.app[ACTIONS_KEY], first.conversation.id, Status.RESOLVED)
    second = await ingest(client, world.inbox_a, sender="kari@example.com")
    await client.app[STORE_KEY].add_identity(
        first.customer.id, IdentityKind.PHONE, "+4712345678", now=first.message.created_at
    )
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{second.conversation.id}")
    assert 'data-testid="identity" data-kind="email"><span class="muted">email</span> kari@' in html
    assert 'data-testid="identity" data-kind="phone"' in html
    past = re.findall(r'data-testid="past-conversation" data-conversation-id="([^"]+)"', html)
    assert set(past) == {first.conversation.id, second.conversation.id}


async def test_the_sidebar_fragment_is_the_pages_customer_file_with_its_return_path(
    client: TestClient, world: World
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com", name="Kari")
    await do_update_customer(client.app[ACTIONS_KEY], found.customer.id, attributes={"plan": "pro"})
    await sign_in(client, "admin@hub.test")
    cid = found.conversation.id
    html = await page(client, f"/inbox/c/{cid}/sidebar?view=all&status=open")
    assert html.count('data-testid="customer-sidebar"') == 1
    assert f'data-customer-id="{found.customer.id}"' in html
    assert 'data-testid="attribute-row" data-key="plan"' in html
    assert "<html" not in html  # a fragment, not a page
    # the forms in it go back to the conversation page, with the page's own filters
    back = f"/inbox/c/{cid}?view=all&amp;status=open"
    assert f'name="return_to" value="{back}"' in html
    full = await page(client, f"/inbox/c/{cid}?view=all&status=open")
    assert f'name="return_to" value="{back}"' in full


async def test_an_attribute_is_added_edited_and_removed(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    cid, customer_id = found.conversation.id, found.customer.id
    csrf = await sign_in(client, "admin@hub.test")
    url = f"/inbox/customers/{customer_id}/attributes"
    status, location, _ = await post_form(
        client, url, csrf, op="set", key="plan", value="pro", return_to=f"/inbox/c/{cid}"
    )
    assert (status, location) == (303, f"/inbox/c/{cid}")
    html = await page(client, location)
    assert 'data-testid="attribute-row" data-key="plan"' in html
    assert 'name="value" value="pro"' in html
    await post_form(client, url, csrf, op="set", key="plan", value="enterprise")
    store = client.app[STORE_KEY]
    customer = await store.get_customer(customer_id)
    assert customer is not None and customer.attributes == {"plan": "enterprise"}
    await post_form(client, url, csrf, op="remove", key="plan")
    customer = await store.get_customer(customer_id)
    assert customer is not None and customer.attributes == {}


async def test_an_attribute_without_a_name_is_refused(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    status, _, body = await post_form(
        client, f"/inbox/customers/{found.customer.id}/attributes", csrf, key=" ", value="x"
    )
    assert status == 422 and "attribute name" in body


async def test_customer_tags_are_added_and_removed(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    customer_id = found.customer.id
    csrf = await sign_in(client, "admin@hub.test")
    url = f"/inbox/customers/{customer_id}/tags"
    await post_form(client, url, csrf, add="VIP, churn-risk")
    await post_form(client, url, csrf, remove="vip")
    customer = await client.app[STORE_KEY].get_customer(customer_id)
    assert customer is not None and customer.tags == ("churn-risk",)


async def test_merge_a_duplicate_found_by_search_then_undo_it(
    client: TestClient, world: World
) -> None:
    kept = await ingest(client, world.api_inbox, sender="kari@example.com", name="Kari Nordmann")
    dup = await ingest(client, world.api_inbox, sender="kari@home.example", name="K. Nordmann")
    cid = kept.conversation.id
    csrf = await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{cid}?merge_q=home.example")
    found = re.findall(r'data-testid="merge-candidate" data-customer-id="([^"]+)"', html)
    assert found == [dup.customer.id]
    status, location, _ = await post_form(
        client,
        f"/inbox/customers/{kept.customer.id}/merge",
        csrf,
        other_id=dup.customer.id,
        return_to=f"/inbox/c/{cid}",
    )
    assert (status, location) == (303, f"/inbox/c/{cid}")
    store = client.app[STORE_KEY]
    moved = await store.get_conversation(dup.conversation.id)
    assert moved is not None and moved.customer_id == kept.customer.id
    html = await page(client, location)
    undo = re.search(r'action="/inbox/merges/([^"]+)/undo"', html)
    assert undo is not None
    status, _, _ = await post_form(client, f"/inbox/merges/{undo.group(1)}/undo", csrf)
    assert status == 303
    back = await store.get_conversation(dup.conversation.id)
    assert back is not None and back.customer_id == dup.customer.id
    assert 'data-testid="undo-merge"' not in await page(client, f"/inbox/c/{cid}")


async def test_merge_search_leaves_out_the_customer_itself(
    client: TestClient, world: World
) -> None:
    kept = await ingest(client, world.api_inbox, sender="kari@example.com", name="Kari")
    await sign_in(client, "admin@hub.test")
    html = await page(client, f"/inbox/c/{kept.conversation.id}?merge_q=kari")
    assert 'data-testid="merge-candidate"' not in html
    assert "No other customer matches." in html


async def test_merging_without_picking_a_customer_is_refused(
    client: TestClient, world: World
) -> None:
    kept = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    status, _, _ = await post_form(
        client, f"/inbox/customers/{kept.customer.id}/merge", csrf, other_id=""
    )
    assert status == 422


async def test_the_sidebar_hides_conversations_of_other_teams(
    client: TestClient, world: World
) -> None:
    mine = await ingest(client, world.inbox_a, sender="kari@example.com")
    theirs = await ingest(client, world.inbox_b, sender="kari@example.com")
    await do_update_customer(client.app[ACTIONS_KEY], mine.customer.id, name="Kari")
    await sign_in(client, "a@hub.test")
    html = await page(client, f"/inbox/c/{mine.conversation.id}")
    assert f'data-conversation-id="{mine.conversation.id}"' in html
    assert theirs.conversation.id not in html


async def test_return_to_elsewhere_is_ignored(client: TestClient, world: World) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    csrf = await sign_in(client, "admin@hub.test")
    _, location, _ = await post_form(
        client,
        f"/inbox/customers/{found.customer.id}/tags",
        csrf,
        add="x",
        return_to="https://evil.example/",
    )
    assert location == "/inbox"
