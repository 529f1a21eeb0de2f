"""Who may see what: roles, deactivation, team visibility, and the pages' headers."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Inbox, Role
from hub.web.page_guard import CONTENT_SECURITY_POLICY
from tests.conftest import build_world
from tests.web.signin import Browser, add_agent, csrf_from, post_login, sign_in


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/agents", "/admin/teams", "/admin/inboxes/new", "/admin/canned"]
)
async def test_an_agent_cannot_open_admin_pages(client: TestClient, path: str) -> None:
    await add_agent(client, "ada@hub.test", role=Role.AGENT)
    await sign_in(client, "ada@hub.test")
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 403
    assert "admin role" in await resp.text()


async def test_an_agent_cannot_post_to_admin_pages(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test", role=Role.AGENT)
    csrf = await sign_in(client, "ada@hub.test")
    resp = await client.post("/admin/teams", data={"name": "Mine", "csrf_token": csrf})
    assert resp.status == 403
    assert await client.app[STORE_KEY].list_teams() == []


async def test_the_nav_shows_admin_only_to_admins(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test", role=Role.AGENT, name="Ada")
    await sign_in(client, "ada@hub.test")
    page = await (await client.get("/inbox")).text()
    assert 'href="/admin/agents"' not in page
    assert "Ada" in page and 'action="/logout"' in page
    async with Browser(client) as admin_browser:
        await add_agent(client, "root@hub.test", role=Role.ADMIN)
        await sign_in(admin_browser, "root@hub.test")
        assert 'href="/admin/agents"' in await (await admin_browser.get("/inbox")).text()


async def test_deactivating_an_agent_ends_their_sessions_at_once(client: TestClient) -> None:
    agent = await add_agent(client, "ada@hub.test")
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    await sign_in(client, "ada@hub.test")
    async with Browser(client) as admin_browser:
        csrf = await sign_in(admin_browser, "root@hub.test")
        resp = await admin_browser.post(
            f"/admin/agents/{agent.id}",
            data={"name": "Ada", "role": "agent", "csrf_token": csrf},  # "active" unticked
            allow_redirects=False,
        )
        assert resp.status == 303
    assert (await client.get("/inbox", allow_redirects=False)).status == 303
    assert (await client.get("/api/v1/me")).status == 401
    assert (await post_login(client, "ada@hub.test")).status == 403


async def test_deactivating_an_agent_stops_their_api_token_at_once(client: TestClient) -> None:
    world = await build_world(client)
    assert (await client.get("/api/v1/me", headers=world.auth("a"))).status == 200  # cached
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    csrf = await sign_in(client, "root@hub.test")
    data = {"name": world.agent_a.name, "role": "agent", "csrf_token": csrf}
    await client.post(f"/admin/agents/{world.agent_a.id}", data=data)
    resp = await client.get("/api/v1/me", headers=world.auth("a"))
    assert resp.status == 403
    assert (await resp.json())["error"]["code"] == "agent_inactive"


def _lists(page: str, inbox: Inbox) -> bool:
    """Whether the inbox page offers this inbox in its inbox filter."""
    return f'<option value="{inbox.id}" data-testid="inbox-option"' in page


async def test_an_agent_sees_only_their_teams_inboxes(client: TestClient) -> None:
    world = await build_world(client)
    agent = await add_agent(client, "ada@hub.test", team_ids=[world.inbox_a.team_id or ""])
    await sign_in(client, agent.email)
    page = await (await client.get("/inbox")).text()
    assert _lists(page, world.inbox_a) and _lists(page, world.api_inbox)
    assert not _lists(page, world.inbox_b)


async def test_a_team_change_changes_what_the_agent_sees_at_once(client: TestClient) -> None:
    world = await build_world(client)
    team_a, team_b = world.inbox_a.team_id, world.inbox_b.team_id
    assert team_a and team_b
    agent = await add_agent(client, "ada@hub.test", team_ids=[team_a])
    await sign_in(client, agent.email)
    assert not _lists(await (await client.get("/inbox")).text(), world.inbox_b)  # now cached
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    async with Browser(client) as admin_browser:
        csrf = await sign_in(admin_browser, "root@hub.test")
        data = {
            "name": "Ada",
            "role": "agent",
            "team_ids": team_b,
            "active": "on",
            "csrf_token": csrf,
        }
        assert (await admin_browser.post(f"/admin/agents/{agent.id}", data=data)).status == 200
    page = await (await client.get("/inbox")).text()
    assert _lists(page, world.inbox_b) and not _lists(page, world.inbox_a)


async def test_moving_an_inbox_to_another_team_changes_visibility_at_once(
    client: TestClient,
) -> None:
    world = await build_world(client)
    team_a = world.inbox_a.team_id
    agent = await add_agent(client, "ada@hub.test", team_ids=[team_a or ""])
    await sign_in(client, agent.email)
    assert not _lists(await (await client.get("/inbox")).text(), world.inbox_b)
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    async with Browser(client) as admin_browser:
        csrf = await sign_in(admin_browser, "root@hub.test")
        data = {"name": "B", "team_id": team_a, "config": "{}", "csrf_token": csrf}
        await admin_browser.post(f"/admin/inboxes/{world.inbox_b.id}", data=data)
    assert _lists(await (await client.get("/inbox")).text(), world.inbox_b)


@pytest.mark.parametrize("path", ["/login", "/inbox", "/nope"])
async def test_pages_carry_the_security_headers(client: TestClient, path: str) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    resp = await client.get(path)
    assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


async def test_redirects_and_static_files_carry_the_security_headers(client: TestClient) -> None:
    redirect = await client.get("/inbox", allow_redirects=False)
    assert redirect.status == 303
    assert redirect.headers["X-Frame-Options"] == "DENY"
    static = await client.get("/static/hub.css")
    assert static.status == 200
    assert static.headers["X-Content-Type-Options"] == "nosniff"


async def test_pages_have_no_inline_script(client: TestClient) -> None:
    page = await (await client.get("/login")).text()
    assert "<script>" not in page and "onclick" not in page
    assert '<script src="/static/hub.js"' in page


async def test_unknown_page_is_an_html_404(client: TestClient) -> None:
    resp = await client.get("/no-such-page")
    assert resp.status == 404
    assert "There is no page at this address." in await resp.text()


async def test_the_page_csrf_token_is_the_sessions(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    first = csrf_from(await (await client.get("/inbox")).text())
    second = csrf_from(await (await client.get("/inbox")).text())
    assert first == second and len(first) >= 40
