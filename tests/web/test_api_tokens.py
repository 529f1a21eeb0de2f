"""API tokens over the API: expiry, revocation, listing, ownership and last use."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from hub.config import HubConfig
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import utcnow
from tests.conftest import World
from tests.web.signin import add_agent, sign_in


async def _create(client: TestClient, world: World, who: str = "a", **body: object) -> dict:
    resp = await client.post("/api/v1/tokens", headers=world.auth(who), json={"name": "CI", **body})
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def test_create_answers_201_with_the_secret_and_its_metadata(
    client: TestClient, world: World
) -> None:
    created = await _create(client, world, expires_in_days=7)
    assert created["secret"].startswith("hub_")
    assert created["name"] == "CI" and created["agent_id"] == world.agent_a.id
    expires = datetime.fromisoformat(created["expires_at"])
    assert timedelta(days=6) < expires - utcnow() <= timedelta(days=7)
    resp = await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    assert resp.status == 200


async def test_an_expired_token_is_refused_with_401_token_expired(
    client: TestClient, world: World
) -> None:
    created = await _create(client, world, expires_in_days=1)
    client.app[ACTIONS_KEY].clock = lambda: utcnow() + timedelta(days=1, seconds=1)
    resp = await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "token_expired"


async def test_an_expiry_in_the_past_is_422(client: TestClient, world: World) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    resp = await client.post(
        "/api/v1/tokens", headers=world.auth("a"), json={"name": "x", "expires_at": past}
    )
    assert resp.status == 422
    assert (await resp.json())["error"]["details"]["field"] == "expires_at"


async def test_both_expiry_forms_at_once_are_422(client: TestClient, world: World) -> None:
    later = (utcnow() + timedelta(days=2)).isoformat()
    resp = await client.post(
        "/api/v1/tokens",
        headers=world.auth("a"),
        json={"name": "x", "expires_at": later, "expires_in_days": 2},
    )
    assert resp.status == 422


async def test_a_revoked_token_stops_working_at_once(client: TestClient, world: World) -> None:
    created = await _create(client, world)
    assert (await client.get("/api/v1/me", headers=_bearer(created["secret"]))).status == 200
    resp = await client.delete(f"/api/v1/tokens/{created['id']}", headers=world.auth("a"))
    assert resp.status == 200
    assert (await resp.json())["revoked_at"] is not None
    resp = await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_token"


async def test_list_shows_name_times_and_expiry_but_no_hash_or_secret(
    client: TestClient, world: World
) -> None:
    created = await _create(client, world, expires_in_days=30)
    resp = await client.get("/api/v1/tokens", headers=world.auth("a"))
    assert resp.status == 200
    items = (await resp.json())["items"]
    mine = next(t for t in items if t["id"] == created["id"])
    assert mine["name"] == "CI"
    assert mine["created_at"] == created["created_at"]
    assert mine["expires_at"] == created["expires_at"]
    assert "last_used_at" in mine
    raw = await resp.text()
    assert "token_hash" not in raw and "secret" not in raw
    assert created["secret"] not in raw and world.tokens["a"] not in raw


async def test_an_agent_lists_only_their_own_tokens(client: TestClient, world: World) -> None:
    resp = await client.get("/api/v1/tokens", headers=world.auth("a"))
    assert {t["agent_id"] for t in (await resp.json())["items"]} == {world.agent_a.id}


async def test_a_non_admin_cannot_list_another_agents_tokens(
    client: TestClient, world: World
) -> None:
    resp = await client.get(
        "/api/v1/tokens", params={"agent_id": world.agent_b.id}, headers=world.auth("a")
    )
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "agent_not_found"


async def test_an_admin_lists_another_agents_tokens(client: TestClient, world: World) -> None:
    resp = await client.get(
        "/api/v1/tokens", params={"agent_id": world.agent_b.id}, headers=world.auth("admin")
    )
    assert resp.status == 200
    assert [t["agent_id"] for t in (await resp.json())["items"]] == [world.agent_b.id]


async def test_a_non_admin_cannot_revoke_another_agents_token(
    client: TestClient, world: World
) -> None:
    theirs = await _create(client, world, who="b")
    resp = await client.delete(f"/api/v1/tokens/{theirs['id']}", headers=world.auth("a"))
    assert resp.status == 404
    assert (await client.get("/api/v1/me", headers=_bearer(theirs["secret"]))).status == 200


async def test_an_admin_revokes_another_agents_token(client: TestClient, world: World) -> None:
    theirs = await _create(client, world, who="b")
    resp = await client.delete(f"/api/v1/tokens/{theirs['id']}", headers=world.auth("admin"))
    assert resp.status == 200
    assert (await client.get("/api/v1/me", headers=_bearer(theirs["secret"]))).status == 401


async def test_revoking_an_unknown_or_revoked_token_is_404(
    client: TestClient, world: World
) -> None:
    created = await _create(client, world)
    await client.delete(f"/api/v1/tokens/{created['id']}", headers=world.auth("a"))
    again = await client.delete(f"/api/v1/tokens/{created['id']}", headers=world.auth("a"))
    assert again.status == 404
    unknown = await client.delete("/api/v1/tokens/tok_nope", headers=world.auth("a"))
    assert unknown.status == 404


async def test_last_used_at_moves_after_use(client: TestClient, world: World) -> None:
    created = await _create(client, world)
    assert created["last_used_at"] is None
    await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    stored = await client.app[STORE_KEY].get_token(created["id"])
    assert stored is not None and stored.last_used_at is not None
    first = stored.last_used_at
    later = utcnow() + timedelta(minutes=2)
    client.app[ACTIONS_KEY].clock = lambda: later
    await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    stored = await client.app[STORE_KEY].get_token(created["id"])
    assert stored is not None and stored.last_used_at is not None
    assert stored.last_used_at > first


async def test_last_used_at_is_written_at_most_once_a_minute(
    client: TestClient, world: World
) -> None:
    created = await _create(client, world)
    await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    store = client.app[STORE_KEY]
    first = (await store.get_token(created["id"])).last_used_at  # type: ignore[union-attr]
    client.app[ACTIONS_KEY].clock = lambda: utcnow() + timedelta(seconds=30)
    await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    assert (await store.get_token(created["id"])).last_used_at == first  # type: ignore[union-attr]


async def test_a_failed_last_used_write_is_logged_and_the_request_still_served(
    client: TestClient, world: World, config: HubConfig, caplog: pytest.LogCaptureFixture
) -> None:
    created = await _create(client, world)
    # a real store refusing the write: a trigger aborts every update of api_tokens
    db = sqlite3.connect(config.store.url.removeprefix("sqlite:///"))
    db.execute(
        "CREATE TRIGGER no_touch BEFORE UPDATE ON api_tokens"
        " BEGIN SELECT RAISE(ABORT, 'read-only for the test'); END"
    )
    db.commit()
    db.close()
    with caplog.at_level(logging.ERROR, logger="hub.web.middleware"):
        resp = await client.get("/api/v1/me", headers=_bearer(created["secret"]))
    assert resp.status == 200
    assert f"could not record the use of token {created['id']}" in caplog.text
    assert created["secret"] not in caplog.text


async def test_expiry_in_days_written_as_a_whole_float_is_accepted(
    client: TestClient, world: World
) -> None:
    resp = await client.post(
        "/api/v1/tokens", json={"name": "ci", "expires_in_days": 1.0}, headers=world.auth("a")
    )
    assert resp.status == 201, await resp.text()


async def test_an_expiring_token_cannot_create_a_token_that_never_expires(
    client: TestClient, world: World
) -> None:
    day = await _create(client, world, expires_in_days=1)
    resp = await client.post(
        "/api/v1/tokens", headers=_bearer(day["secret"]), json={"name": "forever"}
    )
    assert resp.status == 403, await resp.text()
    error = (await resp.json())["error"]
    assert error["code"] == "token_outlives_caller"
    assert error["details"]["latest_expires_at"] in error["message"]
    assert datetime.fromisoformat(error["details"]["latest_expires_at"]) == datetime.fromisoformat(
        day["expires_at"]
    )
    names = {
        t["name"]
        for t in (await (await client.get("/api/v1/tokens", headers=world.auth("a"))).json())[
            "items"
        ]
    }
    assert "forever" not in names


async def test_an_expiring_token_cannot_create_a_token_that_expires_later(
    client: TestClient, world: World
) -> None:
    day = await _create(client, world, expires_in_days=1)
    resp = await client.post(
        "/api/v1/tokens",
        headers=_bearer(day["secret"]),
        json={"name": "longer", "expires_in_days": 2},
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "token_outlives_caller"


async def test_an_expiring_token_creates_a_token_that_expires_no_later(
    client: TestClient, world: World
) -> None:
    day = await _create(client, world, expires_in_days=2)
    resp = await client.post(
        "/api/v1/tokens",
        headers=_bearer(day["secret"]),
        json={"name": "shorter", "expires_in_days": 1},
    )
    assert resp.status == 201, await resp.text()
    same = await client.post(
        "/api/v1/tokens",
        headers=_bearer(day["secret"]),
        json={"name": "same", "expires_at": day["expires_at"]},
    )
    assert same.status == 201, await same.text()


async def test_an_expiring_token_cannot_revoke_the_owners_longer_lived_token(
    client: TestClient, world: World
) -> None:
    forever = await _create(client, world)
    day = await _create(client, world, expires_in_days=1)
    resp = await client.delete(f"/api/v1/tokens/{forever['id']}", headers=_bearer(day["secret"]))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "token_outlives_caller"
    assert (await client.get("/api/v1/me", headers=_bearer(forever["secret"]))).status == 200


async def test_an_expiring_token_revokes_itself_and_shorter_lived_tokens(
    client: TestClient, world: World
) -> None:
    week = await _create(client, world, expires_in_days=7)
    day = await _create(client, world, expires_in_days=1)
    shorter = await client.delete(f"/api/v1/tokens/{day['id']}", headers=_bearer(week["secret"]))
    assert shorter.status == 200, await shorter.text()
    itself = await client.delete(f"/api/v1/tokens/{week['id']}", headers=_bearer(week["secret"]))
    assert itself.status == 200, await itself.text()


@pytest.mark.parametrize(
    "name", ["ok\u001b[2J\u001b[31mFAKE\u001b[0m", "nul\u0000byte", "evil\u202etxt.exe", "c1\u009b"]
)
async def test_a_token_name_with_control_or_bidi_characters_is_422(
    client: TestClient, world: World, name: str
) -> None:
    resp = await client.post("/api/v1/tokens", headers=world.auth("a"), json={"name": name})
    assert resp.status == 422, await resp.text()
    error = (await resp.json())["error"]
    assert error["details"]["field"] == "name"
    assert "control or format character" in error["message"]


async def test_a_token_name_with_a_zero_width_joiner_is_accepted(
    client: TestClient, world: World
) -> None:
    # Persian needs U+200C (ZWNJ): it is a format character, but moves no text
    created = await _create(client, world, name="\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")
    assert "\u200c" in created["name"]


async def test_a_session_cookie_caller_still_creates_a_token_that_never_expires(
    client: TestClient,
) -> None:
    await add_agent(client, "sam@hub.test")
    csrf = await sign_in(client, "sam@hub.test")
    resp = await client.post(
        "/api/v1/tokens", json={"name": "forever"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["expires_at"] is None
