"""The sign-in rate limit: per account and per address, 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import HubConfig
from hub.web.ratelimit import FailureLimiter
from tests.web.signin import add_agent, post_login

AppClient = Callable[..., object]
WRONG = "not the password"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- the limiter itself ---------------------------------------------------------------


def test_limiter_allows_until_the_budget_is_spent() -> None:
    limiter = FailureLimiter(3, 60, clock=FakeClock())
    for _ in range(2):
        limiter.fail("k")
        assert limiter.retry_after("k") is None
    limiter.fail("k")
    assert limiter.retry_after("k") == 60


def test_limiter_frees_the_key_when_the_window_moves_on() -> None:
    clock = FakeClock()
    limiter = FailureLimiter(2, 60, clock=clock)
    limiter.fail("k")
    clock.now += 30
    limiter.fail("k")
    assert limiter.retry_after("k") == 30  # the first failure leaves the window in 30 s
    clock.now += 30
    assert limiter.retry_after("k") is None


def test_limiter_keys_are_independent_and_reset_clears_one() -> None:
    limiter = FailureLimiter(1, 60, clock=FakeClock())
    limiter.fail("a")
    limiter.fail("b")
    limiter.reset("a")
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("b") is not None


# --- through the sign-in form ---------------------------------------------------------


async def test_too_many_failures_for_an_account_answer_429_with_retry_after(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    for _ in range(5):
        assert (await post_login(client, "ada@hub.test", WRONG)).status == 401
    resp = await post_login(client, "ada@hub.test", WRONG)
    assert resp.status == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 900
    assert "Too many failed sign-in attempts" in await resp.text()


async def test_a_blocked_account_is_refused_even_with_the_right_password(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    for _ in range(5):
        await post_login(client, "ada@hub.test", WRONG)
    assert (await post_login(client, "ada@hub.test")).status == 429
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_unknown_accounts_are_limited_like_real_ones(client: TestClient) -> None:
    for _ in range(5):
        assert (await post_login(client, "ghost@hub.test", WRONG)).status == 401
    assert (await post_login(client, "ghost@hub.test", WRONG)).status == 429


async def test_a_success_resets_the_account_count(client: TestClient) -> None:
    await add_agent(client, "ada@hub.test")
    for _ in range(4):
        await post_login(client, "ada@hub.test", WRONG)
    assert (await post_login(client, "ada@hub.test")).status == 303
    client.session.cookie_jar.clear()
    statuses = [(await post_login(client, "ada@hub.test", WRONG)).status for _ in range(4)]
    assert statuses == [401] * 4


async def test_too_many_failures_from_one_address_answer_429(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config(HUB_AUTH_LOGIN_MAX_FAILURES_PER_IP="3")
    client: TestClient = await aiohttp_client(create_app(config))  # type: ignore[assignment, misc]
    for n in range(3):
        assert (await post_login(client, f"user{n}@hub.test", WRONG)).status == 401
    resp = await post_login(client, "someone-else@hub.test", WRONG)
    assert resp.status == 429
    assert "Retry-After" in resp.headers


async def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config(HUB_AUTH_LOGIN_MAX_FAILURES_PER_IP="2", HUB_SERVER_BEHIND_PROXY="1")
    client: TestClient = await aiohttp_client(create_app(config))  # type: ignore[assignment, misc]
    first = {"X-Forwarded-For": "198.51.100.7"}
    for n in range(2):
        await post_login(client, f"user{n}@hub.test", WRONG, headers=first)
    assert (await post_login(client, "x@hub.test", WRONG, headers=first)).status == 429
    other = {"X-Forwarded-For": "198.51.100.8"}
    assert (await post_login(client, "x@hub.test", WRONG, headers=other)).status == 401
