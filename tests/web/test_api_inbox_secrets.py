"""Secret inbox settings through the API: never shown, replaceable by an admin, sealed at rest."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.webchat.tokens import identifier_hash
from hub.config import HubConfig
from hub.config_checks import sqlite_path
from tests.channels.webchat.conftest import connect
from tests.conftest import World

OLD_SECRET = "first-identity-secret-0123456789"
NEW_SECRET = "second-identity-secret-9876543210"


async def _create_chat(client: TestClient, world: World, **config: Any) -> dict[str, Any]:
    resp = await client.post(
        "/api/v1/inboxes",
        headers=world.auth(),
        json={"name": "Website", "channel": "webchat", "config": config},
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()  # type: ignore[no-any-return]


async def _patch(client: TestClient, world: World, inbox_id: str, body: dict[str, Any]) -> Any:
    resp = await client.patch(f"/api/v1/inboxes/{inbox_id}", headers=world.auth(), json=body)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def _listed(client: TestClient, world: World, who: str, inbox_id: str) -> dict[str, Any]:
    resp = await client.get("/api/v1/inboxes", headers=world.auth(who))
    assert resp.status == 200
    text = await resp.text()
    assert OLD_SECRET not in text and NEW_SECRET not in text and "enc:v1:" not in text
    [inbox] = [i for i in (await resp.json())["items"] if i["id"] == inbox_id]
    return inbox  # type: ignore[no-any-return]


async def _verified(client: TestClient, inbox_id: str, secret: str) -> bool:
    """Whether the web chat accepts a visitor whose identifier_hash uses `secret`."""
    chat = await connect(client, inbox_id)
    digest = identifier_hash(secret, "user-42")
    await chat.send(type="hello", identifier="user-42", identifier_hash=digest)
    frames = await chat.quiet(0.5)
    await chat.close()
    kinds = {f["type"]: f for f in frames}
    if "welcome" in kinds:
        return True
    assert kinds["error"]["code"] == "identity_unverified", frames
    return False


async def test_an_agent_listing_inboxes_sees_no_secret(client: TestClient, world: World) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET, title="Hi")
    # agent a sees teamless inboxes, this one included
    listed = await _listed(client, world, "a", created["id"])
    assert listed["config"] == {"title": "Hi"}


async def test_an_admin_sees_only_whether_a_secret_is_set(client: TestClient, world: World) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET)
    assert created["config"] == {"identity_secret": {"set": True}}
    listed = await _listed(client, world, "admin", created["id"])
    assert listed["config"] == {"identity_secret": {"set": True}}
    plain = await _create_chat(client, world)
    assert (await _listed(client, world, "admin", plain["id"]))["config"] == {
        "identity_secret": {"set": False}
    }


async def test_an_admin_patch_replaces_the_secret_the_chat_verifies_with(
    client: TestClient, world: World
) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET, require_identity=True)
    patched = await _patch(
        client,
        world,
        created["id"],
        {"config": {"identity_secret": NEW_SECRET, "require_identity": True}},
    )
    assert patched["config"]["identity_secret"] == {"set": True}
    assert await _verified(client, created["id"], NEW_SECRET)
    assert not await _verified(client, created["id"], OLD_SECRET)


async def test_a_patch_that_leaves_a_secret_out_or_echoes_its_marker_keeps_it(
    client: TestClient, world: World
) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET)
    await _patch(client, world, created["id"], {"config": {"title": "New title"}})
    listed = await _listed(client, world, "admin", created["id"])
    await _patch(client, world, created["id"], {"config": listed["config"]})  # GET, then PATCH
    assert await _verified(client, created["id"], OLD_SECRET)


async def test_a_patch_with_null_clears_the_secret(client: TestClient, world: World) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET)
    patched = await _patch(client, world, created["id"], {"config": {"identity_secret": None}})
    assert patched["config"] == {"identity_secret": {"set": False}}
    assert not await _verified(client, created["id"], OLD_SECRET)


async def test_an_agent_cannot_patch_an_inbox(client: TestClient, world: World) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET)
    resp = await client.patch(
        f"/api/v1/inboxes/{created['id']}",
        headers=world.auth("a"),
        json={"config": {"identity_secret": "attacker-chosen-secret-000"}},
    )
    assert resp.status == 403
    assert await _verified(client, created["id"], OLD_SECRET)


async def test_patch_of_a_missing_inbox_is_404(client: TestClient, world: World) -> None:
    resp = await client.patch("/api/v1/inboxes/inb_nope", headers=world.auth(), json={"name": "x"})
    assert resp.status == 404


async def test_a_malformed_secret_is_a_422_naming_it(client: TestClient, world: World) -> None:
    resp = await client.post(
        "/api/v1/inboxes",
        headers=world.auth(),
        json={"name": "W", "channel": "webchat", "config": {"identity_secret": 12345}},
    )
    assert resp.status == 422
    assert (await resp.json())["error"]["details"]["field"] == "identity_secret"


async def test_the_stored_value_is_not_plaintext(
    client: TestClient, world: World, config: HubConfig
) -> None:
    created = await _create_chat(client, world, identity_secret=OLD_SECRET)
    with sqlite3.connect(sqlite_path(config.store.url)) as db:
        [(stored,)] = db.execute("SELECT config FROM inboxes WHERE id = ?", (created["id"],))
    assert OLD_SECRET not in stored
    assert "enc:v1:" in stored


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(repr(r.args) for r in caplog.records)


async def test_creating_an_inbox_logs_no_secret(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    # aiosqlite logs each store call with its arguments at DEBUG: only ciphertext may reach it
    caplog.set_level(logging.DEBUG)
    await _create_chat(client, world, identity_secret=OLD_SECRET)
    assert OLD_SECRET not in _logged(caplog)


async def test_updating_an_inbox_logs_no_secret(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    created = await _create_chat(client, world)
    caplog.set_level(logging.DEBUG)
    await _patch(client, world, created["id"], {"config": {"identity_secret": NEW_SECRET}})
    refused = await client.patch(  # a refused edit's error names the field, not the value
        f"/api/v1/inboxes/{created['id']}",
        headers=world.auth(),
        json={"config": {"identity_secret": NEW_SECRET, "require_identity": "yes"}},
    )
    assert refused.status == 422
    assert NEW_SECRET not in await refused.text()
    assert NEW_SECRET not in _logged(caplog)
