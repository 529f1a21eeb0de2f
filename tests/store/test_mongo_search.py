"""MongoStore's search around $text: every word must match, within the inboxes, up to a limit.

mongomock has no $text, so the fake below turns a $text filter into what the server does
with one (any of the words, whole words, ignoring case) and drops the score sort. What is
tested is the store's side: the query it builds and the every-word check after it. The
contract tests of search run on a real server via HUB_TEST_MONGO_URL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from hub.model import IdentityKind, Inbound, Inbox, Message, utcnow
from hub.store.base import IngestRequest
from hub.store.mongo import MongoStore
from hub.store.mongo.search import words

from .conftest import MOCK_URL, mock_client


class _TextAsAnyWord:
    """A mock client whose messages collection answers $text as "any of the words"."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.text_queries: list[dict[str, Any]] = []

    def __getitem__(self, name: str) -> Any:
        database = self.inner[name]
        outer = self

        class Database:
            def __getitem__(self, collection: str) -> Any:
                found = database[collection]
                return _TextCollection(found, outer) if collection == "messages" else found

            async def command(self, *args: Any, **kwargs: Any) -> Any:
                return await database.command(*args, **kwargs)

        return Database()


class _TextCollection:
    def __init__(self, inner: Any, client: _TextAsAnyWord) -> None:
        self._inner, self._client = inner, client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def find(self, query: dict[str, Any], projection: Any = None, **kwargs: Any) -> Any:
        if "$text" not in query:
            return self._inner.find(query, projection, **kwargs)
        self._client.text_queries.append(query)
        rest = {k: v for k, v in query.items() if k != "$text"}
        any_word = [
            {"text": {"$regex": rf"\b{re.escape(w)}\b", "$options": "i"}}
            for w in query["$text"]["$search"].split()
        ]
        kept = {k: v for k, v in (projection or {}).items() if not isinstance(v, dict)}
        cursor = self._inner.find({**rest, "$or": any_word}, kept or None)
        return _NoScoreSort(cursor)


class _NoScoreSort:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def sort(self, keys: list[tuple[str, Any]]) -> _NoScoreSort:
        self._inner.sort([k for k in keys if not isinstance(k[1], dict)])
        return self

    def limit(self, n: int) -> _NoScoreSort:
        self._inner.limit(n)
        return self

    def batch_size(self, n: int) -> _NoScoreSort:
        return self

    def __aiter__(self) -> Any:
        return self._inner.__aiter__()

    async def close(self) -> None:
        await self._inner.close()


@pytest.fixture
async def client() -> _TextAsAnyWord:
    return _TextAsAnyWord(mock_client())


@pytest.fixture
async def store(client: _TextAsAnyWord) -> AsyncIterator[MongoStore]:
    opened = MongoStore(MOCK_URL, client=client)
    await opened.open()
    yield opened
    await opened.close()


async def _inbox(store: MongoStore, name: str) -> Inbox:
    return await store.create_inbox(
        name=name, channel="email", team_id=None, config={}, now=utcnow()
    )


async def _message(store: MongoStore, inbox: Inbox, text: str) -> Message:
    inbound = Inbound(
        channel="email",
        inbox_id=inbox.id,
        provider_id=f"p-{text}",
        sender_kind=IdentityKind.EMAIL,
        sender="a@example.com",
        text=text,
    )
    request = IngestRequest(
        inbound=inbound,
        sender="a@example.com",
        received_at=utcnow(),
        reopen_window=timedelta(days=7),
    )
    return (await store.ingest(request)).message


def test_words_ignore_case_diacritics_and_query_syntax() -> None:
    assert words('Crème BRÛLÉE "foo AND (bar*') == ["creme", "brulee", "foo", "and", "bar"]


async def test_a_message_must_hold_every_word(store: MongoStore) -> None:
    inbox = await _inbox(store, "Mail")
    both = await _message(store, inbox, "broken printer driver")
    await _message(store, inbox, "broken window")
    assert await store.search_messages("printer broken") == [both]


async def test_the_limit_counts_only_messages_that_hold_every_word(store: MongoStore) -> None:
    inbox = await _inbox(store, "Mail")
    for i in range(5):
        await _message(store, inbox, f"common only {i}")
    wanted = [await _message(store, inbox, f"common rare {i}") for i in range(3)]
    found = await store.search_messages("common rare", limit=2)
    assert len(found) == 2 and {m.id for m in found} <= {m.id for m in wanted}


async def test_search_is_restricted_to_the_given_inboxes(
    store: MongoStore, client: _TextAsAnyWord
) -> None:
    mine, theirs = await _inbox(store, "Mine"), await _inbox(store, "Theirs")
    wanted = await _message(store, mine, "shared word")
    await _message(store, theirs, "shared word too")
    assert await store.search_messages("shared", inbox_ids=[mine.id]) == [wanted]
    assert client.text_queries[-1]["inbox_id"] == {"$in": [mine.id]}


async def test_only_bare_words_reach_the_text_search(
    store: MongoStore, client: _TextAsAnyWord
) -> None:
    await _message(store, await _inbox(store, "Mail"), "foo bar")
    await store.search_messages('-foo "bar baz" (qux*')
    assert client.text_queries[-1]["$text"] == {"$search": "foo bar baz qux"}
    assert await store.search_messages('"" * ( ') == []
    assert len(client.text_queries) == 1  # a query without words never reaches the server
