"""The inbox page tests run on tests/web/inbox_world.py's world, with manual routing (no
auto-assignment), so each test decides who holds which conversation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from hub.config import HubConfig
from tests.conftest import World
from tests.web.inbox_world import MANUAL_ROUTING, inbox_world


@pytest.fixture
def config(make_config: Callable[..., HubConfig]) -> HubConfig:
    return make_config(**MANUAL_ROUTING)


@pytest.fixture
async def world(client: TestClient) -> World:
    return await inbox_world(client)
