"""In a real browser: an agent signs in while another address keeps failing their password."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import aiohttp

from hub.keys import STORE_KEY
from hub.model import Role, utcnow
from hub.passwords import hash_password

from .conftest import PASSWORD, ChatWorld, sign_in

ATTACKER_ADDRESS = "127.0.0.2"  # loopback too, but a different client address than Chromium's
WRONG = "not the password"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


async def keep_failing(
    base: str, email: str, statuses: list[int], stop: asyncio.Event, *, rounds: int = 0
) -> None:
    """Post wrong passwords for `email` from ATTACKER_ADDRESS until `stop` is set (at least
    `rounds` times)."""
    connector = aiohttp.TCPConnector(local_addr=(ATTACKER_ADDRESS, 0))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=jar) as session:
        while not stop.is_set() or len(statuses) < rounds:
            async with session.get("/login") as form:
                found = _TOKEN.search(await form.text())
                assert found, "the sign-in form has no csrf_token field"
            data = {"email": email, "password": WRONG, "next": "", "csrf_token": found.group(1)}
            async with session.post("/login", data=data, allow_redirects=False) as resp:
                statuses.append(resp.status)


async def test_an_agent_signs_in_while_another_address_keeps_failing_their_password(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    email = chat_world.agent_a.email
    statuses: list[int] = []
    stop = asyncio.Event()
    attack = asyncio.create_task(keep_failing(chat_world.base, email, statuses, stop))
    try:
        while len(statuses) < 12:  # well past the old lock-out (5) and the free failures
            assert not attack.done(), attack
            await asyncio.sleep(0.05)
        page = await (await browser.new_context()).new_page()
        await page.goto(chat_world.url("/login"))
        await page.fill("input[name=email]", email)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form [type=submit]")
        await page.wait_for_url(f"{chat_world.base}/inbox**", timeout=10_000)
        await page.screenshot(path=str(screenshot_dir / "sign_in_under_attack.png"))
        during = len(statuses)
        while len(statuses) < during + 3:  # the attack went on while the agent signed in
            assert not attack.done(), attack
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await attack
    assert set(statuses) <= {401, 429}
    assert 429 in statuses  # the failing address, and only it, is slowed down


async def test_an_admin_sees_the_failing_address_and_clears_it(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    await chat_world.app[STORE_KEY].create_agent(
        email="root@hub.test", name="Root", role=Role.ADMIN,
        password_hash=hash_password(PASSWORD), team_ids=[], now=utcnow(),
    )  # fmt: skip
    statuses: list[int] = []
    stop = asyncio.Event()
    stop.set()  # just the rounds: past the free failures of the pair
    await keep_failing(chat_world.base, chat_world.agent_a.email, statuses, stop, rounds=6)
    page = await (await browser.new_context()).new_page()
    await sign_in(page, chat_world, "root@hub.test")
    await page.goto(chat_world.url("/admin/sign-in-throttling"))
    row = page.locator("tr", has_text=ATTACKER_ADDRESS).filter(has_text="account+address")
    await row.wait_for()
    await page.screenshot(path=str(screenshot_dir / "sign_in_throttling_admin.png"))
    await row.get_by_role("button", name="Clear").click()
    await page.wait_for_selector(".flash", timeout=10_000)
    assert await page.locator("tr", has_text="account+address").count() == 0
