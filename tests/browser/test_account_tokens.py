"""An agent manages their own API tokens in a real browser: create, see once, use, revoke."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from hub.keys import STORE_KEY
from hub.model import Role, utcnow
from hub.passwords import hash_password

from .conftest import PASSWORD, ChatWorld, sign_in


async def _me_status(world: ChatWorld, secret: str) -> int:
    async with aiohttp.ClientSession() as http:
        resp = await http.get(
            world.url("/api/v1/me"), headers={"Authorization": f"Bearer {secret}"}
        )
        return resp.status


async def test_an_agent_creates_uses_and_revokes_their_own_token(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    page = await browser.new_page()
    await sign_in(page, chat_world, "ada@hub.test")
    await page.click("text=API tokens")
    await page.wait_for_url(f"{chat_world.base}/account/tokens")
    await page.fill("input[name=token_name]", "Laptop script")
    await page.fill("input[name=token_expires_days]", "30")
    await page.click("text=Create token")
    secret = (await page.text_content("[data-testid=issued-secret]") or "").strip()
    assert secret.startswith("hub_")
    await page.screenshot(path=str(screenshot_dir / "account-tokens.png"), full_page=True)
    assert await _me_status(chat_world, secret) == 200
    row = page.locator("[data-testid=token-table] tr", has_text="Laptop script")
    assert "never" not in (await row.locator("td").nth(3).text_content() or "")
    await row.get_by_role("button", name="Revoke Laptop script").click()
    await page.wait_for_selector("text=Token Laptop script revoked.")
    assert await page.locator("[data-testid=issued-secret]").count() == 0
    assert await _me_status(chat_world, secret) == 401


async def test_an_admin_sees_and_revokes_an_agents_token_on_the_agent_page(
    browser: Any, chat_world: ChatWorld, screenshot_dir: Path
) -> None:
    store = chat_world.app[STORE_KEY]
    await store.create_agent(
        email="root@hub.test", name="Root", role=Role.ADMIN,
        password_hash=hash_password(PASSWORD), team_ids=[], now=utcnow(),
    )  # fmt: skip
    ada = chat_world.agent_a
    await store.create_token(agent_id=ada.id, name="Zapier", token_hash="zap", now=utcnow())
    page = await browser.new_page()
    await sign_in(page, chat_world, "root@hub.test")
    await page.goto(chat_world.url(f"/admin/agents/{ada.id}"))
    await page.fill("input[name=token_name]", "CI deploys")
    await page.click("text=Create token")
    assert (await page.text_content("[data-testid=issued-secret]") or "").startswith("hub_")
    await page.screenshot(path=str(screenshot_dir / "admin-agent-tokens.png"), full_page=True)
    await page.get_by_role("button", name="Revoke Zapier").click()
    await page.wait_for_selector("text=Token Zapier revoked.")
    assert [t.name for t in await store.list_tokens(ada.id)] == ["CI deploys"]
