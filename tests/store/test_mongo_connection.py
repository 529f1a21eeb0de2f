"""MongoStore's connection: bounded start-up, database from the URL, credentials never logged."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.errors import ConfigError, StoreUnavailable
from hub.store import create_store
from hub.store.mongo import MongoStore
from hub.store.mongo.connection import DEFAULT_DATABASE, database_name
from hub.store.urls import redact_url

from .conftest import mock_client

SECRET = "s3cret-pw"


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _url(port: int) -> str:
    return f"mongodb://hub:{SECRET}@127.0.0.1:{port}/hub"


# --- unreachable server ----------------------------------------------------------------


async def test_an_unreachable_server_fails_open_within_the_timeout(closed_port: int) -> None:
    store = MongoStore(_url(closed_port), connect_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        await store.open()
    assert time.monotonic() - started < 5
    assert f"mongodb://***@127.0.0.1:{closed_port}/hub" in raised.value.message
    assert SECRET not in str(raised.value)


async def test_an_unreachable_server_stops_the_app_from_starting(
    aiohttp_client: Callable[..., object], make_config: Callable[..., HubConfig], closed_port: int
) -> None:
    config = make_config(HUB_STORE_URL=_url(closed_port), HUB_STORE_CONNECT_TIMEOUT_SECONDS="0.5")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="unreachable"):
        client: TestClient = await aiohttp_client(create_app(config))  # type: ignore[misc]
        await client.close()
    assert time.monotonic() - started < 5


async def test_no_log_line_of_a_failed_open_holds_the_password(
    caplog: pytest.LogCaptureFixture, closed_port: int
) -> None:
    caplog.set_level(logging.DEBUG)  # the driver's own loggers too
    with pytest.raises(StoreUnavailable):
        await MongoStore(_url(closed_port), connect_timeout=0.5).open()
    assert caplog.records
    assert not [r for r in caplog.records if SECRET in r.getMessage()]
    assert any("mongodb://***@127.0.0.1" in r.getMessage() for r in caplog.records)


async def test_the_open_log_line_names_the_redacted_url(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = MongoStore(f"mongodb://hub:{SECRET}@db.example/hub", client=mock_client())
    await store.open()
    await store.close()
    opened = [r.getMessage() for r in caplog.records if "store open" in r.getMessage()]
    assert opened == ["MongoDB store open: mongodb://***@db.example/hub (database hub)"]
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


# --- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("mongodb://db.example:27017/support", "support"),
        ("mongodb+srv://u:p@cluster.example.net/hub?retryWrites=true", "hub"),
        ("mongodb://a:1,b:2,c:3/hub?replicaSet=rs0", "hub"),
        ("mongodb://db.example", DEFAULT_DATABASE),
        ("mongodb://db.example/?replicaSet=rs0", DEFAULT_DATABASE),
    ],
)
def test_the_database_is_named_by_the_url_path(url: str, database: str) -> None:
    assert database_name(url) == database


def test_create_store_makes_a_mongo_store_with_the_connect_timeout() -> None:
    store = create_store("mongodb://db.example/hub", connect_timeout=2.5)
    assert isinstance(store, MongoStore)
    assert (store.backend, store.database, store.connect_timeout) == ("mongodb", "hub", 2.5)


async def test_a_malformed_url_is_a_config_error_without_the_password() -> None:
    store = MongoStore(f"mongodb://hub:{SECRET}@db.example:notaport/hub")
    with pytest.raises(ConfigError) as raised:
        await store.open()
    assert raised.value.key == "store.url"
    assert SECRET not in str(raised.value)


def test_a_timeout_that_is_not_positive_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        MongoStore("mongodb://db.example/hub", connect_timeout=0)


async def test_a_store_that_is_not_open_says_so() -> None:
    with pytest.raises(StoreUnavailable):
        await MongoStore("mongodb://db.example/hub").list_teams()


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("mongodb://u:pw@h/db", "mongodb://***@h/db"),
        ("mongodb://u:p@ss@h:1,h2:2/db", "mongodb://***@h:1,h2:2/db"),
        ("mongodb+srv://only-user@c.example.net/", "mongodb+srv://***@c.example.net/"),
        ("mongodb://h/db", "mongodb://h/db"),
    ],
)
def test_redact_url_hides_every_credential(url: str, safe: str) -> None:
    assert redact_url(url) == safe
