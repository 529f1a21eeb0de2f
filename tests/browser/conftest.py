"""Browser tests: playwright driving Debian's /usr/bin/chromium against a live hub.

Never `playwright install` (it downloads a browser, and there is no internet here): the
tests launch the system Chromium by path. Without it they skip with the reason, except under
CI (HUB_REQUIRE_PEERS=1), where a missing browser fails them. Screenshots go to
tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from hub.config import HubConfig

from ..conftest import peers_required

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
