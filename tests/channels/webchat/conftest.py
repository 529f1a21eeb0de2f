"""Fixtures for the web chat: a hub with a webchat inbox, and a widget-like socket client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from hub.actions import do_create_inbox
from hub.config import HubConfig
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import Agent, Inbox, Role, utcnow

SECRET_KEY = "test-secret-key-for-webchat-tests-0123456789"
IDENTITY_SECRET = "site-identity-secret-0123456789"
WAIT_SECONDS = 3.0  # longest wait for an expected frame


@pytest.fixture
def config(make_config: Callable[..., HubConfig]) -> HubConfig:
    # manual routing: conversations stay in the queue unless a test assigns them
    return make_config(
        HUB_SECRET_KEY=SECRET_KEY,
        HUB_ROUTING_POLICY="manual",
        HUB_PRESENCE_OFFLINE_GRACE_SECONDS="0.05",
    )


async def make_inbox(client: TestClient, **config: Any) -> Inbox:
    """A webchat inbox with these settings (through the action: its secret is sealed)."""
    return await do_create_inbox(
        client.app[ACTIONS_KEY], name="Website", channel="webchat", team_id=None, config=config
    )


async def make_agent(client: TestClient, name: str = "Alice Agent") -> Agent:
    store = client.app[STORE_KEY]
    return await store.create_agent(
        email=f"{name.split()[0].lower()}@hub.test",
        name=name,
        role=Role.AGENT,
        password_hash=None,
        team_ids=[],
        now=utcnow(),
    )


@pytest.fixture
async def inbox(client: TestClient) -> Inbox:
    return await make_inbox(client)


async def stored_messages(client: TestClient) -> int:
    return (await client.app[STORE_KEY].counts())["messages"]


async def store_counts(client: TestClient) -> dict[str, int]:
    """Every record count of the store: a refused frame must change none of them."""
    return await client.app[STORE_KEY].counts()


@dataclass
class Chat:
    """A visitor's socket, with the frames received so far kept by type."""

    ws: ClientWebSocketResponse
    frames: list[dict[str, Any]] = field(default_factory=list)
    welcome: dict[str, Any] = field(default_factory=dict)

    async def send(self, **frame: Any) -> None:
        await self.ws.send_json(frame)

    async def next(self, type_: str, **match: Any) -> dict[str, Any]:
        """The next frame of this type (and these field values); earlier others are kept."""
        return await self._first(
            lambda f: f["type"] == type_ and all(f.get(k) == v for k, v in match.items()), type_
        )

    async def answer(self, client_id: str) -> dict[str, Any]:
        """The frame (ack or error) that answers the message `client_id`."""
        return await self._first(lambda f: f.get("client_id") == client_id, client_id)

    async def _first(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        for index, frame in enumerate(self.frames):
            if wanted(frame):
                return self.frames.pop(index)
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                msg = await self.ws.receive()
                if msg.type != WSMsgType.TEXT:
                    raise AssertionError(f"socket closed while waiting for {what}: {msg}")
                frame = msg.json()
                if wanted(frame):
                    return frame
                self.frames.append(frame)

    async def quiet(self, seconds: float = 0.2) -> list[dict[str, Any]]:
        """Every frame that arrives within `seconds` (plus those kept)."""
        out, self.frames = self.frames, []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    msg = await self.ws.receive()
                    if msg.type != WSMsgType.TEXT:
                        break
                    out.append(msg.json())
        except TimeoutError:
            pass
        return out

    async def say(self, client_id: str, text: str) -> dict[str, Any]:
        """Send a message and wait for its ack."""
        await self.send(type="message", client_id=client_id, text=text)
        return await self.next("ack", client_id=client_id)

    async def close(self) -> None:
        await self.ws.close()


async def connect(client: TestClient, inbox_id: str) -> Chat:
    ws = await client.ws_connect(f"/api/v1/webchat/ws?inbox={inbox_id}")
    return Chat(ws=ws)


async def open_chat(client: TestClient, inbox_id: str, **hello: Any) -> Chat:
    """Connect and say hello (no resume yet); the welcome frame is kept on the Chat."""
    chat = await connect(client, inbox_id)
    await chat.send(type="hello", **hello)
    chat.welcome = await chat.next("welcome")
    return chat


async def agent_reply(client: TestClient, conversation_id: str, agent: Agent, text: str) -> str:
    from hub.actions import do_reply

    result = await do_reply(client.app[ACTIONS_KEY], conversation_id, author_id=agent.id, text=text)
    return result.message.id
