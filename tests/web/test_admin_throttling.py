"""The admin page for sign-in throttling: lists who is slowed down and clears them."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.model import Role
from tests.web.signin import Browser, add_agent, post_login, sign_in

AppClient = Callable[..., object]
WRONG = "not the password"
ATTACKER = {"X-Forwarded-For": "203.0.113.9"}
PAGE = "/admin/sign-in-throttling"


async def proxied_hub(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> TestClient:
    config = make_config(HUB_SERVER_BEHIND_PROXY="true", HUB_AUTH_LOGIN_FIRST_DELAY_SECONDS="60")
    client: TestClient = await aiohttp_client(create_app(config))  # type: ignore[assignment, misc]
    await add_agent(client, "ada@hub.test")
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    return client


async def fail_from_attacker(client: TestClient, times: int) -> None:
    async with Browser(client) as attacker:
        for _ in range(times):
            await post_login(attacker, "ada@hub.test", WRONG, headers=ATTACKER)


async def test_the_page_lists_the_throttled_account_and_address_with_their_wait(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_hub(aiohttp_client, make_config)
    await fail_from_attacker(client, 5)
    await sign_in(client, "root@hub.test")
    page = html.unescape(await (await client.get(PAGE)).text())
    assert "<td>ada@hub.test</td>" in page
    assert "<td>203.0.113.9</td>" in page
    waits = [int(w) for w in re.findall(r"(\d+) s</span>", page)]
    assert waits and all(0 < w <= 60 for w in waits)  # the pair's 60 s delay, counting down


async def test_clearing_an_account_lets_it_sign_in_again_from_the_throttled_address(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_hub(aiohttp_client, make_config)
    await fail_from_attacker(client, 5)
    async with Browser(client) as ada:
        assert (await post_login(ada, "ada@hub.test", headers=ATTACKER)).status == 429
        csrf = await sign_in(client, "root@hub.test")
        data = {"account": "ada@hub.test", "address": "", "csrf_token": csrf}
        resp = await client.post(f"{PAGE}/clear", data=data, allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (303, PAGE)
        assert (await post_login(ada, "ada@hub.test", headers=ATTACKER)).status == 303
    page = html.unescape(await (await client.get(PAGE)).text())
    assert "<td>ada@hub.test</td>" not in page


async def test_clearing_an_address_forgets_its_counts(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_hub(aiohttp_client, make_config)
    await fail_from_attacker(client, 3)
    csrf = await sign_in(client, "root@hub.test")
    data = {"account": "", "address": "203.0.113.9", "csrf_token": csrf}
    assert (await client.post(f"{PAGE}/clear", data=data, allow_redirects=False)).status == 303
    page = await (await client.get(PAGE)).text()
    assert "<td>203.0.113.9</td>" not in page


async def test_clearing_nothing_is_refused_with_a_reason(client: TestClient) -> None:
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    csrf = await sign_in(client, "root@hub.test")
    resp = await client.post(f"{PAGE}/clear", data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 422
    assert "Name an account, an address, or both." in await resp.text()


async def test_clearing_without_the_csrf_token_is_refused(client: TestClient) -> None:
    await add_agent(client, "root@hub.test", role=Role.ADMIN)
    await sign_in(client, "root@hub.test")
    data = {"account": "ada@hub.test"}
    assert (await client.post(f"{PAGE}/clear", data=data, allow_redirects=False)).status == 403


async def test_agents_may_not_see_or_clear_throttling(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    csrf = await sign_in(client, "ada@hub.test")
    assert (await client.get(PAGE, allow_redirects=False)).status == 403
    data = {"account": "ada@hub.test", "csrf_token": csrf}
    assert (await client.post(f"{PAGE}/clear", data=data, allow_redirects=False)).status == 403


async def test_clearing_a_pair_keeps_the_address_count(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_hub(aiohttp_client, make_config)
    await fail_from_attacker(client, 3)
    csrf = await sign_in(client, "root@hub.test")
    data = {"account": "ada@hub.test", "address": "203.0.113.9", "csrf_token": csrf}
    assert (await client.post(f"{PAGE}/clear", data=data, allow_redirects=False)).status == 303
    page = await (await client.get(PAGE)).text()
    assert "<td>account+address</td>" not in page
    assert "<td>address</td>" in page
