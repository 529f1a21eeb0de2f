"""Store contract: canned responses with unique shortcuts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub.errors import Conflict, NotFound
from hub.model import CannedResponse, utcnow
from hub.store import Store


async def _canned(store: Store, shortcut: str = "hello") -> CannedResponse:
    return await store.create_canned_response(
        shortcut=shortcut, title="Greeting", body="Hi {{ customer.name }}!", now=utcnow()
    )


async def test_create_canned_response_round_trips_every_field(store: Store) -> None:
    now = utcnow()
    canned = await store.create_canned_response(
        shortcut="hello", title="Greeting", body="Hi {{ customer.name }}!", now=now
    )
    assert canned.id
    assert (canned.shortcut, canned.title, canned.body) == (
        "hello",
        "Greeting",
        "Hi {{ customer.name }}!",
    )
    assert (canned.created_at, canned.updated_at) == (now, now)
    assert await store.get_canned_response(canned.id) == canned


async def test_create_canned_response_with_a_taken_shortcut_conflicts(store: Store) -> None:
    await _canned(store, "hello")
    with pytest.raises(Conflict):
        await _canned(store, "hello")
    assert len(await store.list_canned_responses()) == 1


async def test_list_canned_responses_orders_by_shortcut(store: Store) -> None:
    for shortcut in ("thanks", "bye", "hello"):
        await _canned(store, shortcut)
    assert [c.shortcut for c in await store.list_canned_responses()] == ["bye", "hello", "thanks"]


async def test_get_canned_response_of_an_unknown_id_is_none(store: Store) -> None:
    assert await store.get_canned_response("can_missing") is None


async def test_update_canned_response_changes_given_fields_and_the_time(store: Store) -> None:
    canned = await _canned(store)
    later = canned.created_at + timedelta(minutes=1)
    updated = await store.update_canned_response(canned.id, body="Hello there", now=later)
    assert (updated.shortcut, updated.title, updated.body) == ("hello", "Greeting", "Hello there")
    assert (updated.created_at, updated.updated_at) == (canned.created_at, later)
    assert await store.get_canned_response(canned.id) == updated


async def test_update_canned_response_to_its_own_shortcut_is_fine(store: Store) -> None:
    canned = await _canned(store)
    updated = await store.update_canned_response(canned.id, shortcut="hello", now=utcnow())
    assert updated.shortcut == "hello"


async def test_update_canned_response_to_a_taken_shortcut_conflicts(store: Store) -> None:
    await _canned(store, "hello")
    other = await _canned(store, "bye")
    with pytest.raises(Conflict):
        await store.update_canned_response(other.id, shortcut="hello", now=utcnow())
    assert await store.get_canned_response(other.id) == other


async def test_update_an_unknown_canned_response_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.update_canned_response("can_missing", title="x", now=utcnow())


async def test_delete_canned_response(store: Store) -> None:
    canned = await _canned(store)
    assert await store.delete_canned_response(canned.id) is True
    assert await store.get_canned_response(canned.id) is None
    assert await store.delete_canned_response(canned.id) is False


async def test_counts_include_canned_responses(store: Store) -> None:
    assert (await store.counts())["canned_responses"] == 0
    await _canned(store)
    assert (await store.counts())["canned_responses"] == 1
