"""Browser tests: playwright driving Debian's /usr/bin/chromium against a live hub.

Never `playwright install` (it downloads a browser, and there is no internet here): the
tests launch the system Chromium by path. Without it they skip with the reason, except under
CI (HUB_REQUIRE_PEERS=1), where a missing browser fails them. Screenshots go to
tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hub.app import create_app
from hub.config import HubConfig
from hub.keys import STORE_KEY
from hub.model import Agent, Inbox, Role, Team, utcnow
from hub.passwords import hash_password

from ..conftest import peers_required

PASSWORD = "correct horse battery"

CHROMIUM = os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium")
HAVE_CHROMIUM = os.path.exists(CHROMIUM)  # checked once, at collection
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def _missing(reason: str) -> None:
    if peers_required():
        pytest.fail(f"{reason} (HUB_REQUIRE_PEERS=1 makes a missing peer fail; see .ci/run)")
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless system Chromium (about 0.5 s to launch)."""
    if not HAVE_CHROMIUM:
        _missing(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _missing("the playwright package is not installed")
    async with async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def live_hub(aiohttp_server: Callable[..., Any], config: HubConfig) -> Any:
    """The whole hub served on a real 127.0.0.1 port (a browser needs a URL)."""
    return await aiohttp_server(create_app(config), host="127.0.0.1")


@pytest.fixture
def screenshot_dir() -> Path:
    """Where the tests save screenshots of the inbox and the widget."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatWorld:
    """Two teams, an agent in each, a web-chat inbox of team A and an API inbox of team B."""

    base: str  # http://127.0.0.1:<port>
    app: web.Application
    team_a: Team
    team_b: Team
    agent_a: Agent
    agent_b: Agent
    chat: Inbox
    inbox_b: Inbox

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def widget_page(self) -> str:
        """The channel's demo host page, embedding the widget for the chat inbox."""
        return self.url(f"/api/v1/webchat/demo?inbox={self.chat.id}")


@pytest.fixture
async def chat_world(live_hub: Any) -> ChatWorld:
    app = live_hub.app
    store = app[STORE_KEY]
    now = utcnow()
    team_a = await store.create_team("Team A", now=now)
    team_b = await store.create_team("Team B", now=now)

    async def agent(email: str, team: Team) -> Agent:
        return await store.create_agent(
            email=email, name=email.split("@")[0].title(), role=Role.AGENT,
            password_hash=hash_password(PASSWORD), team_ids=[team.id], now=now,
        )  # fmt: skip

    chat = await store.create_inbox(
        name="Website chat", channel="webchat", team_id=team_a.id, config={}, now=now
    )
    inbox_b = await store.create_inbox(
        name="B's API", channel="api", team_id=team_b.id, config={}, now=now
    )
    return ChatWorld(
        base=str(live_hub.make_url("")).rstrip("/"), app=app, team_a=team_a, team_b=team_b,
        agent_a=await agent("ada@hub.test", team_a), agent_b=await agent("bo@hub.test", team_b),
        chat=chat, inbox_b=inbox_b,
    )  # fmt: skip


async def sign_in(page: Any, world: ChatWorld, email: str) -> None:
    """Sign in through the real login form; lands on the inbox."""
    await page.goto(world.url("/login"))
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form [type=submit]")
    await page.wait_for_url(f"{world.base}/inbox**")
