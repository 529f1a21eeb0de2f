"""Helpers for the inbox page and agent socket tests.

    world = await inbox_world(client)        # tests.conftest's World; everyone can sign in
    result = await ingest(client, world.inbox_a, sender="kari@example.com", text="hi")
    page = await Page.open(client, f"/inbox/c/{result.conversation.id}")

Agents sign in with tests.web.signin.PASSWORD: admin@hub.test (admin, teams A and B),
a@hub.test (team A) and b@hub.test (team B). Inboxes: API (no team), A and B.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from hub.actions import do_ingest
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import IdentityKind, Inbound, Inbox, IngestResult, new_id, utcnow
from hub.passwords import hash_password
from tests.conftest import World, build_world
from tests.web.signin import PASSWORD, Browser, Client

MANUAL_ROUTING = {"HUB_ROUTING_POLICY": "manual"}


def strictly_increasing_clock() -> Callable[[], datetime]:
    """The current time, but at least 1 ms after the previous reading: messages written in
    one test keep their order (the store orders by time, then by a random-suffixed id)."""
    last = utcnow()

    def now() -> datetime:
        nonlocal last
        last = max(utcnow(), last + timedelta(milliseconds=1))
        return last

    return now


async def inbox_world(client: TestClient) -> World:
    """tests.conftest's world, with passwords so that every agent can sign in (and a clock
    that never repeats a millisecond)."""
    client.app[ACTIONS_KEY].clock = strictly_increasing_clock()
    world = await build_world(client)
    store = client.app[STORE_KEY]
    for agent in (world.admin, world.agent_a, world.agent_b):
        await store.update_agent(agent.id, password_hash=hash_password(PASSWORD))
    return world


async def make_inbox(client: TestClient, name: str, channel: str, team_id: str | None) -> Inbox:
    """Another inbox, e.g. of the email or sms channel."""
    return await client.app[STORE_KEY].create_inbox(
        name=name, channel=channel, team_id=team_id, config={}, now=utcnow()
    )


async def ingest(
    client: TestClient,
    inbox: Inbox,
    *,
    sender: str = "customer@example.com",
    kind: IdentityKind = IdentityKind.EMAIL,
    text: str | None = "hello",
    html: str | None = None,
    name: str | None = None,
    subject: str | None = None,
    **extra: Any,
) -> IngestResult:
    """One customer message through the real ingest action."""
    inbound = Inbound(
        channel=inbox.channel,
        inbox_id=inbox.id,
        provider_id=new_id("p"),
        sender_kind=kind,
        sender=sender,
        sender_name=name,
        text=text,
        html=html,
        subject=subject,
        **extra,
    )
    return await do_ingest(client.app[ACTIONS_KEY], inbound)


_ROW = re.compile(r'data-testid="conversation-row" data-conversation-id="([^"]+)"')
_MESSAGE = re.compile(r'data-testid="message" data-message-id="([^"]+)"')


def row_ids(html: str) -> list[str]:
    """Conversation ids of the list's rows, in page order."""
    return _ROW.findall(html)


def message_ids(html: str) -> list[str]:
    """Message ids of the shown messages, in page order."""
    return _MESSAGE.findall(html)


async def page(client: Client, path: str, status: int = 200) -> str:
    """A page's HTML, checking its status."""
    resp = await client.get(path, allow_redirects=False)
    text = await resp.text()
    assert resp.status == status, f"{path}: {resp.status} {text[:300]}"
    return text


async def post_form(client: Client, path: str, csrf: str, **fields: str) -> tuple[int, str, str]:
    """(status, Location, body) of a form post with the CSRF token, redirects not followed."""
    resp = await client.post(path, data={**fields, "csrf_token": csrf}, allow_redirects=False)
    return resp.status, resp.headers.get("Location", ""), await resp.text()


class SocketBrowser(Browser):
    """A second browser that can also open websockets (with its own cookies)."""

    async def ws_connect(self, path: str, **kwargs: Any) -> ClientWebSocketResponse:
        return await self._session.ws_connect(self._client.make_url(path), **kwargs)
