"""Store contract: customers and identities (creation, lookup, update, listing)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from hub.errors import Conflict, InvalidInput, NotFound
from hub.model import Customer, IdentityKind, utcnow
from hub.store import Store

from .conftest import Clock, IngestHelper

EMAIL, PHONE = IdentityKind.EMAIL, IdentityKind.PHONE


async def _customer(
    store: Store, name: str | None, *addresses: str, now: datetime | None = None
) -> Customer:
    file = await store.create_customer(
        name=name,
        attributes={},
        tags=(),
        identities=[(EMAIL, a) for a in addresses],
        now=now or utcnow(),
    )
    return file.customer


# --- create, get, find ----------------------------------------------------------------


async def test_create_customer_returns_its_file_with_identities(store: Store) -> None:
    now = utcnow()
    file = await store.create_customer(
        name="Alice",
        attributes={"plan": "pro", "seats": 3},
        tags=("vip", "beta"),
        identities=[(EMAIL, "alice@example.com"), (PHONE, "+4712345678")],
        now=now,
    )
    c = file.customer
    assert (c.name, dict(c.attributes), c.tags) == (
        "Alice",
        {"plan": "pro", "seats": 3},
        ("vip", "beta"),
    )
    assert (c.created_at, c.updated_at, c.merged_into) == (now, now, None)
    assert {(i.kind, i.address) for i in file.identities} == {
        (EMAIL, "alice@example.com"),
        (PHONE, "+4712345678"),
    }
    assert all(i.customer_id == c.id and i.created_at == now for i in file.identities)
    assert (file.conversations, file.merges) == ((), ())
    assert await store.get_customer(c.id) == c


async def test_create_customer_with_a_taken_identity_conflicts_and_stores_nothing(
    store: Store,
) -> None:
    await _customer(store, "Alice", "alice@example.com")
    with pytest.raises(Conflict):
        await store.create_customer(
            name="Mallory",
            attributes={},
            tags=(),
            identities=[(EMAIL, "mallory@example.com"), (EMAIL, "alice@example.com")],
            now=utcnow(),
        )
    assert await store.find_identity(EMAIL, "mallory@example.com") is None
    assert (await store.counts())["customers"] == 1


async def test_create_customer_drops_repeated_tags_and_identities(store: Store) -> None:
    file = await store.create_customer(
        name="Alice",
        attributes={},
        tags=("vip", "beta", "vip"),
        identities=[(EMAIL, "alice@example.com"), (EMAIL, "alice@example.com")],
        now=utcnow(),
    )
    assert file.customer.tags == ("vip", "beta")
    assert [i.address for i in file.identities] == ["alice@example.com"]


async def test_get_customer_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_customer("cus_missing") is None


async def test_find_identity_returns_the_owner(store: Store) -> None:
    customer = await _customer(store, "Alice", "alice@example.com")
    found = await store.find_identity(EMAIL, "alice@example.com")
    assert found is not None
    assert (found.customer_id, found.kind, found.address) == (
        customer.id,
        EMAIL,
        "alice@example.com",
    )


async def test_find_identity_of_an_unknown_address_or_other_kind_is_none(store: Store) -> None:
    await _customer(store, "Alice", "alice@example.com")
    assert await store.find_identity(EMAIL, "bob@example.com") is None
    assert await store.find_identity(IdentityKind.XMPP, "alice@example.com") is None


# --- resolve --------------------------------------------------------------------------


async def test_resolve_customer_creates_an_unknown_address(store: Store) -> None:
    now = utcnow()
    customer, identity, created = await store.resolve_customer(
        PHONE, "+4712345678", name="Bob", now=now
    )
    assert created is True
    assert (customer.name, customer.created_at) == ("Bob", now)
    assert (identity.customer_id, identity.kind, identity.address) == (
        customer.id,
        PHONE,
        "+4712345678",
    )
    assert await store.find_identity(PHONE, "+4712345678") == identity


async def test_resolve_customer_returns_the_existing_owner(store: Store) -> None:
    owner = await _customer(store, "Alice", "alice@example.com")
    customer, identity, created = await store.resolve_customer(
        EMAIL, "alice@example.com", name="Someone Else", now=utcnow()
    )
    assert created is False
    assert customer == owner
    assert identity.customer_id == owner.id


async def test_concurrent_resolves_of_a_new_address_create_one_customer(store: Store) -> None:
    results = await asyncio.gather(
        *(
            store.resolve_customer(EMAIL, "new@example.com", name=None, now=utcnow())
            for _ in range(10)
        )
    )
    assert len({customer.id for customer, _, _ in results}) == 1
    assert sum(created for _, _, created in results) == 1


# --- add identity ---------------------------------------------------------------------


async def test_add_identity_attaches_an_address(store: Store) -> None:
    customer = await _customer(store, "Alice", "alice@example.com")
    now = utcnow()
    identity = await store.add_identity(customer.id, PHONE, "+4712345678", now=now)
    assert (identity.customer_id, identity.address, identity.created_at) == (
        customer.id,
        "+4712345678",
        now,
    )
    file = await store.customer_file(customer.id)
    assert file is not None
    assert identity in file.identities


async def test_add_identity_owned_by_another_customer_conflicts(store: Store) -> None:
    await _customer(store, "Alice", "alice@example.com")
    bob = await _customer(store, "Bob", "bob@example.com")
    with pytest.raises(Conflict):
        await store.add_identity(bob.id, EMAIL, "alice@example.com", now=utcnow())
    found = await store.find_identity(EMAIL, "alice@example.com")
    assert found is not None and found.customer_id != bob.id


async def test_add_identity_the_customer_already_has_returns_it(store: Store) -> None:
    customer = await _customer(store, "Alice", "alice@example.com")
    existing = await store.find_identity(EMAIL, "alice@example.com")
    again = await store.add_identity(customer.id, EMAIL, "alice@example.com", now=utcnow())
    assert again == existing


async def test_add_identity_to_a_merged_customer_conflicts(store: Store) -> None:
    kept = await _customer(store, "Kept", "k@example.com")
    merged = await _customer(store, "Merged", "m@example.com")
    await store.merge_customers(kept.id, merged.id, actor_id=None, now=utcnow())
    with pytest.raises(Conflict):
        await store.add_identity(merged.id, EMAIL, "new@example.com", now=utcnow())
    assert await store.find_identity(EMAIL, "new@example.com") is None


async def test_add_identity_to_an_unknown_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.add_identity("cus_missing", EMAIL, "x@example.com", now=utcnow())


# --- update ---------------------------------------------------------------------------


async def test_update_customer_merges_attributes_and_none_deletes_a_key(store: Store) -> None:
    file = await store.create_customer(
        name="Alice",
        attributes={"plan": "pro", "city": "Oslo"},
        tags=(),
        identities=(),
        now=utcnow(),
    )
    updated = await store.update_customer(
        file.customer.id, attributes={"city": None, "lang": "nb"}, now=utcnow()
    )
    assert dict(updated.attributes) == {"plan": "pro", "lang": "nb"}


async def test_update_customer_replaces_name_and_tags_and_sets_updated_at(store: Store) -> None:
    file = await store.create_customer(
        name="Alice", attributes={}, tags=("a",), identities=(), now=utcnow()
    )
    later = utcnow()
    updated = await store.update_customer(
        file.customer.id, name="Alicia", tags=("b", "c"), now=later
    )
    assert (updated.name, updated.tags, updated.updated_at) == ("Alicia", ("b", "c"), later)
    assert updated.created_at == file.customer.created_at
    assert await store.get_customer(file.customer.id) == updated


async def test_update_customer_leaves_unset_fields_alone(store: Store) -> None:
    file = await store.create_customer(
        name="Alice", attributes={"plan": "pro"}, tags=("vip",), identities=(), now=utcnow()
    )
    updated = await store.update_customer(file.customer.id, now=utcnow())
    assert (updated.name, dict(updated.attributes), updated.tags) == (
        "Alice",
        {"plan": "pro"},
        ("vip",),
    )


async def test_update_customer_can_clear_the_name_with_none(store: Store) -> None:
    customer = await _customer(store, "Alice")
    updated = await store.update_customer(customer.id, name=None, now=utcnow())
    assert updated.name is None


async def test_update_of_an_unknown_customer_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_customer("cus_missing", name="x", now=utcnow())


# --- list -----------------------------------------------------------------------------


async def test_list_customers_returns_newest_first(store: Store, clock: Clock) -> None:
    made = [await _customer(store, f"C{i}", now=clock()) for i in range(3)]
    page = await store.list_customers()
    assert page.items == tuple(reversed(made))
    assert page.next_cursor is None


async def test_list_customers_pages_with_cursors_without_gaps_or_duplicates(
    store: Store, clock: Clock
) -> None:
    made = [await _customer(store, f"C{i}", now=clock()) for i in range(7)]
    seen: list[Customer] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await store.list_customers(limit=3, cursor=cursor)
        seen += page.items
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(made))


async def test_list_customers_pages_customers_created_in_the_same_millisecond(
    store: Store,
) -> None:
    now = utcnow()
    made = {(await _customer(store, f"C{i}", now=now)).id for i in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_customers(limit=2, cursor=cursor)
        seen += [c.id for c in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert len(seen) == len(made)
    assert set(seen) == made


async def test_list_customers_matches_the_name_ignoring_case(store: Store) -> None:
    alice = await _customer(store, "Alice Liddell", "a@example.com")
    await _customer(store, "Bob", "b@example.com")
    page = await store.list_customers(query="liddell")
    assert page.items == (alice,)


async def test_list_customers_matches_a_non_ascii_name_ignoring_case(store: Store) -> None:
    oystein = await _customer(store, "Øystein Ås", "o@example.com")
    await _customer(store, "Bob", "b@example.com")
    assert (await store.list_customers(query="øystein ås")).items == (oystein,)
    assert (await store.list_customers(query="ÅS")).items == (oystein,)


async def test_list_customers_rejects_a_garbage_cursor(store: Store) -> None:
    with pytest.raises(InvalidInput):
        await store.list_customers(cursor="not-a-cursor")


async def test_list_customers_matches_an_address(store: Store) -> None:
    await _customer(store, "Alice", "alice@example.com")
    bob = await _customer(store, None, "bob@builders.example")
    page = await store.list_customers(query="builders")
    assert page.items == (bob,)


async def test_list_customers_treats_wildcards_in_the_query_literally(store: Store) -> None:
    await _customer(store, "Alice", "alice@example.com")
    plus = await _customer(store, "100% Real", "r@example.com")
    assert (await store.list_customers(query="%")).items == (plus,)
    assert (await store.list_customers(query="_")).items == ()


async def test_list_customers_excludes_merged_customers(store: Store, ingest: IngestHelper) -> None:
    kept = await _customer(store, "Kept", "k@example.com")
    merged = await _customer(store, "Merged", "m@example.com")
    await store.merge_customers(kept.id, merged.id, actor_id=None, now=utcnow())
    ids = [c.id for c in (await store.list_customers()).items]
    assert ids == [kept.id]
    assert (await store.list_customers(query="Merged")).items == ()


# --- customer file --------------------------------------------------------------------


async def test_customer_file_holds_identities_and_conversations(
    store: Store, ingest: IngestHelper
) -> None:
    result = await ingest(sender="alice@example.com")
    file = await store.customer_file(result.customer.id)
    assert file is not None
    assert file.customer == result.customer
    assert [i.address for i in file.identities] == ["alice@example.com"]
    assert file.conversations == (result.conversation,)
    assert file.merges == ()


async def test_customer_file_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.customer_file("cus_missing") is None
