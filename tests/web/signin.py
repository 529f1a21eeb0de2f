"""Helpers for the page tests: agents with passwords, signing in through the real form.

admin = await add_agent(client, "admin@hub.test", role=Role.ADMIN)
csrf = await sign_in(client, "admin@hub.test")        # the session's CSRF token
async with Browser(client) as other:                  # a second browser (cookie jar)
    await sign_in(other, "agent@hub.test")
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol

import aiohttp
from aiohttp.test_utils import TestClient

from hub.keys import STORE_KEY
from hub.model import Agent, Role, utcnow
from hub.passwords import hash_password

PASSWORD = "correct horse battery"
_META = re.compile(r'<meta name="csrf-token" content="([^"]*)"')


class Client(Protocol):
    """What TestClient and Browser share."""

    async def get(self, path: str, **kwargs: Any) -> Any: ...

    async def post(self, path: str, **kwargs: Any) -> Any: ...


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (its csrf-token meta tag)."""
    found = _META.search(html)
    assert found, "the page has no csrf-token meta tag"
    return found.group(1)


async def add_agent(
    client: TestClient,
    email: str,
    *,
    role: Role = Role.AGENT,
    team_ids: Sequence[str] = (),
    name: str | None = None,
    password: str | None = PASSWORD,
) -> Agent:
    """An agent created straight in the app's store, with a password."""
    return await client.app[STORE_KEY].create_agent(
        email=email,
        name=name or email.split("@")[0].title(),
        role=role,
        password_hash=hash_password(password) if password else None,
        team_ids=team_ids,
        now=utcnow(),
    )


async def login_token(client: Client) -> str:
    """Open the sign-in form; returns its CSRF token (its cookie is now in the jar)."""
    resp = await client.get("/login")
    assert resp.status == 200
    return csrf_from(await resp.text())


async def post_login(
    client: Client, email: str, password: str = PASSWORD, *, next_url: str = "", **kw: Any
) -> Any:
    """Submit the sign-in form as a browser would (fresh form token, no redirect follow)."""
    token = await login_token(client)
    data = {"email": email, "password": password, "next": next_url, "csrf_token": token}
    return await client.post("/login", data=data, allow_redirects=False, **kw)


async def sign_in(client: Client, email: str, password: str = PASSWORD) -> str:
    """Sign in; returns the session's CSRF token (as the inbox page carries it)."""
    resp = await post_login(client, email, password)
    assert resp.status == 303, await resp.text()
    page = await client.get("/inbox")
    assert page.status == 200
    return csrf_from(await page.text())


class Browser:
    """A second browser on the same test server: its own cookie jar."""

    def __init__(self, client: TestClient) -> None:
        self._client = client
        self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._session.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        resp = await self._session.request(method, self._client.make_url(path), **kwargs)
        await resp.read()  # read now, so the connection is free and text() works later
        return resp

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self._request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self._request("POST", path, **kwargs)
