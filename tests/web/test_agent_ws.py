"""The agents' websocket /ws: live events filtered by visibility, resume, presence, typing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from hub.actions import (
    do_merge,
    do_note,
    do_typing,
    do_undo_merge,
    do_update_agent,
    do_update_customer,
)
from hub.config import HubConfig
from hub.errors import StoreUnavailable
from hub.events import EventType
from hub.keys import ACTIONS_KEY, BUS_KEY, STORE_KEY
from hub.presence import PresenceState
from hub.web.agent_ws import FORWARDED, VISIBILITY_CHANGES, YIELD_EVERY
from tests.conftest import World
from tests.web.inbox_world import MANUAL_ROUTING, SocketBrowser, inbox_world, ingest
from tests.web.signin import sign_in

WAIT = 3.0
GRACE = 0.1


@pytest.fixture
def access_mode(request: pytest.FixtureRequest) -> str:
    """`access.customers` (a test parametrizes it indirectly; default: shared)."""
    return str(getattr(request, "param", "shared"))


@pytest.fixture
def config(make_config: Callable[..., HubConfig], access_mode: str) -> HubConfig:
    return make_config(
        **MANUAL_ROUTING,
        HUB_PRESENCE_OFFLINE_GRACE_SECONDS=str(GRACE),
        HUB_EVENTS_REPLAY_SIZE="50",
        HUB_ACCESS_CUSTOMERS=access_mode,
    )


@pytest.fixture
async def world(client: TestClient) -> World:
    return await inbox_world(client)


def origin(client: TestClient) -> str:
    return str(client.make_url("/")).rstrip("/")


@dataclass
class Live:
    """One tab's socket, with the frames read so far."""

    ws: ClientWebSocketResponse
    hello: dict[str, Any] = field(default_factory=dict)
    kept: list[dict[str, Any]] = field(default_factory=list)

    async def read(self, within: float = WAIT) -> dict[str, Any]:
        async with asyncio.timeout(within):
            msg = await self.ws.receive()
        assert msg.type == WSMsgType.TEXT, f"socket closed: {msg}"
        frame: dict[str, Any] = msg.json()
        return frame

    async def event(self, name: str, **match: Any) -> dict[str, Any]:
        """The next event frame of this name whose data has these values."""
        async with asyncio.timeout(WAIT):
            while True:
                frame = await self.read()
                self.kept.append(frame)
                if frame["type"] == "event" and frame["event"] == name:
                    if all(frame["data"].get(k) == v for k, v in match.items()):
                        return frame

    async def reply(self, kind: str) -> dict[str, Any]:
        """The next frame of this type (an answer to a client frame), skipping events."""
        async with asyncio.timeout(WAIT):
            while True:
                frame = await self.read()
                self.kept.append(frame)
                if frame["type"] == kind:
                    return frame

    async def close_code(self) -> int:
        """Read until the server closes the socket; its close code."""
        async with asyncio.timeout(WAIT):
            while True:
                msg = await self.ws.receive()
                if msg.type != WSMsgType.TEXT:
                    assert msg.type == WSMsgType.CLOSE, msg
                    return int(msg.data)

    async def quiet(self, seconds: float = 0.3) -> list[dict[str, Any]]:
        """Every frame that arrives within `seconds`."""
        frames = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    frames.append(await self.read())
        except TimeoutError:
            pass
        self.kept += frames
        return frames


async def open_live(browser: TestClient | SocketBrowser, path: str, **kwargs: Any) -> Live:
    """Open a socket with this browser's cookies and read its hello."""
    ws = await browser.ws_connect(path, **kwargs)
    live = Live(ws=ws)
    live.hello = await live.read()
    assert live.hello["type"] == "hello"
    return live


@pytest.fixture
async def as_admin(client: TestClient, world: World) -> AsyncIterator[Live]:
    await sign_in(client, "admin@hub.test")
    live = await open_live(client, "/ws", origin=origin(client))
    yield live
    await live.ws.close()


@dataclass
class Tabs:
    """A browser signed in as one agent; each `open()` is another tab's socket."""

    client: TestClient
    browser: SocketBrowser

    async def open(self, path: str = "/ws") -> Live:
        return await open_live(self.browser, path, origin=origin(self.client))


@pytest.fixture
async def agent_a(client: TestClient, world: World) -> AsyncIterator[Tabs]:
    """The team-A agent in a second browser."""
    async with SocketBrowser(client) as browser:
        await sign_in(browser, "a@hub.test")
        yield Tabs(client, browser)


# --- refusals -----------------------------------------------------------------------------


async def test_an_anonymous_socket_is_refused(client: TestClient, world: World) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", origin=origin(client))
    assert refused.value.status == 401


@pytest.mark.parametrize("bad", ["https://evil.example", "null", ""])
async def test_a_socket_from_another_origin_is_refused(
    client: TestClient, world: World, bad: str
) -> None:
    await sign_in(client, "admin@hub.test")
    headers = {"Origin": bad} if bad else {}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws", headers=headers)
    assert refused.value.status == 403


async def test_a_bad_resume_id_is_refused(client: TestClient, world: World) -> None:
    await sign_in(client, "admin@hub.test")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws?since=abc", origin=origin(client))
    assert refused.value.status == 422


async def test_a_deactivated_agents_socket_is_closed(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    live = await agent_a.open()
    await do_update_agent(client.app[ACTIONS_KEY], world.agent_a.id, active=False)
    assert await live.close_code() == 4403


# --- live events --------------------------------------------------------------------------


async def test_a_new_message_arrives_live(client: TestClient, world: World, as_admin: Live) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com", text="hi there")
    created = await as_admin.event("conversation.created")
    assert created["data"]["conversation"]["id"] == found.conversation.id
    frame = await as_admin.event("message.created", conversation_id=found.conversation.id)
    assert frame["data"]["message"]["id"] == found.message.id
    assert frame["data"]["message"]["text"] == "hi there"
    assert frame["id"] > as_admin.hello["last_id"]


async def test_events_of_an_invisible_inbox_never_arrive(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    live = await agent_a.open()
    theirs = await ingest(client, world.inbox_b, sender="two@example.com", text="secret")
    await do_typing(client.app[ACTIONS_KEY], theirs.conversation.id)
    mine = await ingest(client, world.inbox_a, sender="one@example.com")
    await live.event("message.created", conversation_id=mine.conversation.id)
    await live.quiet(0.2)
    shown = str(live.kept)
    assert theirs.conversation.id not in shown and "secret" not in shown


async def test_a_team_change_changes_what_the_socket_gets(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    live = await agent_a.open()
    team_b = world.inbox_b.team_id
    assert team_b
    await do_update_agent(client.app[ACTIONS_KEY], world.agent_a.id, team_ids=[team_b])
    now_theirs = await ingest(client, world.inbox_b, sender="two@example.com")
    await live.event("message.created", conversation_id=now_theirs.conversation.id)


async def test_a_mention_goes_only_to_the_mentioned_agent(
    client: TestClient, world: World, as_admin: Live, agent_a: Tabs
) -> None:
    found = await ingest(client, world.api_inbox, sender="kari@example.com")
    live_a = await agent_a.open()
    note = await do_note(
        client.app[ACTIONS_KEY], found.conversation.id, author_id=world.admin.id, text="@a look"
    )
    frame = await live_a.event("note.mention", conversation_id=found.conversation.id)
    assert frame["data"]["agent_ids"] == [world.agent_a.id]
    assert frame["data"]["message"]["id"] == note.id
    await as_admin.event("message.created", conversation_id=found.conversation.id)
    await as_admin.quiet(0.2)
    assert not [f for f in as_admin.kept if f.get("event") == "note.mention"]


# --- resume -------------------------------------------------------------------------------


async def test_resume_by_last_event_id_has_no_gaps_and_no_duplicates(
    client: TestClient, world: World, as_admin: Live
) -> None:
    first = await ingest(client, world.api_inbox, sender="one@example.com")
    frame = await as_admin.event("message.created", conversation_id=first.conversation.id)
    last_seen = frame["id"]
    await as_admin.ws.close()
    missed = [await ingest(client, world.api_inbox, sender=f"m{i}@example.com") for i in range(3)]
    live = await open_live(client, f"/ws?since={last_seen}", origin=origin(client))
    await live.event("message.created", conversation_id=missed[-1].conversation.id)
    await live.ws.close()
    events = [f for f in live.kept if f["type"] == "event"]
    got = [f["id"] for f in events]
    backlog = client.app[BUS_KEY].since(last_seen) or []
    expected = [e.id for e in backlog if e.type in FORWARDED and e.id <= got[-1]]
    assert got == expected and len(got) == len(set(got))
    delivered = {f["data"]["message"]["id"] for f in events if f["event"] == "message.created"}
    assert delivered == {m.message.id for m in missed}


async def test_a_burst_longer_than_one_pump_run_arrives_whole_in_order(
    client: TestClient, as_admin: Live
) -> None:
    bus = client.app[BUS_KEY]
    count = YIELD_EVERY * 2 + 5  # the pump yields to the loop between runs of queued events
    ids = [
        bus.publish(EventType.AGENT_PRESENCE, {"agent_id": f"agt_{n}", "state": "online"}).id
        for n in range(count)
    ]
    await as_admin.event("agent.presence", agent_id=f"agt_{count - 1}")
    await as_admin.quiet(0.1)
    got = [f["id"] for f in as_admin.kept if f.get("event") == "agent.presence"]
    assert [i for i in got if i in set(ids)] == ids


async def test_a_long_burst_lets_other_tasks_run_between_runs_of_the_pump(
    client: TestClient, as_admin: Live
) -> None:
    bus = client.app[BUS_KEY]
    (sub,) = [s for s in bus._subscribers if s._types == FORWARDED | VISIBILITY_CHANGES]
    count = YIELD_EVERY * 3
    for n in range(count):
        bus.publish(EventType.AGENT_PRESENCE, {"agent_id": f"agt_{n}", "state": "online"})
    seen = []  # what is still queued each time this task gets a turn
    while sub._queue:
        seen.append(len(sub._queue))
        await asyncio.sleep(0)
    assert any(0 < left < count - 1 for left in seen), seen  # it yielded mid-burst
    await as_admin.event("agent.presence", agent_id=f"agt_{count - 1}")


@pytest.mark.parametrize("access_mode", ["shared", "team"], indirect=True)
async def test_customer_changes_arrive_as_ids_only_where_the_customer_is_visible(
    client: TestClient, world: World, as_admin: Live, agent_a: Tabs
) -> None:
    live = await agent_a.open()
    mine = await ingest(client, world.inbox_a, sender="one@example.com")
    theirs = await ingest(client, world.inbox_b, sender="two@example.com")
    actions = client.app[ACTIONS_KEY]
    await do_update_customer(actions, theirs.customer.id, attributes={"secret": "b-only"})
    await do_update_customer(actions, mine.customer.id, attributes={"plan": "pro"})
    frame = await live.event("customer.updated")
    assert frame["data"] == {"customer_ids": [mine.customer.id]}  # no attributes, no name
    await live.quiet(0.2)
    assert theirs.customer.id not in str(live.kept) and "b-only" not in str(live.kept)
    seen = await as_admin.event("customer.updated", customer_ids=[theirs.customer.id])
    assert seen["data"] == {"customer_ids": [theirs.customer.id]}

    other = await ingest(client, world.inbox_a, sender="three@example.com")
    record = await do_merge(actions, mine.customer.id, other.customer.id, actor_id=None)
    merged = await live.event("customer.merged")
    assert merged["data"] == {"customer_ids": [mine.customer.id, other.customer.id]}
    await do_undo_merge(actions, record.id)
    assert (await live.event("customer.unmerged"))["data"] == merged["data"]


async def test_tabs_sharing_inboxes_ask_the_store_once_per_customer_event(
    client: TestClient, world: World, agent_a: Tabs, monkeypatch: pytest.MonkeyPatch
) -> None:
    tabs = [await agent_a.open() for _ in range(3)]
    mine = await ingest(client, world.inbox_a, sender="one@example.com")
    store = client.app[STORE_KEY]
    asked: list[object] = []
    original = store.customer_inbox_ids

    async def counting(customer_ids: Any) -> Any:
        asked.append(customer_ids)
        return await original(customer_ids)

    monkeypatch.setattr(store, "customer_inbox_ids", counting)
    await do_update_customer(client.app[ACTIONS_KEY], mine.customer.id, tags=["vip"])
    for tab in tabs:
        await tab.event("customer.updated", customer_ids=[mine.customer.id])
    assert len(asked) == 1


async def test_a_failed_customer_lookup_skips_the_event_and_keeps_the_socket(
    client: TestClient, world: World, agent_a: Tabs, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await agent_a.open()
    mine = await ingest(client, world.inbox_a, sender="one@example.com")
    store = client.app[STORE_KEY]
    original = store.customer_inbox_ids
    failures = [1]

    async def flaky(customer_ids: Any) -> Any:
        if failures[0]:
            failures[0] -= 1
            raise StoreUnavailable("the reader is busy")
        return await original(customer_ids)

    monkeypatch.setattr(store, "customer_inbox_ids", flaky)
    actions = client.app[ACTIONS_KEY]
    await do_update_customer(actions, mine.customer.id, tags=["first"])
    await do_update_customer(actions, mine.customer.id, tags=["second"])
    frame = await live.event("customer.updated")  # the second one: the socket stayed open
    assert frame["id"] == client.app[BUS_KEY].last_id
    assert not live.ws.closed


async def test_resuming_from_beyond_the_replay_buffer_asks_for_a_resync(
    client: TestClient, world: World
) -> None:
    for i in range(30):  # each ingest publishes at least two events; the buffer keeps 50
        await ingest(client, world.api_inbox, sender=f"c{i}@example.com")
    await sign_in(client, "admin@hub.test")
    live = await open_live(client, "/ws?since=1", origin=origin(client))
    frame = await live.read()
    assert frame == {"type": "resync", "last_id": client.app[BUS_KEY].last_id}
    fresh = await ingest(client, world.api_inbox, sender="after@example.com")
    await live.event("message.created", conversation_id=fresh.conversation.id)
    await live.ws.close()


# --- presence and typing ------------------------------------------------------------------


async def test_presence_goes_online_then_offline_after_the_grace_period(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    presence = client.app[ACTIONS_KEY].presence
    changes = client.app[BUS_KEY].subscribe(types=[EventType.AGENT_PRESENCE])
    live = await agent_a.open()
    online = await asyncio.wait_for(changes.get(), WAIT)
    assert online.data == {"agent_id": world.agent_a.id, "state": "online", "previous": "offline"}
    await live.ws.close()
    await asyncio.sleep(GRACE / 3)
    assert presence.state(world.agent_a.id) == PresenceState.ONLINE  # within the grace period
    offline = await asyncio.wait_for(changes.get(), WAIT)
    assert offline.data["state"] == "offline"
    changes.close()


async def test_the_hello_lists_who_is_online(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    tab = await agent_a.open()
    await sign_in(client, "admin@hub.test")
    live = await open_live(client, "/ws", origin=origin(client))
    assert live.hello["presence"] == {world.agent_a.id: "online", world.admin.id: "online"}
    await live.ws.close()
    await tab.ws.close()


async def test_an_agent_is_away_only_when_every_tab_is(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    presence = client.app[ACTIONS_KEY].presence
    one, two = await agent_a.open(), await agent_a.open()
    await one.ws.send_json({"type": "away", "away": True})
    await one.ws.send_json({"type": "ping"})
    await one.reply("pong")  # the away frame was handled before it
    assert presence.state(world.agent_a.id) == PresenceState.ONLINE
    await two.ws.send_json({"type": "away", "away": True})
    await two.ws.send_json({"type": "ping"})
    await two.reply("pong")
    assert presence.state(world.agent_a.id) == PresenceState.AWAY
    await two.ws.close()
    await asyncio.sleep(0.05)
    assert presence.state(world.agent_a.id) == PresenceState.AWAY  # the last tab is away too


async def test_agent_typing_reaches_colleagues_but_not_the_typist(
    client: TestClient, world: World, as_admin: Live, agent_a: Tabs
) -> None:
    found = await ingest(client, world.inbox_a, sender="kari@example.com")
    live_a = await agent_a.open()
    cid = found.conversation.id
    await live_a.ws.send_json({"type": "typing", "conversation_id": cid, "typing": True})
    frame = await as_admin.event("conversation.typing", conversation_id=cid)
    assert frame["data"]["who"] == "agent" and frame["data"]["agent_id"] == world.agent_a.id
    await live_a.quiet(0.2)
    assert not [f for f in live_a.kept if f.get("event") == "conversation.typing"]


async def test_typing_in_another_teams_conversation_is_refused(
    client: TestClient, world: World, agent_a: Tabs
) -> None:
    theirs = await ingest(client, world.inbox_b, sender="two@example.com")
    live = await agent_a.open()
    await live.event("agent.presence")  # the agent's own arrival
    published = client.app[BUS_KEY].last_id
    await live.ws.send_json({"type": "typing", "conversation_id": theirs.conversation.id})
    frame = await live.reply("error")
    assert frame["code"] == "not_your_team"
    assert client.app[BUS_KEY].last_id == published  # no typing event went out


async def test_a_malformed_frame_gets_an_error_and_the_socket_stays_open(
    client: TestClient, world: World, as_admin: Live
) -> None:
    await as_admin.ws.send_str("not json")
    assert (await as_admin.reply("error"))["code"] == "invalid_frame"
    await as_admin.ws.send_json({"type": "dance"})
    assert (await as_admin.reply("error"))["code"] == "unknown_type"
    await as_admin.ws.send_json({"type": "ping"})
    await as_admin.reply("pong")
