"""MongoStore's indexes: created idempotently at open, and they decide what they must."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from hub.model import utcnow
from hub.store.mongo import MongoStore
from hub.store.mongo.schema import INDEXES

from .conftest import BACKENDS, MOCK_URL, MONGO_URL_ENV, mock_client, with_database

MONGO_BACKENDS = [name for name in ("mongo-mock", "mongo") if name in BACKENDS]


@dataclass
class Place:
    """Where a MongoStore keeps its data, and that database as the driver sees it."""

    backend: str
    make: Any  # () -> a new, unopened MongoStore on this database
    raw: Any


@pytest.fixture(params=MONGO_BACKENDS)
async def place(request: pytest.FixtureRequest) -> AsyncIterator[Place]:
    if request.param == "mongo-mock":
        client = mock_client()
        yield Place(
            "mongo-mock", lambda: MongoStore(MOCK_URL, client=client), client["contact_hub_test"]
        )
        return
    database = f"hub_test_{uuid.uuid4().hex[:16]}"
    url = with_database(os.environ[MONGO_URL_ENV], database)
    admin: Any = AsyncMongoClient(url, tz_aware=True)
    try:
        yield Place("mongo", lambda: MongoStore(url), admin[database])
    finally:
        await admin.drop_database(database)
        await admin.close()


async def _indexes(place: Place) -> dict[str, dict[str, Any]]:
    out = {}
    for name in sorted(set(await place.raw.list_collection_names())):
        out[name] = await place.raw[name].index_information()
    return out


async def test_opening_twice_creates_every_index_once_and_changes_nothing(place: Place) -> None:
    first = place.make()
    await first.open()
    await first.create_team("Support", now=utcnow())
    created = await _indexes(place)
    await first.close()
    second = place.make()
    await second.open()  # on existing data and existing indexes
    try:
        assert await _indexes(place) == created
        assert [t.name for t in await second.list_teams()] == ["Support"]
    finally:
        await second.close()
    names = {name for indexes in created.values() for name in indexes}
    assert {spec.name for spec in INDEXES} <= names


async def test_the_identity_and_dedupe_indexes_are_unique_and_partial(place: Place) -> None:
    store = place.make()
    await store.open()
    await store.close()
    identity = (await place.raw["customers"].index_information())["customers_identity"]
    assert identity["unique"] is True
    assert [tuple(k) for k in identity["key"]] == [
        ("identities.kind", 1),
        ("identities.address", 1),
    ]
    assert identity["partialFilterExpression"] == {"identities.address": {"$exists": True}}
    dedupe = (await place.raw["messages"].index_information())["messages_provider"]
    assert dedupe["unique"] is True
    assert dedupe["partialFilterExpression"] == {"provider_id": {"$type": "string"}}


async def test_one_identity_can_never_belong_to_two_customers(place: Place) -> None:
    if place.backend == "mongo-mock":
        pytest.skip(
            "mongomock does not enforce a unique index on fields inside an array (multikey);"
            f" runs on a real server via {MONGO_URL_ENV}"
        )
    store = place.make()
    await store.open()
    await store.close()
    address = {"id": "idn_1", "kind": "email", "address": "a@example.com", "created_at": utcnow()}
    await place.raw["customers"].insert_one({"_id": "cus_1", "identities": [address]})
    await place.raw["customers"].insert_many([{"_id": "cus_2", "identities": []}, {"_id": "cus_3"}])
    with pytest.raises(DuplicateKeyError):
        await place.raw["customers"].insert_one(
            {"_id": "cus_4", "identities": [{**address, "id": "idn_2"}]}
        )
