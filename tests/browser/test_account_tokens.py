"""An agent manages their own API tokens in a real browser: create, see once, use, revoke."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from .conftest import ChatWorld, sign_in


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
    await page.fill("input[name=name]", "Laptop script")
    await page.fill("input[name=expires_days]", "30")
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
