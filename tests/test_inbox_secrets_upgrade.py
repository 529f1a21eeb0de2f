"""Secrets stored in plain text by an older release are sealed at start and by `hub migrate`."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.actions import ActionContext
from hub.app import create_app
from hub.cli import main
from hub.config import HubConfig
from hub.config_checks import sqlite_path
from hub.events import EventBus
from hub.model import Inbox, utcnow
from hub.store import create_store
from tests.web.test_api_inbox_secrets import _verified

SITE_SECRET = "site-identity-secret-0123456789"


@asynccontextmanager
async def running_hub(config: HubConfig) -> AsyncIterator[TestClient]:
    """The whole app started on the config's store, then stopped (a hub restart)."""
    client = TestClient(TestServer(create_app(config), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@asynccontextmanager
async def store_of(config: HubConfig) -> AsyncIterator[ActionContext]:
    """The actions on the config's store, without the app."""
    store = create_store(config.store.url)
    await store.open()
    try:
        yield ActionContext(store=store, bus=EventBus(), config=config)
    finally:
        await store.close()


def stored_config(config: HubConfig, inbox_id: str) -> str:
    """The inbox's config column, as the SQLite file holds it."""
    with sqlite3.connect(sqlite_path(config.store.url)) as db:
        [(stored,)] = db.execute("SELECT config FROM inboxes WHERE id = ?", (inbox_id,))
    return str(stored)


async def _old_release_chat(config: HubConfig) -> Inbox:
    async with store_of(config) as ctx:  # written as the release before encryption did
        return await ctx.store.create_inbox(
            name="Old chat",
            channel="webchat",
            team_id=None,
            config={"identity_secret": SITE_SECRET, "require_identity": True},
            now=utcnow(),
        )


async def test_a_plaintext_secret_from_an_older_release_is_sealed_at_start(
    config: HubConfig,
) -> None:
    inbox = await _old_release_chat(config)
    assert SITE_SECRET in stored_config(config, inbox.id)
    async with running_hub(config) as client:
        assert SITE_SECRET not in stored_config(config, inbox.id)
        assert "enc:v1:" in stored_config(config, inbox.id)
        assert await _verified(client, inbox.id, SITE_SECRET)


def test_hub_migrate_seals_plaintext_secrets(
    config: HubConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = asyncio.run(_old_release_chat(config))
    monkeypatch.setenv("HUB_STORE_URL", config.store.url)
    assert main(["migrate"]) == 0
    assert "encrypted the secret settings of 1 inbox" in capsys.readouterr().out
    assert SITE_SECRET not in stored_config(config, inbox.id)
