"""Signing in and out through the real pages: passwords, cookies, redirects, expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.demo import seed_demo
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import Role, utcnow
from hub.web.auth import BAD_LOGIN, safe_next
from tests.web.signin import PASSWORD, add_agent, login_token, post_login, sign_in

AppClient = Callable[..., object]


def session_cookie_header(resp: ClientResponse) -> str:
    headers = resp.headers.getall("Set-Cookie", [])
    [cookie] = [h for h in headers if h.startswith("hub_session=")]
    return str(cookie)


async def test_anonymous_page_request_redirects_to_login_with_next(client: TestClient) -> None:
    resp = await client.get("/admin/teams?x=1", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/login?next=/admin/teams?x%3D1"


async def test_root_redirects_to_the_inbox(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/inbox"


async def test_login_with_the_right_password_signs_in_and_goes_to_next(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test", name="Ada")
    resp = await post_login(client, "Ada@Hub.test", next_url="/inbox?tab=mine")
    assert resp.status == 303
    assert resp.headers["Location"] == "/inbox?tab=mine"
    page = await client.get("/inbox")
    assert page.status == 200
    assert "Ada" in await page.text()


async def test_login_with_a_wrong_password_is_refused(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    resp = await post_login(client, "ada@hub.test", "wrong password!")
    assert resp.status == 401
    assert BAD_LOGIN in await resp.text()
    assert not [h for h in resp.headers.getall("Set-Cookie", []) if "hub_session=" in h]
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    wrong = await post_login(client, "ada@hub.test", "wrong password!")
    unknown = await post_login(client, "nobody@hub.test", "wrong password!")
    assert unknown.status == wrong.status == 401
    assert BAD_LOGIN in await unknown.text()
    assert (await unknown.text()).replace("nobody@", "ada@") == await wrong.text()


async def test_agent_without_a_password_cannot_sign_in(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test", password=None)
    resp = await post_login(client, "ada@hub.test", "")
    assert resp.status == 401


async def test_deactivated_agent_cannot_sign_in(client: TestClient) -> None:
    agent = await add_agent(client, "ada@hub.test")
    await client.app[STORE_KEY].update_agent(agent.id, active=False)
    resp = await post_login(client, "ada@hub.test")
    assert resp.status == 403
    assert "deactivated" in await resp.text()
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\tevil",
        "inbox",
    ],
)
async def test_login_refuses_an_open_redirect(client: TestClient, target: str) -> None:
    await add_agent(client, "ada@hub.test")
    resp = await post_login(client, "ada@hub.test", next_url=target)
    assert resp.status == 303
    assert resp.headers["Location"] == "/inbox"


def test_safe_next_keeps_a_local_path_with_its_query() -> None:
    assert safe_next("/admin/agents?x=1#top") == "/admin/agents?x=1#top"


async def test_session_cookie_is_httponly_samesite_lax_path_root(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    cookie = session_cookie_header(await post_login(client, "ada@hub.test")).lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie  # plain http, no trusted proxy


async def test_session_cookie_is_secure_behind_a_trusted_https_proxy(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client: TestClient = await aiohttp_client(  # type: ignore[assignment, misc]
        create_app(make_config(HUB_SERVER_BEHIND_PROXY="true"))
    )
    await add_agent(client, "ada@hub.test")
    headers = {"X-Forwarded-Proto": "https"}
    resp = await post_login(client, "ada@hub.test", headers=headers)
    assert "; secure" in session_cookie_header(resp).lower()


async def test_forwarded_proto_is_ignored_without_a_trusted_proxy(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    resp = await post_login(client, "ada@hub.test", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in session_cookie_header(resp).lower()


async def test_logout_ends_the_session_server_side(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    csrf = await sign_in(client, "ada@hub.test")
    old_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"]
    resp = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/login?signed_out=1"
    # replaying the old cookie (as a thief would) no longer works
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"hub_session": old_cookie.value})
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_logout_without_the_csrf_token_is_refused(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    resp = await client.post("/logout", data={}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/inbox")).status == 200


async def test_signing_in_again_replaces_the_old_session(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    form_token = await login_token(client)  # a second tab still shows the sign-in form
    await sign_in(client, "ada@hub.test")
    old = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"].value
    data = {"email": "ada@hub.test", "password": PASSWORD, "csrf_token": form_token}
    assert (await client.post("/login", data=data, allow_redirects=False)).status == 303
    new = client.session.cookie_jar.filter_cookies(client.make_url("/"))["hub_session"].value
    assert new != old
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"hub_session": old})
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_login_form_post_without_its_cookie_is_refused(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    token = await login_token(client)
    client.session.cookie_jar.clear()
    data = {"email": "ada@hub.test", "password": PASSWORD, "csrf_token": token}
    resp = await client.post("/login", data=data, allow_redirects=False)
    assert resp.status == 403
    assert "cookie" in await resp.text()


async def test_session_ends_after_the_idle_timeout(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    idle = client.app[ACTIONS_KEY].config.auth.session_idle_seconds
    client.app[ACTIONS_KEY].clock = lambda: utcnow() + timedelta(seconds=idle + 1)
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_activity_keeps_the_session_alive_past_the_idle_timeout(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    idle = client.app[ACTIONS_KEY].config.auth.session_idle_seconds
    start = utcnow()
    for step in (0.6, 1.2):  # a request every 0.6 idle periods: 1.2 periods after sign-in
        client.app[ACTIONS_KEY].clock = lambda s=step: start + timedelta(seconds=idle * s)
        assert (await client.get("/inbox", allow_redirects=False)).status == 200


async def test_session_ends_at_its_absolute_expiry(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    await sign_in(client, "ada@hub.test")
    lifetime = client.app[ACTIONS_KEY].config.auth.session_lifetime_seconds
    client.app[ACTIONS_KEY].clock = lambda: utcnow() + timedelta(seconds=lifetime + 1)
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_signed_in_agent_visiting_login_goes_on(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test", role=Role.ADMIN)
    await sign_in(client, "ada@hub.test")
    resp = await client.get("/login?next=/admin/teams", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/admin/teams"


async def test_the_demo_admin_signs_in_with_the_printed_password(client: TestClient) -> None:
    login = await seed_demo(
        client.app[ACTIONS_KEY], admin_email="admin@demo.test", admin_name="Demo", password=None
    )
    resp = await post_login(client, login.email, login.password, next_url="/admin/inboxes")
    assert resp.status == 303
    page = await (await client.get("/admin/inboxes")).text()
    assert "Website chat" in page  # the demo's web-chat inbox
