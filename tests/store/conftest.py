"""Fixtures for the Store contract suite: every test runs once per backend in BACKENDS.

The suite speaks only the `Store` protocol and `hub.model`, so a new backend joins by adding
one entry to BACKENDS: an async context manager that, given the test's tmp_path, yields a
factory of new, unopened stores on one fresh, empty data set (two stores from the same
factory see the same data, which the reopen tests rely on) and cleans up afterwards.

`mongo-mock` runs MongoStore on pymongo-async-mock (mongomock under the AsyncMongoClient
API) everywhere. `mongo` runs it on a real server, and is a backend only when
HUB_TEST_MONGO_URL is set (a unique database per test, dropped afterwards); without it the
suite does not list ~250 skips, and test_mongo_server.py says in one skip that it did not run.
A contract test the mock cannot run is listed in MOCK_GAPS with the exact reason, and is
skipped on the mock only.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import ConnectionFailure
from pymongo_async_mock import AsyncMongoMockClient

from hub.model import (
    Agent,
    Attachment,
    IdentityKind,
    Inbound,
    Inbox,
    IngestResult,
    Role,
    ThreadHints,
    utcnow,
)
from hub.store import Store, create_store
from hub.store.base import IngestRequest
from hub.store.mongo import MongoStore

StoreFactory = Callable[[], Store]
Backend = Callable[[Path], AbstractAsyncContextManager[StoreFactory]]

Clock = Callable[[], datetime]

REOPEN_WINDOW = timedelta(days=7)


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[StoreFactory]:
    url = f"sqlite:///{tmp_path}/hub.db"
    yield lambda: create_store(url)


MONGO_URL_ENV = "HUB_TEST_MONGO_URL"
MOCK_URL = "mongodb://mock.invalid/contact_hub_test"


def mock_client() -> Any:
    """A fresh, empty pymongo-async-mock client (dates come back aware, like the real one)."""
    return AsyncMongoMockClient(tz_aware=True)


@asynccontextmanager
async def mongo_mock_backend(tmp_path: Path) -> AsyncIterator[StoreFactory]:
    client = mock_client()  # one per test: every store from this factory sees the same data
    yield lambda: MongoStore(MOCK_URL, client=client)


def with_database(url: str, database: str) -> str:
    """The URL with its path (the database name) replaced."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@asynccontextmanager
async def mongo_backend(tmp_path: Path) -> AsyncIterator[StoreFactory]:
    url = os.environ[MONGO_URL_ENV]
    database = f"hub_test_{uuid.uuid4().hex[:16]}"
    test_url = with_database(url, database)
    try:
        yield lambda: create_store(test_url)
    finally:
        admin: Any = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
        await admin.drop_database(database)
        await admin.close()


BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
    "mongo-mock": mongo_mock_backend,
}
if os.environ.get(MONGO_URL_ENV):
    BACKENDS["mongo"] = mongo_backend

_NO_TEXT = (
    "pymongo-async-mock has no $text search (mongomock raises NotImplementedError);"
    f" runs on a real server via {MONGO_URL_ENV}"
)

# Contract tests that cannot run on the mock, by test function, with the exact reason.
MOCK_GAPS: dict[str, str] = {
    "test_search_finds_a_message_by_a_word": _NO_TEXT,
    "test_search_ignores_case": _NO_TEXT,
    "test_search_needs_every_word": _NO_TEXT,
    "test_search_without_a_match_is_empty": _NO_TEXT,
    "test_search_with_query_syntax_characters_does_not_raise": _NO_TEXT,
    "test_search_matches_words_even_inside_query_syntax": _NO_TEXT,
    "test_search_restricted_to_inboxes_skips_other_inboxes": _NO_TEXT,
    "test_search_respects_the_limit": _NO_TEXT,
    "test_reads_on_the_target_equal_the_source": _NO_TEXT,
    "test_reimporting_a_changed_message_keeps_search_right": _NO_TEXT,
}


def skip_where_the_mock_cannot(request: pytest.FixtureRequest, backend: str) -> None:
    """Skip a test listed in MOCK_GAPS, on the mock only (it still runs everywhere else)."""
    if backend == "mongo-mock" and request.function.__name__ in MOCK_GAPS:
        pytest.skip(MOCK_GAPS[request.function.__name__])


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Makes new, unopened stores on this test's (initially empty) data."""
    skip_where_the_mock_cannot(request, request.param)
    async with BACKENDS[request.param](tmp_path) as factory:
        yield factory


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[Store]:
    """An open store on empty data."""
    opened = store_factory()
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> Clock:
    """Strictly increasing times one second apart, starting at the current time."""
    start = utcnow()
    ticks = itertools.count()
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
async def inbox(store: Store) -> Inbox:
    """An email inbox without a team."""
    return await store.create_inbox(
        name="Support", channel="email", team_id=None, config={}, now=utcnow()
    )


@pytest.fixture
async def agent(store: Store) -> Agent:
    return await store.create_agent(
        email="ada@example.com",
        name="Ada",
        role=Role.AGENT,
        password_hash=None,
        team_ids=(),
        now=utcnow(),
    )


InboundBuilder = Callable[..., Inbound]
IngestHelper = Callable[..., Awaitable[IngestResult]]


@pytest.fixture
def inbound(inbox: Inbox) -> InboundBuilder:
    """Builds an Inbound for `inbox` (or `to=` another inbox) with a fresh provider id."""
    serial = itertools.count(1)

    def build(
        *,
        to: Inbox | None = None,
        channel: str | None = None,
        provider_id: str | None = None,
        sender: str = "alice@example.com",
        sender_kind: IdentityKind = IdentityKind.EMAIL,
        sender_name: str | None = None,
        text: str | None = "hello",
        html: str | None = None,
        subject: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        message_key: str | None = None,
        references: tuple[str, ...] = (),
        sent_at: datetime | None = None,
    ) -> Inbound:
        target = to or inbox
        return Inbound(
            channel=channel or target.channel,
            inbox_id=target.id,
            provider_id=provider_id or f"pid-{next(serial)}",
            sender_kind=sender_kind,
            sender=sender,
            sender_name=sender_name,
            text=text,
            html=html,
            subject=subject,
            attachments=attachments,
            thread=ThreadHints(message_key=message_key, references=references),
            sent_at=sent_at,
        )

    return build


@pytest.fixture
def ingest(store: Store, inbound: InboundBuilder) -> IngestHelper:
    """Ingests `message` (or one built from the keyword arguments) at `at` (default: now).

    The builder's senders are already normalised, so the request's sender is the raw one.
    """

    async def run(
        message: Inbound | None = None,
        *,
        at: datetime | None = None,
        reopen_window: timedelta = REOPEN_WINDOW,
        **fields: Any,
    ) -> IngestResult:
        built = message if message is not None else inbound(**fields)
        request = IngestRequest(
            inbound=built,
            sender=built.sender,
            received_at=at if at is not None else utcnow(),
            reopen_window=reopen_window,
        )
        return await store.ingest(request)

    return run


# --- MongoDB harness: the mock, made to interleave like a server ------------------------


class SimulatedCrash(ConnectionFailure):
    """A fault injected by InterleavingClient: the process "dies" at this call."""


class InterleavingClient:
    """A mock client whose every call yields to the event loop first, as a round trip would.

    pymongo-async-mock answers without ever suspending, so concurrent store calls on it run
    one after another and no race can happen. Through this wrapper they interleave between
    their reads and writes, as they would against a server. `crash_at` names calls
    (collection, method) to fail once each with SimulatedCrash, to stop a write half-way.
    """

    def __init__(self, inner: Any, *, crash_at: Sequence[tuple[str, str]] = ()) -> None:
        self.inner = inner
        self.crash_at = list(crash_at)

    def __getitem__(self, name: str) -> _InterleavingDatabase:
        return _InterleavingDatabase(self, self.inner[name])

    async def maybe_crash(self, collection: str, method: str) -> None:
        await asyncio.sleep(0)
        if (collection, method) in self.crash_at:
            self.crash_at.remove((collection, method))
            raise SimulatedCrash(f"simulated crash at {collection}.{method}")


class _InterleavingDatabase:
    def __init__(self, client: InterleavingClient, inner: Any) -> None:
        self._client, self._inner = client, inner

    def __getitem__(self, name: str) -> _InterleavingCollection:
        return _InterleavingCollection(self._client, self._inner[name], name)

    async def command(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0)
        return await self._inner.command(*args, **kwargs)


class _InterleavingCollection:
    def __init__(self, client: InterleavingClient, inner: Any, name: str) -> None:
        self._client, self._inner, self._name = client, inner, name

    def find(self, *args: Any, **kwargs: Any) -> _InterleavingCursor:
        return _InterleavingCursor(self._client, self._inner.find(*args, **kwargs))

    def __getattr__(self, method: str) -> Any:
        call = getattr(self._inner, method)
        if not inspect.iscoroutinefunction(call):
            return call

        async def interleaved(*args: Any, **kwargs: Any) -> Any:
            await self._client.maybe_crash(self._name, method)
            return await call(*args, **kwargs)

        return interleaved


class _InterleavingCursor:
    def __init__(self, client: InterleavingClient, inner: Any) -> None:
        self._client, self._inner = client, inner

    def __getattr__(self, method: str) -> Any:
        chained = getattr(self._inner, method)

        def chain(*args: Any, **kwargs: Any) -> _InterleavingCursor:
            chained(*args, **kwargs)
            return self

        return chain

    async def to_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        await asyncio.sleep(0)
        return list(await self._inner.to_list(*args, **kwargs))
