"""Sign-in throttling: growing delays per account+address and per address, never a lock-out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from multidict import CIMultiDict

from hub.app import create_app
from hub.config import AuthConfig, HubConfig, load_config
from hub.keys import CONFIG_KEY
from hub.web.auth import account_key, client_ip
from hub.web.ratelimit import LOGIN_THROTTLE_KEY, DelayPolicy, FailureTable, LoginThrottle
from tests.web.signin import add_agent, login_token, post_login

AppClient = Callable[..., object]
WRONG = "not the password"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def throttle(clock: FakeClock, **settings: int | float) -> LoginThrottle:
    return LoginThrottle.from_config(AuthConfig(**settings), clock=clock)  # type: ignore[arg-type]


def fail(t: LoginThrottle, times: int, *, account: str = "ada", address: str = "x") -> None:
    for _ in range(times):
        t.failed(account=account, address=address)


# --- the limiter itself ---------------------------------------------------------------


def test_delay_is_free_then_doubles_per_failure_up_to_the_cap() -> None:
    policy = DelayPolicy(free_failures=3, first_delay=1.0, max_delay=10.0)
    assert [policy.delay(n) for n in range(8)] == [0, 0, 0, 1, 2, 4, 8, 10]


def test_a_pair_waits_longer_after_each_failure_past_the_free_ones() -> None:
    clock = FakeClock()
    t = throttle(clock, login_free_failures=2, login_first_delay_seconds=5)
    waits = []
    for _ in range(4):
        t.failed(account="ada", address="x")
        waits.append(t.retry_after(account="ada", address="x"))
        clock.now += 1000  # past any wait, so each failure is a fresh try
    assert waits == [None, 5, 10, 20]


def test_the_wait_counts_down_from_the_last_failure() -> None:
    clock = FakeClock()
    t = throttle(clock, login_free_failures=1, login_first_delay_seconds=10)
    fail(t, 1)
    clock.now += 4
    assert t.retry_after(account="ada", address="x") == 6
    clock.now += 6
    assert t.retry_after(account="ada", address="x") is None


def test_the_delay_stops_growing_at_the_cap() -> None:
    clock = FakeClock()
    t = throttle(clock, login_free_failures=1, login_max_delay_seconds=60)
    fail(t, 500)
    assert t.retry_after(account="ada", address="x") == 60


def test_a_success_clears_that_pair_but_not_other_addresses() -> None:
    t = throttle(FakeClock(), login_free_failures=1)
    fail(t, 3, address="x")
    fail(t, 3, address="y")
    t.succeeded(account="ada", address="x")
    assert t.retry_after(account="ada", address="x") is None
    assert t.retry_after(account="ada", address="y") is not None


def test_a_success_does_not_clear_the_address_count() -> None:
    t = throttle(FakeClock(), login_free_failures_per_address=3)
    for n in range(3):
        t.failed(account=f"user{n}", address="x")
    t.failed(account="attacker-own-account", address="x")  # counted before the check...
    t.succeeded(account="attacker-own-account", address="x")  # ...and only that refunded
    assert t.retry_after(account="ada", address="x") is not None


def test_an_address_that_has_not_failed_is_never_delayed_by_other_addresses() -> None:
    t = throttle(FakeClock())
    for n in range(200):
        fail(t, 50, address=f"10.0.{n // 250}.{n % 250}")
    assert t.retry_after(account="ada", address="192.0.2.1") is None


def test_the_account_delay_slows_only_addresses_that_failed_on_that_account() -> None:
    t = throttle(FakeClock(), login_free_failures_per_account=3, login_max_account_delay_seconds=30)
    for n in range(10):
        fail(t, 1, address=f"bot{n}")  # one failure each: no pair or address delay yet
    assert t.retry_after(account="ada", address="bot0") == 30
    assert t.retry_after(account="ada", address="fresh") is None


def test_an_account_delay_cap_of_zero_turns_it_off() -> None:
    t = throttle(FakeClock(), login_max_account_delay_seconds=0)
    for n in range(100):
        fail(t, 1, address=f"bot{n}")
    assert t.retry_after(account="ada", address="bot0") is None


def test_failures_are_forgotten_after_the_configured_time() -> None:
    clock = FakeClock()
    t = throttle(clock, login_max_delay_seconds=60, login_forget_after_seconds=600)
    fail(t, 10)
    clock.now += 601
    t.failed(account="ada", address="x")
    assert t.by_pair.count(("ada", "x")) == 1


def test_a_table_is_bounded_by_dropping_the_least_recently_used_key() -> None:
    policy = DelayPolicy(free_failures=1, first_delay=1, max_delay=1)
    table: FailureTable[str] = FailureTable(policy, forget_after=60, clock=FakeClock(), max_keys=3)
    for key in "abcd":
        table.fail(key)
    assert [key for key, _ in table.items()] == ["b", "c", "d"]


def test_clearing_an_account_clears_its_pairs_from_every_address() -> None:
    t = throttle(FakeClock(), login_free_failures=1, login_free_failures_per_address=100)
    fail(t, 3, address="x")
    fail(t, 3, address="y")
    fail(t, 3, account="bob", address="x")
    t.clear_account("ada")
    assert {(r.scope, r.account) for r in t.throttled() if r.scope != "address"} == {
        ("account+address", "bob"),
        ("account", "bob"),
    }


def test_clearing_an_address_clears_it_and_its_pairs() -> None:
    t = throttle(FakeClock(), login_free_failures=1, login_free_failures_per_address=1)
    fail(t, 3, address="x")
    fail(t, 3, address="y")
    t.clear_address("x")
    assert t.retry_after(account="ada", address="x") is None
    assert {r.address for r in t.throttled() if r.address} == {"y"}


# --- through the sign-in form ---------------------------------------------------------


def proxied(address: str) -> dict[str, str]:
    """Headers a trusted proxy would add for a client at `address`."""
    return {"X-Forwarded-For": address}


async def proxied_client(aiohttp_client: AppClient, config: HubConfig) -> TestClient:
    return await aiohttp_client(create_app(config))  # type: ignore[no-any-return, misc]


async def test_twenty_failures_from_one_address_do_not_stop_the_right_password_from_another(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_client(aiohttp_client, make_config(HUB_SERVER_BEHIND_PROXY="true"))
    await add_agent(client, "ada@hub.test")
    for _ in range(20):
        resp = await post_login(client, "ada@hub.test", WRONG, headers=proxied("203.0.113.9"))
        assert resp.status in (401, 429)
    resp = await post_login(client, "ada@hub.test", headers=proxied("198.51.100.7"))
    assert resp.status == 303
    assert resp.headers["Location"] == "/inbox"


async def test_past_the_free_failures_the_form_answers_429_with_an_honest_retry_after(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config(HUB_AUTH_LOGIN_FIRST_DELAY_SECONDS="90")
    client = await proxied_client(aiohttp_client, config)
    await add_agent(client, "ada@hub.test")
    for _ in range(5):
        assert (await post_login(client, "ada@hub.test", WRONG)).status == 401
    resp = await post_login(client, "ada@hub.test", WRONG)
    assert resp.status == 429
    assert 80 <= int(resp.headers["Retry-After"]) <= 90  # counting down from the 5th failure
    assert "Try again in 2 minutes." in await resp.text()


async def test_the_wait_grows_with_each_failure_after_it_ends(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config()
    app = create_app(config)
    clock = FakeClock()
    app[LOGIN_THROTTLE_KEY] = LoginThrottle.from_config(config.auth, clock=clock)
    client: TestClient = await aiohttp_client(app)  # type: ignore[assignment, misc]
    waits = []
    for _ in range(8):
        resp = await post_login(client, "ghost@hub.test", WRONG)
        if resp.status == 429:
            waits.append(int(resp.headers["Retry-After"]))
            clock.now += waits[-1]
            assert (await post_login(client, "ghost@hub.test", WRONG)).status == 401
    assert waits == [1, 2, 4]


async def test_a_burst_of_parallel_guesses_gets_no_more_than_the_free_failures(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    token = await login_token(client)
    data = {"email": "ada@hub.test", "password": WRONG, "next": "", "csrf_token": token}
    burst = [client.post("/login", data=data, allow_redirects=False) for _ in range(30)]
    statuses = sorted(resp.status for resp in await asyncio.gather(*burst))
    assert statuses == [401] * 5 + [429] * 25


async def test_while_delayed_even_the_right_password_from_that_address_waits(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    for _ in range(5):
        await post_login(client, "ada@hub.test", WRONG)
    assert (await post_login(client, "ada@hub.test")).status == 429
    assert (await client.get("/inbox", allow_redirects=False)).status == 303


async def test_unknown_accounts_are_throttled_like_real_ones(client: TestClient) -> None:
    for _ in range(5):
        assert (await post_login(client, "ghost@hub.test", WRONG)).status == 401
    assert (await post_login(client, "ghost@hub.test", WRONG)).status == 429


async def test_a_success_clears_the_count_of_that_account_and_address(
    client: TestClient,
) -> None:
    await add_agent(client, "ada@hub.test")
    for _ in range(4):
        await post_login(client, "ada@hub.test", WRONG)
    assert (await post_login(client, "ada@hub.test")).status == 303
    client.session.cookie_jar.clear()
    statuses = [(await post_login(client, "ada@hub.test", WRONG)).status for _ in range(4)]
    assert statuses == [401] * 4


async def test_many_failures_from_one_address_delay_that_address_for_any_account(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config(HUB_AUTH_LOGIN_FREE_FAILURES_PER_ADDRESS="3")
    client = await proxied_client(aiohttp_client, config)
    for n in range(3):
        assert (await post_login(client, f"user{n}@hub.test", WRONG)).status == 401
    resp = await post_login(client, "someone-else@hub.test", WRONG)
    assert resp.status == 429
    assert "Retry-After" in resp.headers


async def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    config = make_config(HUB_AUTH_LOGIN_FREE_FAILURES_PER_ADDRESS="2", HUB_SERVER_BEHIND_PROXY="1")
    client = await proxied_client(aiohttp_client, config)
    for n in range(2):
        await post_login(client, f"user{n}@hub.test", WRONG, headers=proxied("198.51.100.7"))
    resp = await post_login(client, "x@hub.test", WRONG, headers=proxied("198.51.100.7"))
    assert resp.status == 429
    resp = await post_login(client, "x@hub.test", WRONG, headers=proxied("198.51.100.8"))
    assert resp.status == 401


def _request_from(headers: list[tuple[str, str]], *, behind_proxy: bool) -> web.Request:
    app = web.Application()
    app[CONFIG_KEY] = load_config(
        files=[], env={"HUB_SERVER_BEHIND_PROXY": "true" if behind_proxy else "false"}
    )
    return make_mocked_request("POST", "/login", headers=CIMultiDict(headers), app=app)


def test_behind_a_proxy_the_last_hop_of_the_last_forwarded_line_counts() -> None:
    # HAProxy-style: the proxy adds a line of its own after the client's forged one
    forged = [("X-Forwarded-For", "203.0.113.50"), ("X-Forwarded-For", "198.51.100.66")]
    assert client_ip(_request_from(forged, behind_proxy=True)) == "198.51.100.66"
    merged = [("X-Forwarded-For", "203.0.113.50, 198.51.100.66")]
    assert client_ip(_request_from(merged, behind_proxy=True)) == "198.51.100.66"


def test_a_forwarded_hop_that_is_no_ip_address_is_not_trusted() -> None:
    junk = [("X-Forwarded-For", "x" * 7000)]
    peer = client_ip(_request_from([], behind_proxy=False))  # the connection's own address
    assert client_ip(_request_from(junk, behind_proxy=True)) == peer
    assert client_ip(_request_from(junk, behind_proxy=False)) == peer


def test_a_huge_typed_email_is_kept_as_a_short_key() -> None:
    key = account_key("é" * 5000 + "@example.com")
    assert len(key) <= 320
    assert key == account_key("é" * 5000 + "@example.com")
    assert account_key("Ada@Hub.test") == "ada@hub.test"


async def test_a_forged_forwarded_line_cannot_lock_out_the_address_it_names(
    aiohttp_client: AppClient, make_config: Callable[..., HubConfig]
) -> None:
    client = await proxied_client(aiohttp_client, make_config(HUB_SERVER_BEHIND_PROXY="true"))
    await add_agent(client, "ada@hub.test")
    victim, attacker = "203.0.113.50", "198.51.100.66"
    forged = CIMultiDict([("X-Forwarded-For", victim), ("X-Forwarded-For", attacker)])
    for _ in range(12):
        resp = await post_login(client, "ada@hub.test", WRONG, headers=forged)
        assert resp.status in (401, 429)
    resp = await post_login(client, "ada@hub.test", headers=proxied(victim))
    assert resp.status == 303
