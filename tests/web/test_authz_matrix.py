"""The authorization matrix: every route of the app, tried by each kind of caller, answers as
the policy says.

The routes come from the app's own route tables (the root app and the /api sub-app, channel
routes included). Each one has a row in MATRIX: the status that anonymous, an agent of team A,
an agent of team B and an admin get when the route targets a team-B object (a conversation in
team B's inbox, its message and customer, another team-B customer, a merge of two team-B
customers, a team-B inbox and agent, a canned response, a team). Every caller gets fresh
targets, so one caller's change never decides another's answer. API routes are called with
a bearer token, pages by a browser signed in through the real form, with its CSRF token.

A route without a row fails `test_every_route_has_a_row` (which prints the line to add), and
so does a row whose route is gone. Every state-changing page route is also sent by a signed-in
admin without the CSRF token: 403, and the store is unchanged.
"""

# ruff: noqa: E501  (one row per route and line: adding a route is adding a line)
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.web.csrf import UNSAFE_METHODS
from tests.conftest import World, inbound_body
from tests.web.authz_world import (
    FAST,
    Row,
    app_routes,
    check_row,
    fill,
    placeholders,
    signable_world,
    snapshot,
    targets_for,
)
from tests.web.signin import PASSWORD, Browser, sign_in

R = Row.of  # R(anonymous, agent A, agent B, admin, body=..., url=...): one row per line
NOTE = {"kind": "note", "text": "a note"}
# {placeholders} in paths and bodies are each caller's fresh targets (tests/web/authz_world.py).
# fmt: off
MATRIX: dict[tuple[str, str], Row] = {
    # --- public -----------------------------------------------------------------------------
    ("GET", "/healthz"): R(200, 200, 200, 200),
    ("GET", "/static"): R(200, 200, 200, 200, url="/static/hub.css"),
    ("GET", "/api/openapi.json"): R(200, 200, 200, 200),
    ("GET", "/api/v1/webchat/widget.js"): R(200, 200, 200, 200),
    ("GET", "/api/v1/webchat/demo"): R(200, 200, 200, 200),
    ("GET", "/api/v1/webchat/ws"): R(404, 404, 404, 404),  # no ?inbox=: no such chat
    # --- sign-in ----------------------------------------------------------------------------
    ("GET", "/login"): R(200, 303, 303, 303),  # signed in: on to the inbox
    ("POST", "/login"): R(403, 403, 403, 403),  # no sign-in cookie: the form's own CSRF check
    ("POST", "/logout"): R(303, 303, 303, 303),
    ("GET", "/ws"): R(401, 403, 403, 403),  # no Origin: refused before the handshake
    # --- API: customers (shared mode: any agent reads; writes need a visible conversation) --
    ("GET", "/api/v1/customers"): R(401, 200, 200, 200),
    ("POST", "/api/v1/customers"): R(401, 201, 201, 201, body={"name": "New {who}"}),
    ("GET", "/api/v1/customers/{customer_id}"): R(401, 200, 200, 200),
    ("PATCH", "/api/v1/customers/{customer_id}"): R(401, 403, 200, 200, body={"name": "Renamed"}),
    ("POST", "/api/v1/customers/{customer_id}/identities"): R(401, 403, 201, 201, body={"kind": "email", "address": "new-{who}@example.com"}),
    ("POST", "/api/v1/customers/{customer_id}/merge"): R(401, 403, 201, 201, body={"customer_id": "{other_customer_id}"}),
    ("POST", "/api/v1/merges/{merge_id}/undo"): R(401, 403, 200, 200),
    # --- API: conversations -----------------------------------------------------------------
    ("GET", "/api/v1/conversations"): R(401, 200, 200, 200),
    ("GET", "/api/v1/conversations/{conversation_id}"): R(401, 403, 200, 200),
    ("PATCH", "/api/v1/conversations/{conversation_id}"): R(401, 403, 200, 200, body={"status": "resolved"}),
    ("GET", "/api/v1/conversations/{conversation_id}/messages"): R(401, 403, 200, 200),
    ("POST", "/api/v1/conversations/{conversation_id}/messages"): R(401, 403, 201, 201, body=NOTE),
    ("GET", "/api/v1/search"): R(401, 200, 200, 200, body={"q": "hello"}),
    # --- API: inboxes, agents, inbound ------------------------------------------------------
    ("GET", "/api/v1/inboxes"): R(401, 200, 200, 200),
    ("POST", "/api/v1/inboxes"): R(401, 403, 403, 201, body={"name": "New", "channel": "api"}),
    ("GET", "/api/v1/agents"): R(401, 200, 200, 200),
    ("GET", "/api/v1/me"): R(401, 200, 200, 200),
    ("POST", "/api/v1/inbound"): R(401, 404, 201, 201, body=inbound_body("{inbox_id}", "{who}")),
    ("PATCH", "/api/v1/inboxes/{inbox_id}"): R(401, 403, 403, 200, body={"name": "Renamed"}),
    # --- API: tokens (an agent's own; admins any; another agent's token is 404) ----------------
    ("GET", "/api/v1/tokens"): R(401, 200, 200, 200),
    ("POST", "/api/v1/tokens"): R(401, 201, 201, 201, body={"name": "t-{who}"}),
    ("DELETE", "/api/v1/tokens/{token_id}"): R(401, 404, 200, 200),  # agent B's token
    ("POST", "/api/v1/inbound/batch"): R(401, 422, 200, 200, body={"messages": [inbound_body("{inbox_id}", "{who}")]}),
    # --- inbox pages ------------------------------------------------------------------------
    ("GET", "/"): R(303, 302, 302, 302),
    ("GET", "/inbox"): R(303, 200, 200, 200),
    ("GET", "/inbox/rows"): R(303, 200, 200, 200),
    ("GET", "/inbox/row/{conversation_id}"): R(303, 403, 204, 204),  # 204: not in the default filter
    ("GET", "/inbox/c/{conversation_id}"): R(303, 403, 200, 200),
    ("GET", "/inbox/c/{conversation_id}/earlier"): R(303, 403, 200, 200),
    ("GET", "/inbox/c/{conversation_id}/sidebar"): R(303, 403, 200, 200),
    ("GET", "/inbox/c/{conversation_id}/canned"): R(303, 403, 200, 200),
    ("GET", "/inbox/m/{message_id}"): R(303, 403, 200, 200),
    ("POST", "/inbox/c/{conversation_id}/reply"): R(401, 403, 303, 303, body={"mode": "note", "text": "a note"}),
    ("POST", "/inbox/c/{conversation_id}/status"): R(401, 403, 303, 303, body={"status": "resolved"}),
    ("POST", "/inbox/c/{conversation_id}/priority"): R(401, 403, 303, 303, body={"priority": "high"}),
    ("POST", "/inbox/c/{conversation_id}/assign"): R(401, 403, 303, 303, body={"agent_id": "", "team_id": ""}),
    ("POST", "/inbox/c/{conversation_id}/tags"): R(401, 403, 303, 303, body={"add": "vip"}),
    ("POST", "/inbox/customers/{customer_id}/attributes"): R(401, 403, 303, 303, body={"key": "plan", "value": "gold"}),
    ("POST", "/inbox/customers/{customer_id}/tags"): R(401, 403, 303, 303, body={"add": "vip"}),
    ("POST", "/inbox/customers/{customer_id}/merge"): R(401, 403, 303, 303, body={"other_id": "{other_customer_id}"}),
    ("POST", "/inbox/merges/{merge_id}/undo"): R(401, 403, 303, 303),
    # --- the agent's own pages (a token of agent B: only B may revoke it here) ------------------
    ("GET", "/account/tokens"): R(303, 200, 200, 200),
    ("POST", "/account/tokens"): R(401, 200, 200, 200, body={"token_name": "t-{who}"}),  # shown once
    ("POST", "/account/tokens/{token_id}/revoke"): R(401, 404, 303, 404),
    # --- admin pages ------------------------------------------------------------------------
    ("GET", "/admin"): R(303, 403, 403, 302),
    ("GET", "/admin/agents"): R(303, 403, 403, 200),
    ("GET", "/admin/agents/new"): R(303, 403, 403, 200),
    ("POST", "/admin/agents/new"): R(401, 403, 403, 303, body={"email": "new-{who}@hub.test", "name": "New", "role": "agent", "password": PASSWORD}),
    ("GET", "/admin/agents/{agent_id}"): R(303, 403, 403, 200),
    ("POST", "/admin/agents/{agent_id}"): R(401, 403, 403, 303, body={"name": "Renamed", "role": "agent", "team_ids": "{team_id}", "active": "on"}),
    ("POST", "/admin/agents/{agent_id}/password"): R(401, 403, 403, 303, body={"password": PASSWORD + "!", "password_again": PASSWORD + "!"}),
    ("POST", "/admin/agents/{agent_id}/tokens"): R(401, 403, 403, 200, body={"token_name": "t-{who}"}),  # shown once
    ("POST", "/admin/agents/{agent_id}/tokens/{token_id}/revoke"): R(401, 403, 403, 303),
    ("GET", "/admin/sign-in-throttling"): R(303, 403, 403, 200),
    ("POST", "/admin/sign-in-throttling/clear"): R(401, 403, 403, 303, body={"account": "b-{who}@hub.test"}),
    ("GET", "/admin/teams"): R(303, 403, 403, 200),
    ("POST", "/admin/teams"): R(401, 403, 403, 303, body={"name": "Team {who}"}),
    ("GET", "/admin/teams/{team_id}"): R(303, 403, 403, 200),
    ("POST", "/admin/teams/{team_id}"): R(401, 403, 403, 303, body={"name": "Renamed"}),
    ("POST", "/admin/teams/{team_id}/delete"): R(401, 403, 403, 303),
    ("GET", "/admin/inboxes"): R(303, 403, 403, 200),
    ("GET", "/admin/inboxes/new"): R(303, 403, 403, 200),
    ("POST", "/admin/inboxes/new"): R(401, 403, 403, 303, body={"name": "New", "channel": "api", "team_id": "{team_id}", "config": "{{}}"}),
    ("GET", "/admin/inboxes/{inbox_id}"): R(303, 403, 403, 200),
    ("POST", "/admin/inboxes/{inbox_id}"): R(401, 403, 403, 303, body={"name": "Renamed", "team_id": "{team_id}", "config": "{{}}"}),
    ("GET", "/admin/canned"): R(303, 403, 403, 200),
    ("GET", "/admin/canned/new"): R(303, 403, 403, 200),
    ("POST", "/admin/canned/new"): R(401, 403, 403, 303, body={"shortcut": "new-{who}", "title": "T", "body": "B"}),
    ("GET", "/admin/canned/{canned_id}"): R(303, 403, 403, 200),
    ("POST", "/admin/canned/{canned_id}"): R(401, 403, 403, 303, body={"shortcut": "ed-{who}", "title": "T", "body": "B"}),
    ("POST", "/admin/canned/{canned_id}/delete"): R(401, 403, 403, 303),
}
# The customer routes under `access.customers = "team"`: a customer with no conversation the
# agent can see does not exist for them (404); agent B and the admin are as in MATRIX.
TEAM_MODE: dict[tuple[str, str], Row] = {
    ("GET", "/api/v1/customers/{customer_id}"): R(401, 404, 200, 200),
    ("PATCH", "/api/v1/customers/{customer_id}"): R(401, 404, 200, 200, body={"name": "Renamed"}),
    ("POST", "/api/v1/customers/{customer_id}/identities"): R(401, 404, 201, 201, body={"kind": "email", "address": "new-{who}@example.com"}),
    ("POST", "/api/v1/customers/{customer_id}/merge"): R(401, 404, 201, 201, body={"customer_id": "{other_customer_id}"}),
    ("POST", "/api/v1/merges/{merge_id}/undo"): R(401, 404, 200, 200),
    ("POST", "/inbox/customers/{customer_id}/attributes"): R(401, 404, 303, 303, body={"key": "plan", "value": "gold"}),
    ("POST", "/inbox/customers/{customer_id}/tags"): R(401, 404, 303, 303, body={"add": "vip"}),
    ("POST", "/inbox/customers/{customer_id}/merge"): R(401, 404, 303, 303, body={"other_id": "{other_customer_id}"}),
    ("POST", "/inbox/merges/{merge_id}/undo"): R(401, 404, 303, 303),
}
# fmt: on


def _rows(matrix: dict[tuple[str, str], Row]) -> list[Any]:
    return [pytest.param(key, row, id=f"{key[0]} {key[1]}") for key, row in matrix.items()]


def _line(key: tuple[str, str]) -> str:
    method, path = key
    if path.startswith("/api/"):
        guess = "R(401, 200, 200, 200)" if method == "GET" else "R(401, 403, 201, 201, body={})"
    elif path.startswith("/admin"):
        guess = "R(303, 403, 403, 200)" if method == "GET" else "R(401, 403, 403, 303, body={})"
    else:
        guess = "R(303, 403, 200, 200)" if method == "GET" else "R(401, 403, 303, 303, body={})"
    return f'    ("{method}", "{path}"): {guess},'


async def test_every_route_has_a_row(client: TestClient) -> None:
    routes = app_routes(client.app)
    missing = sorted(routes - set(MATRIX))
    gone = sorted(set(MATRIX) - routes)
    assert not missing, (
        "routes without a row in MATRIX (tests/web/test_authz_matrix.py); add, with the"
        " statuses your policy gives (anonymous, agent A, agent B, admin on a team-B object):\n"
        + "\n".join(_line(k) for k in missing)
    )
    assert not gone, "rows in MATRIX for routes the app no longer has:\n" + "\n".join(
        f"    {k}" for k in gone
    )
    assert set(TEAM_MODE) <= routes


@pytest.fixture
def config(make_config: Callable[..., HubConfig]) -> HubConfig:
    return make_config(**FAST)


@pytest.fixture
async def world(client: TestClient) -> World:
    return await signable_world(client)


@pytest.mark.parametrize(("key", "row"), _rows(MATRIX))
async def test_route_answers_each_caller_as_the_policy_says(
    client: TestClient, world: World, key: tuple[str, str], row: Row
) -> None:
    await check_row(client, world, key, row)


@pytest.fixture
async def team_mode_client(
    aiohttp_client: Callable[..., Any], make_config: Callable[..., HubConfig]
) -> TestClient:
    config = make_config(**FAST, HUB_ACCESS_CUSTOMERS="team")
    return await aiohttp_client(create_app(config))  # type: ignore[no-any-return]


@pytest.mark.parametrize(("key", "row"), _rows(TEAM_MODE))
async def test_customer_route_in_team_mode_hides_other_teams_customers(
    team_mode_client: TestClient, key: tuple[str, str], row: Row
) -> None:
    world = await signable_world(team_mode_client)
    await check_row(team_mode_client, world, key, row)


CSRF_ROUTES = sorted(k for k in MATRIX if k[0] in UNSAFE_METHODS and not k[1].startswith("/api"))


@pytest.mark.parametrize("key", CSRF_ROUTES, ids=[f"{m} {p}" for m, p in CSRF_ROUTES])
async def test_page_write_without_the_csrf_token_is_403_and_changes_nothing(
    client: TestClient, world: World, key: tuple[str, str]
) -> None:
    template = key[1]
    row = MATRIX[key]
    targets = await targets_for(client, world, "admin", placeholders(row, template))
    url = row.url or template.format_map(targets)
    form = fill(row.body, targets) if row.body is not None else {}
    async with Browser(client) as admin:
        await sign_in(admin, "admin@hub.test")
        before = await snapshot(client)
        resp = await admin.post(url, data=form, allow_redirects=False)
        assert resp.status == 403, await resp.text()
        assert await snapshot(client) == before
