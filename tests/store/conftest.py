"""Fixtures for the Store contract suite: every test runs once per backend in BACKENDS.

The suite speaks only the `Store` protocol and `hub.model`, so a new backend joins by adding
one entry to BACKENDS: an async context manager that, given the test's tmp_path, yields a
factory of new, unopened stores on one fresh, empty data set (two stores from the same
factory see the same data, which the reopen tests rely on) and cleans up afterwards. A
backend that needs a server (MongoDB at HUB_TEST_MONGO_URL) calls pytest.skip() in its
context manager when the server is not configured.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

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

StoreFactory = Callable[[], Store]
Backend = Callable[[Path], AbstractAsyncContextManager[StoreFactory]]

Clock = Callable[[], datetime]

REOPEN_WINDOW = timedelta(days=7)


@asynccontextmanager
async def sqlite_backend(tmp_path: Path) -> AsyncIterator[StoreFactory]:
    url = f"sqlite:///{tmp_path}/hub.db"
    yield lambda: create_store(url)


BACKENDS: dict[str, Backend] = {
    "sqlite": sqlite_backend,
}


@pytest.fixture(params=list(BACKENDS), ids=list(BACKENDS))
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Makes new, unopened stores on this test's (initially empty) data."""
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
