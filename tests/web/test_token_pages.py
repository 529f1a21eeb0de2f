"""Token pages: the admin's agent page and an agent's own /account/tokens, through real forms."""

from __future__ import annotations

import html
import re

from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Agent, Role, utcnow
from hub.store import Store
from tests.web.signin import Browser, add_agent, sign_in

_SECRET = re.compile(r'data-testid="issued-secret">(hub_[^<]+)<')


def _secret(page: str) -> str:
    found = _SECRET.search(page)
    assert found, "the page shows no new token"
    return html.unescape(found.group(1))


async def _token(store: Store, agent: Agent, name: str = "old") -> str:
    token = await store.create_token(agent_id=agent.id, name=name, token_hash=name, now=utcnow())
    return token.id


async def _me(client: TestClient, secret: str) -> int:
    resp = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    return resp.status


# --- the admin's agent page --------------------------------------------------------------


async def test_admin_agent_page_lists_the_agents_tokens(client: TestClient) -> None:
    store = client.app[STORE_KEY]
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    token_id = await _token(store, bob, "CI deploys")
    await sign_in(client, "root@hub.test")
    page = await (await client.get(f"/admin/agents/{bob.id}")).text()
    assert "CI deploys" in page and f'data-token-id="{token_id}"' in page
    assert "never" in page and "active" in page


async def test_admin_creates_a_token_for_an_agent_and_sees_it_once(client: TestClient) -> None:
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "root@hub.test")
    resp = await client.post(
        f"/admin/agents/{bob.id}/tokens",
        data={"token_name": "Zapier", "token_expires_days": "30", "csrf_token": csrf},
    )
    assert resp.status == 200
    secret = _secret(await resp.text())
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert (await me.json())["id"] == bob.id
    again = await (await client.get(f"/admin/agents/{bob.id}")).text()
    assert "Zapier" in again and secret not in again


async def test_admin_revokes_an_agents_token_from_the_page(client: TestClient) -> None:
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "root@hub.test")
    resp = await client.post(
        f"/admin/agents/{bob.id}/tokens", data={"token_name": "CI", "csrf_token": csrf}
    )
    secret = _secret(await resp.text())
    assert await _me(client, secret) == 200  # now cached by this process's lookups
    token_id = (await client.app[STORE_KEY].list_tokens(bob.id))[0].id
    resp = await client.post(
        f"/admin/agents/{bob.id}/tokens/{token_id}/revoke",
        data={"csrf_token": csrf},
        allow_redirects=False,
    )
    assert (resp.status, resp.headers["Location"]) == (303, f"/admin/agents/{bob.id}")
    assert await _me(client, secret) == 401


async def test_admin_token_revoke_is_refused_without_the_csrf_token_only(
    client: TestClient,
) -> None:
    store = client.app[STORE_KEY]
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    token_id = await _token(store, bob)
    csrf = await sign_in(client, "root@hub.test")
    url = f"/admin/agents/{bob.id}/tokens/{token_id}/revoke"
    resp = await client.post(url, data={})
    assert resp.status == 403
    assert [t.id for t in await store.list_tokens(bob.id)] == [token_id]
    resp = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert await store.list_tokens(bob.id) == []


async def test_admin_token_create_is_refused_without_the_csrf_token_only(
    client: TestClient,
) -> None:
    store = client.app[STORE_KEY]
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "root@hub.test")
    url = f"/admin/agents/{bob.id}/tokens"
    resp = await client.post(url, data={"token_name": "x"})
    assert resp.status == 403
    assert await store.list_tokens(bob.id) == []
    assert (await client.post(url, data={"token_name": "x", "csrf_token": csrf})).status == 200
    assert [t.name for t in await store.list_tokens(bob.id)] == ["x"]


async def test_admin_token_form_without_a_name_is_422_with_the_reason(
    client: TestClient,
) -> None:
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    bob = await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "root@hub.test")
    resp = await client.post(
        f"/admin/agents/{bob.id}/tokens",
        data={"token_name": " ", "token_expires_days": "0", "csrf_token": csrf},
    )
    assert resp.status == 422
    page = await resp.text()
    assert "must not be empty" in page and "number of days" in page
    assert 'data-testid="issued-secret"' not in page


# --- an agent's own tokens -----------------------------------------------------------------


async def test_an_agent_creates_and_lists_their_own_token(client: TestClient) -> None:
    await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "bob@hub.test")
    resp = await client.post("/account/tokens", data={"token_name": "laptop", "csrf_token": csrf})
    assert resp.status == 200
    secret = _secret(await resp.text())
    assert await _me(client, secret) == 200
    page = await (await client.get("/account/tokens")).text()
    assert "laptop" in page and secret not in page


async def test_an_agent_revokes_their_own_token(client: TestClient) -> None:
    store = client.app[STORE_KEY]
    bob = await add_agent(client, "bob@hub.test")
    token_id = await _token(store, bob)
    csrf = await sign_in(client, "bob@hub.test")
    resp = await client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert (resp.status, resp.headers["Location"]) == (303, "/account/tokens")
    assert await store.list_tokens(bob.id) == []


async def test_own_token_revoke_is_refused_with_a_wrong_csrf_token_only(
    client: TestClient,
) -> None:
    store = client.app[STORE_KEY]
    bob = await add_agent(client, "bob@hub.test")
    token_id = await _token(store, bob)
    csrf = await sign_in(client, "bob@hub.test")
    url = f"/account/tokens/{token_id}/revoke"
    resp = await client.post(url, data={"csrf_token": "forged"})
    assert resp.status == 403
    assert len(await store.list_tokens(bob.id)) == 1
    resp = await client.post(url, data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert await store.list_tokens(bob.id) == []


async def test_own_token_create_is_refused_without_the_csrf_token_only(
    client: TestClient,
) -> None:
    store = client.app[STORE_KEY]
    bob = await add_agent(client, "bob@hub.test")
    csrf = await sign_in(client, "bob@hub.test")
    resp = await client.post("/account/tokens", data={"token_name": "x"})
    assert resp.status == 403
    assert await store.list_tokens(bob.id) == []
    assert (await client.post("/account/tokens", data={"token_name": "x", "csrf_token": csrf})).ok
    assert [t.name for t in await store.list_tokens(bob.id)] == ["x"]


async def test_an_agent_cannot_revoke_another_agents_token_from_their_page(
    client: TestClient,
) -> None:
    store = client.app[STORE_KEY]
    await add_agent(client, "bob@hub.test")
    ann = await add_agent(client, "ann@hub.test")
    token_id = await _token(store, ann)
    csrf = await sign_in(client, "bob@hub.test")
    resp = await client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert resp.status == 404
    assert "no live token" in await resp.text()
    assert len(await store.list_tokens(ann.id)) == 1


async def test_own_tokens_page_shows_only_ones_own_tokens(client: TestClient) -> None:
    store = client.app[STORE_KEY]
    bob = await add_agent(client, "bob@hub.test")
    ann = await add_agent(client, "ann@hub.test")
    await _token(store, bob, "bobs-token")
    await _token(store, ann, "anns-token")
    await sign_in(client, "bob@hub.test")
    page = await (await client.get("/account/tokens")).text()
    assert "bobs-token" in page and "anns-token" not in page


async def test_own_tokens_page_sends_anonymous_visitors_to_sign_in(client: TestClient) -> None:
    resp = await client.get("/account/tokens", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_an_agent_cannot_open_the_admin_token_routes(client: TestClient) -> None:
    store = client.app[STORE_KEY]
    bob = await add_agent(client, "bob@hub.test")
    token_id = await _token(store, bob)
    async with Browser(client) as other:
        csrf = await sign_in(other, "bob@hub.test")
        resp = await other.post(
            f"/admin/agents/{bob.id}/tokens/{token_id}/revoke", data={"csrf_token": csrf}
        )
        assert resp.status == 403
