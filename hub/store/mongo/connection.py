"""The MongoDB connection under MongoStore: bounded connect, indexes, and in-flight tracking."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from pymongo import AsyncMongoClient
from pymongo.errors import ConfigurationError, PyMongoError

from hub.errors import ConfigError, StoreUnavailable
from hub.store.base import RecordKind
from hub.store.mongo.errors import reason_of, translated, unavailable
from hub.store.mongo.merges import resume_unfinished
from hub.store.mongo.records import collection_of
from hub.store.mongo.schema import (
    Collections,
    collections_of,
    ensure_indexes,
    read_schema_version,
    record_schema_version,
)
from hub.store.urls import redact_url

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "contact_hub"
DEFAULT_CONNECT_TIMEOUT = 5.0

P = ParamSpec("P")
T = TypeVar("T")


def database_name(url: str) -> str:
    """The database a mongodb:// URL names in its path (DEFAULT_DATABASE when none)."""
    path = unquote(urlsplit(url).path).strip("/")
    return path or DEFAULT_DATABASE


class MongoConnection:
    """Owns the client (or borrows an injected one) and runs store jobs on the collections.

    An injected client (tests pass a mock) belongs to the caller: close() leaves it open.
    """

    backend = "mongodb"

    def __init__(
        self,
        url: str,
        *,
        client: Any | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        if connect_timeout <= 0:
            raise ConfigError(
                "store.connect_timeout_seconds", f"must be > 0, got {connect_timeout}"
            )
        self.url = url
        self.database = database_name(url)
        self.connect_timeout = connect_timeout
        self._injected = client
        self._client: Any | None = None
        self._cols: Collections | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def _new_client(self) -> Any:
        timeout_ms = max(1, int(self.connect_timeout * 1000))
        try:
            return AsyncMongoClient(
                self.url,
                tz_aware=True,  # dates come back as aware UTC, as hub.model wants them
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                appname="contact-hub",
            )
        except (ConfigurationError, ValueError) as exc:  # InvalidURI; a bad port is a ValueError
            raise ConfigError("store.url", reason_of(exc, self.url)) from exc

    async def _reach(self, client: Any) -> None:
        """Fail within the connect timeout (plus slack) if the server cannot be reached."""
        try:
            await asyncio.wait_for(
                client[self.database].command("ping"), timeout=self.connect_timeout + 5
            )
        except PyMongoError as exc:
            log.error(
                "cannot reach MongoDB at %s: %s", redact_url(self.url), reason_of(exc, self.url)
            )
            raise unavailable(exc, self.url) from exc
        except TimeoutError as exc:
            log.error("cannot reach MongoDB at %s: no answer", redact_url(self.url))
            raise StoreUnavailable(
                f"MongoDB at {redact_url(self.url)} did not answer within"
                f" {self.connect_timeout:g}s",
                url=redact_url(self.url),
            ) from exc

    async def open(self) -> None:
        """Connect (bounded by connect_timeout), create indexes, finish interrupted merges."""
        client = self._injected if self._injected is not None else self._new_client()
        try:
            await self._reach(client)
            cols = collections_of(client[self.database])
            async with translated(self.url):
                await ensure_indexes(cols)
                await record_schema_version(cols)
                finished = await resume_unfinished(cols)
        except BaseException:
            if self._injected is None:
                await client.close()
            raise
        if finished:
            log.warning("finished %d merge(s) interrupted by a crash", finished)
        self._client, self._cols = client, cols
        log.info("MongoDB store open: %s (database %s)", redact_url(self.url), self.database)

    async def close(self) -> None:
        """Wait for operations already started, then disconnect."""
        await self._idle.wait()
        client, self._client, self._cols = self._client, None, None
        if client is not None and self._injected is None:
            await client.close()

    async def run(
        self,
        job: Callable[Concatenate[Collections, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run one store job on the collections, tracked (close waits for it) and translated."""
        if self._cols is None:
            raise StoreUnavailable("the MongoDB store is not open")
        self._in_flight += 1
        self._idle.clear()
        try:
            async with translated(self.url):
                return await job(self._cols, *args, **kwargs)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def schema_version(self) -> int:
        """The layout version recorded in the database."""
        return await self.run(read_schema_version)

    async def counts(self) -> dict[str, int]:
        """One count per RecordKind value, plus live_customers."""
        return await self.run(_counts)


async def _counts(cols: Collections) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind in RecordKind:
        if kind is RecordKind.IDENTITIES:
            sizes = await cols.customers.aggregate(
                [
                    {"$project": {"n": {"$size": {"$ifNull": ["$identities", []]}}}},
                    {"$group": {"_id": None, "total": {"$sum": "$n"}}},
                ]
            )
            totals = await sizes.to_list()
            out[kind.value] = int(totals[0]["total"]) if totals else 0
        else:
            out[kind.value] = await collection_of(cols, kind).count_documents({})
    out["live_customers"] = await cols.customers.count_documents({"merged_into": None})
    return out
