"""Auth, health, error shapes, and the OpenAPI document matching the routes."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import World, inbound_body


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


async def test_a_405_names_the_allowed_methods(client: TestClient, world: World) -> None:
    resp = await client.delete("/api/v1/customers", headers=world.auth())
    assert resp.status == 405
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == {"GET", "POST"}
    assert (await resp.json())["error"]["code"] == "method_not_allowed"


async def test_a_page_405_names_the_allowed_methods_too(client: TestClient) -> None:
    resp = await client.delete("/inbox")
    assert resp.status == 405
    assert "GET" in {m.strip() for m in resp.headers["Allow"].split(",")}


async def test_openapi_marks_a_query_models_required_fields_required(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert params["q"]["required"] is True
    assert params["limit"]["required"] is False


async def test_search_without_words_is_422_naming_q(client: TestClient, world: World) -> None:
    for query in ("", "?q=%20%20"):
        resp = await client.get(f"/api/v1/search{query}", headers=world.auth())
        assert resp.status == 422
        assert (await resp.json())["error"]["details"]["problems"][0]["field"] == "q"


async def test_openapi_documents_the_inbound_replay_status(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    responses = doc["paths"]["/api/v1/inbound"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)


@pytest.mark.parametrize(
    "value", ["123456789012345678901234567890", "1e400", "[1, -9223372036854775809]"]
)
async def test_customer_attributes_a_store_cannot_hold_are_422_not_500(
    client: TestClient, world: World, value: str
) -> None:
    resp = await client.post(
        "/api/v1/customers",
        data=f'{{"attributes": {{"n": {value}}}}}',
        headers={**world.auth(), "Content-Type": "application/json"},
    )
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["error"]["details"]["problems"][0]["field"] == "attributes"


async def test_an_attachment_size_written_as_a_whole_float_is_accepted(
    client: TestClient, world: World
) -> None:
    body = inbound_body(
        world.api_inbox.id,
        "size-1",
        attachments=[{"filename": "a.pdf", "content_type": "application/pdf", "size": 1.0}],
    )
    resp = await client.post("/api/v1/inbound", json=body, headers=world.auth())
    assert resp.status == 201, await resp.text()


@pytest.mark.parametrize("value", ["18446744073709551616", "1e400"])
async def test_inbox_settings_a_store_cannot_hold_are_422_not_500(
    client: TestClient, world: World, value: str
) -> None:
    resp = await client.post(
        "/api/v1/inboxes",
        data=f'{{"name": "Big", "channel": "api", "config": {{"n": {value}}}}}',
        headers={**world.auth(), "Content-Type": "application/json"},
    )
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["error"]["details"]["problems"][0]["field"] == "config"
