"""Auth, health, error shapes, and the OpenAPI document matching the routes."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import World


async def test_healthz_answers_with_the_store(client: TestClient) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json())["store"] == "sqlite"


@pytest.mark.parametrize(
    ("header", "code"),
    [(None, "unauthorized"), ("Basic abc", "unauthorized"), ("Bearer hub_wrong", "invalid_token")],
)
async def test_api_without_a_valid_token_is_401_with_reason(
    client: TestClient, world: World, header: str | None, code: str
) -> None:
    headers = {"Authorization": header} if header else {}
    resp = await client.get("/api/v1/conversations", headers=headers)
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == code


async def test_admin_only_route_is_403_for_an_agent(client: TestClient, world: World) -> None:
    resp = await client.post(
        "/api/v1/inboxes", headers=world.auth("a"), json={"name": "x", "channel": "api"}
    )
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "admin_only"


async def test_unknown_route_and_method_are_json_errors(client: TestClient, world: World) -> None:
    resp = await client.get("/api/v1/nothing", headers=world.auth())
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"
    resp = await client.delete("/api/v1/conversations", headers=world.auth())
    assert resp.status == 405
    assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_openapi_lists_exactly_the_registered_routes(client: TestClient) -> None:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    [api] = [
        r.get_info()["app"] for r in client.app.router.resources() if "app" in r.get_info()
    ]  # the /api sub-app as mounted, channel routes included
    registered = {
        (route.method, resource.canonical)
        for resource in api.router.resources()
        for route in resource
        if resource.canonical.startswith("/api/v1") and route.method != "HEAD"
    }
    assert ("POST", "/api/v1/inbound") in registered
    assert documented == registered
    for path_item in doc["paths"].values():
        for op in path_item.values():
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                assert ref in doc["components"]["schemas"]
    assert "password_hash" not in doc["components"]["schemas"]["Agent"]["properties"]


async def test_me_never_shows_the_password_hash(client: TestClient, world: World) -> None:
    resp = await client.get("/api/v1/me", headers=world.auth())
    body = await resp.json()
    assert body["email"] == "admin@hub.test"
    assert "password_hash" not in body
