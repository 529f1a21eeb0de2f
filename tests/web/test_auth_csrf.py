"""CSRF: every unsafe request a session cookie authenticates needs the session's token."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Role
from tests.conftest import build_world
from tests.web.signin import Browser, add_agent, sign_in


async def _admin(client: TestClient) -> str:
    await add_agent(client, "admin@example.org", role=Role.ADMIN)
    return await sign_in(client, "admin@example.org")


async def _team_names(client: TestClient) -> list[str]:
    return [t.name for t in await client.app[STORE_KEY].list_teams()]


async def test_form_post_without_the_token_is_403_and_changes_nothing(client: TestClient) -> None:
    await _admin(client)
    resp = await client.post("/admin/teams", data={"name": "Billing"}, allow_redirects=False)
    assert resp.status == 403
    text = await resp.text()
    assert "CSRF token" in text and "<html" in text
    assert await _team_names(client) == []


async def test_form_post_with_a_wrong_token_is_403_and_changes_nothing(
    client: TestClient,
) -> None:
    await _admin(client)
    data = {"name": "Billing", "csrf_token": "forged"}
    resp = await client.post("/admin/teams", data=data, allow_redirects=False)
    assert resp.status == 403
    assert "does not match" in await resp.text()
    assert await _team_names(client) == []


async def test_form_post_with_the_right_token_works(client: TestClient) -> None:
    csrf = await _admin(client)
    data = {"name": "Billing", "csrf_token": csrf}
    resp = await client.post("/admin/teams", data=data, allow_redirects=False)
    assert resp.status == 303
    assert await _team_names(client) == ["Billing"]


async def test_token_of_another_session_is_refused(client: TestClient) -> None:
    await _admin(client)
    async with Browser(client) as other:
        others_token = await sign_in(other, "admin@example.org")
    data = {"name": "Billing", "csrf_token": others_token}
    assert (await client.post("/admin/teams", data=data)).status == 403
    assert await _team_names(client) == []


async def test_fetch_with_a_wrong_header_gets_a_json_403(client: TestClient) -> None:
    await _admin(client)
    resp = await client.post(
        "/admin/teams", data={"name": "Billing"}, headers={"X-CSRF-Token": "nope"}
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "csrf_failed"


async def test_page_post_with_the_header_token_works(client: TestClient) -> None:
    csrf = await _admin(client)
    resp = await client.post(
        "/admin/teams",
        data={"name": "Billing"},
        headers={"X-CSRF-Token": csrf},
        allow_redirects=False,
    )
    assert resp.status == 303
    assert await _team_names(client) == ["Billing"]


# --- the JSON API with the session cookie ---------------------------------------------


async def test_api_get_works_with_the_session_cookie(client: TestClient) -> None:
    await _admin(client)
    resp = await client.get("/api/v1/me")
    assert resp.status == 200
    assert (await resp.json())["email"] == "admin@example.org"


async def test_api_post_with_the_cookie_but_no_csrf_header_is_403(client: TestClient) -> None:
    await _admin(client)
    resp = await client.post("/api/v1/inboxes", json={"name": "Shop", "channel": "api"})
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "csrf_failed"
    assert await client.app[STORE_KEY].list_inboxes() == []


async def test_api_post_with_the_cookie_and_the_csrf_header_works(client: TestClient) -> None:
    csrf = await _admin(client)
    resp = await client.post(
        "/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers={"X-CSRF-Token": csrf}
    )
    assert resp.status == 201
    assert [i.name for i in await client.app[STORE_KEY].list_inboxes()] == ["Shop"]


async def test_api_with_an_ended_session_cookie_is_401(client: TestClient) -> None:
    client.session.cookie_jar.update_cookies({"hub_session": "not-a-session"})
    resp = await client.get("/api/v1/me")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "invalid_session"


async def test_bearer_token_calls_need_no_csrf_token(client: TestClient) -> None:
    world = await build_world(client)
    resp = await client.post(
        "/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers=world.auth()
    )
    assert resp.status == 201


async def test_bearer_token_wins_over_a_session_cookie(client: TestClient) -> None:
    world = await build_world(client)
    await add_agent(client, "ada@example.org")
    await sign_in(client, "ada@example.org")  # an agent's cookie in the same jar
    resp = await client.post(
        "/api/v1/inboxes", json={"name": "Shop", "channel": "api"}, headers=world.auth()
    )
    assert resp.status == 201  # the admin's bearer token decides, without a CSRF token
