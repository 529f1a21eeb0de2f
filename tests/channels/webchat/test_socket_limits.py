"""Limits behind one shared address: connections per address, messages per visitor."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import ClientSession, ClientWebSocketResponse, TCPConnector, WSServerHandshakeError
from aiohttp.test_utils import TestClient

from channels.webchat.adapter import WebchatChannel
from hub.app import create_app
from hub.config import HubConfig
from hub.keys import CHANNELS_KEY
from hub.model import Inbox
from tests.channels.webchat.conftest import (
    WAIT_SECONDS,
    Chat,
    connect,
    make_inbox,
    open_chat,
    stored_messages,
)


def webchat(client: TestClient) -> WebchatChannel:
    channel = client.app[CHANNELS_KEY]["webchat"]
    assert isinstance(channel, WebchatChannel)
    return channel


def socket_path(inbox: Inbox) -> str:
    return f"/api/v1/webchat/ws?inbox={inbox.id}"


async def refusal(client: TestClient, inbox: Inbox) -> tuple[int, str, dict[str, Any]]:
    """A refused connection attempt: status, Retry-After and the JSON error."""
    async with client.get(socket_path(inbox)) as response:  # refused before any upgrade
        return response.status, response.headers.get("Retry-After", ""), await response.json()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 3.0) -> None:
    """Wait until `check` holds (a closed socket is released by the server a moment later)."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def can_connect(client: TestClient, inbox: Inbox) -> bool:
    try:
        ws = await client.ws_connect(socket_path(inbox))
    except WSServerHandshakeError as exc:
        assert exc.status == 429
        return False
    await ws.close()
    return True


@asynccontextmanager
async def office(
    client: TestClient, inbox: Inbox, people: int, *, message: bool
) -> AsyncIterator[list[Chat]]:
    """`people` widgets from one address, all open at once: each says hello (and a message)."""
    # a session of its own: the test client's pool holds at most 100 connections
    async with ClientSession(connector=TCPConnector(limit=0)) as session:

        async def person(n: int) -> Chat:
            async with asyncio.timeout(WAIT_SECONDS):
                chat = Chat(ws=await session.ws_connect(client.make_url(socket_path(inbox))))
            await chat.send(type="hello")
            chat.welcome = await chat.next("welcome")
            if message:
                assert (await chat.say(f"c{n}", f"hello from desk {n}"))["duplicate"] is False
            return chat

        chats: list[Chat] = []
        for start in range(0, people, 100):  # waves of 100 handshakes, as a browser crowd
            wave = range(start, min(people, start + 100))
            chats += await asyncio.gather(*(person(n) for n in wave))
        yield chats


async def test_default_limits_refuse_no_hello_of_hundreds_from_one_address(
    client: TestClient, inbox: Inbox
) -> None:
    async with office(client, inbox, 500, message=False) as chats:
        assert len(chats) == 500
        assert not [f for chat in chats for f in chat.frames if f["type"] == "error"]


async def test_an_office_within_scaled_down_limits_is_all_accepted(client: TestClient) -> None:
    # the 2,000 visitors at one address, and the default limits, divided by 10 (the
    # full size passes too, in 15 s): 200 people fill the burst exactly, under the cap
    inbox = await make_inbox(
        client, ip_connect_burst=200, ip_connect_per_second=2.0, ip_max_connections=400
    )
    async with office(client, inbox, 200, message=True) as chats:
        assert await stored_messages(client) == 200
        assert not [f for chat in chats for f in chat.frames if f["type"] == "error"]


async def test_connections_past_the_rate_are_refused_with_429_and_retry_after(
    client: TestClient,
) -> None:
    inbox = await make_inbox(client, ip_connect_burst=3, ip_connect_per_second=0.01)
    for _ in range(3):
        await (await connect(client, inbox.id)).close()
    status, retry_after, body = await refusal(client, inbox)
    assert status == 429
    assert body["error"]["code"] == "connection_rate_limited"
    assert "too many new chat connections" in body["error"]["message"]
    assert int(retry_after) == body["error"]["details"]["retry_after"] >= 99  # 1 / 0.01 s
    with pytest.raises(WSServerHandshakeError) as caught:
        await client.ws_connect(socket_path(inbox))
    assert caught.value.status == 429


async def test_connection_rate_refills_at_its_rate(client: TestClient) -> None:
    inbox = await make_inbox(client, ip_connect_burst=1, ip_connect_per_second=1.0)
    await (await connect(client, inbox.id)).close()
    assert not await can_connect(client, inbox)
    await asyncio.sleep(1.05)  # one token back after 1 s
    assert await can_connect(client, inbox)


async def test_a_repeated_hello_on_one_socket_costs_a_connection(client: TestClient) -> None:
    inbox = await make_inbox(client, ip_connect_burst=2, ip_connect_per_second=0.01)
    chat = await open_chat(client, inbox.id)  # the connection paid for this hello
    await chat.send(type="hello", token=chat.welcome["token"])
    assert (await chat.next("welcome"))["visitor_id"] == chat.welcome["visitor_id"]
    await chat.send(type="hello", token=chat.welcome["token"])  # the burst of 2 is spent
    error = await chat.next("error")
    assert error["code"] == "rate_limited"
    assert "hellos" in error["message"]
    assert error["retry_after"] > 0


async def test_hellos_do_not_count_as_messages(client: TestClient) -> None:
    inbox = await make_inbox(client, visitor_burst=2, visitor_per_second=0.01)
    chat = await open_chat(client, inbox.id)
    for _ in range(3):  # the same visitor again (its token), three times
        await chat.send(type="hello", token=chat.welcome["token"])
        await chat.next("welcome")
    assert (await chat.say("c1", "first"))["id"]
    assert (await chat.say("c2", "second"))["id"]


async def test_open_socket_cap_refuses_the_next_and_a_close_frees_a_slot(
    client: TestClient,
) -> None:
    inbox = await make_inbox(client, ip_max_connections=3)
    chats = [await open_chat(client, inbox.id) for _ in range(3)]
    status, retry_after, body = await refusal(client, inbox)
    assert status == 429
    assert body["error"]["code"] == "too_many_connections"
    assert "3 chat connections open" in body["error"]["message"]
    assert int(retry_after) >= 1
    await chats[0].close()
    await eventually(lambda: can_connect(client, inbox))
    assert (await chats[1].say("c1", "the others still work"))["id"]


async def test_refused_connections_do_not_use_up_the_rate(client: TestClient) -> None:
    inbox = await make_inbox(
        client, ip_max_connections=1, ip_connect_burst=2, ip_connect_per_second=0.01
    )
    chat = await open_chat(client, inbox.id)  # token 1 of 2
    for _ in range(5):
        assert (await refusal(client, inbox))[2]["error"]["code"] == "too_many_connections"
    await chat.close()
    await eventually(lambda: can_connect(client, inbox))  # token 2: the refusals took none


async def _close_normally(client: TestClient, ws: ClientWebSocketResponse) -> None:
    await ws.close()


async def _drop_the_connection(client: TestClient, ws: ClientWebSocketResponse) -> None:
    await ws.send_json({"type": "hello"})
    ws._response.connection.transport.abort()  # type: ignore[union-attr]  # no close frame


async def _break_the_protocol(client: TestClient, ws: ClientWebSocketResponse) -> None:
    await ws.send_str("x" * 200_000)  # over the socket's max_msg_size: the server closes (1009)
    await ws.receive()


async def _shut_the_server_down(client: TestClient, ws: ClientWebSocketResponse) -> None:
    await webchat(client).close_connections()  # what shutdown does (1001)
    await ws.receive()


@pytest.mark.parametrize(
    "close_path",
    [_close_normally, _drop_the_connection, _break_the_protocol, _shut_the_server_down],
)
async def test_every_way_a_socket_ends_gives_its_slot_back(
    client: TestClient,
    close_path: Callable[[TestClient, ClientWebSocketResponse], Awaitable[None]],
) -> None:
    inbox = await make_inbox(client, ip_max_connections=1)
    for _ in range(3):  # with one slot, a single leak would refuse the next round
        ws = await client.ws_connect(socket_path(inbox))
        await close_path(client, ws)
        await eventually(lambda: can_connect(client, inbox))
    await eventually(lambda: _no_slot_held(client))


async def test_a_failed_upgrade_gives_its_slot_back(client: TestClient) -> None:
    inbox = await make_inbox(client, ip_max_connections=1)
    for _ in range(3):
        async with client.get(socket_path(inbox)) as response:  # no Upgrade header: 400
            assert response.status == 400
    assert await can_connect(client, inbox)
    assert await _no_slot_held(client)


async def _no_slot_held(client: TestClient) -> bool:
    return len(webchat(client).runtime.slots) == 0


async def test_a_visitor_sending_too_fast_is_limited_while_another_at_the_address_is_not(
    client: TestClient, inbox: Inbox
) -> None:
    flooder = await open_chat(client, inbox.id)  # default limits: a burst of 20, then 2/s
    for n in range(200):
        await flooder.send(type="message", client_id=f"f{n}", text=f"spam {n}")
    replies = [await flooder.answer(f"f{n}") for n in range(200)]
    codes = [r["code"] if r["type"] == "error" else r["type"] for r in replies]
    assert 20 <= codes.count("ack") < 40
    assert codes.count("rate_limited") == 200 - codes.count("ack")
    colleague = await open_chat(client, inbox.id)  # same address, right after the flood
    assert (await colleague.say("c1", "my own question"))["duplicate"] is False


@pytest.mark.parametrize("behind_proxy", [True, False])
async def test_per_address_limits_count_the_forwarded_address_only_behind_a_trusted_proxy(
    aiohttp_client: Callable[..., Any], make_config: Callable[..., HubConfig], behind_proxy: bool
) -> None:
    setting = "true" if behind_proxy else "false"
    client = await aiohttp_client(create_app(make_config(HUB_SERVER_BEHIND_PROXY=setting)))
    inbox = await make_inbox(client, ip_connect_burst=1, ip_connect_per_second=0.01)

    async def admitted(address: str) -> bool:
        headers = {"X-Forwarded-For": address}  # every socket comes from the proxy
        try:
            ws = await client.ws_connect(socket_path(inbox), headers=headers)
        except WSServerHandshakeError as exc:
            assert exc.status == 429
            return False
        await ws.close()
        return True

    assert await admitted("203.0.113.1")  # the first address uses its whole burst
    assert await admitted("203.0.113.2") is behind_proxy  # else: one shared address
    assert not await admitted("203.0.113.1")
