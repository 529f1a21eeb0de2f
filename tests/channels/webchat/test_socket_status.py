"""Typing both ways, queue position and wait, online/offline, and the offline email capture."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient

from hub.actions import do_assign, do_create_customer, do_typing
from hub.events import EventType
from hub.keys import ACTIONS_KEY, BUS_KEY, STORE_KEY
from hub.model import IdentityKind, Inbox, utcnow
from tests.channels.webchat.conftest import make_agent, open_chat


async def test_visitor_typing_is_an_event_agents_see(client: TestClient, inbox: Inbox) -> None:
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "hello")
    subscription = client.app[BUS_KEY].subscribe(types=[EventType.CONVERSATION_TYPING])
    await tab.send(type="typing", typing=True)
    async with asyncio.timeout(2):
        event = await subscription.get()
    assert dict(event.data) == {
        "conversation_id": ack["conversation_id"],
        "who": "customer",
        "agent_id": None,
        "typing": True,
    }
    await tab.send(type="typing", typing=False)
    async with asyncio.timeout(2):
        assert (await subscription.get()).data["typing"] is False


async def test_visitor_typing_before_any_message_publishes_nothing(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    subscription = client.app[BUS_KEY].subscribe(types=[EventType.CONVERSATION_TYPING])
    await tab.send(type="typing", typing=True)
    assert [f for f in await tab.quiet(0.2) if f["type"] == "error"] == []
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.2):
            await subscription.get()


async def test_agent_typing_reaches_the_visitor(client: TestClient, inbox: Inbox) -> None:
    agent = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "hello")
    ctx = client.app[ACTIONS_KEY]
    await do_typing(ctx, ack["conversation_id"], agent_id=agent.id, typing=True)
    assert await tab.next("typing") == {"type": "typing", "who": "agent", "typing": True}
    await do_typing(ctx, ack["conversation_id"], agent_id=agent.id, typing=False)
    assert (await tab.next("typing"))["typing"] is False


async def test_visitor_does_not_see_its_own_typing_echoed(client: TestClient, inbox: Inbox) -> None:
    tab = await open_chat(client, inbox.id)
    await tab.say("c1", "hello")
    await tab.send(type="typing", typing=True)
    assert [f for f in await tab.quiet(0.3) if f["type"] == "typing"] == []


async def test_queue_position_counts_waiting_conversations_oldest_first(
    client: TestClient, inbox: Inbox
) -> None:
    agent = await make_agent(client)
    first = await open_chat(client, inbox.id)
    second = await open_chat(client, inbox.id)
    ack1 = await first.say("c1", "I was here first")
    await second.say("c1", "me second")
    assert (await first.next("status", queue_position=1))["assigned"] is False
    await second.next("status", queue_position=2)
    await do_assign(client.app[ACTIONS_KEY], ack1["conversation_id"], agent_id=agent.id)
    status = await first.next("status", assigned=True)
    assert (status["agent_name"], status["queue_position"]) == ("Alice Agent", None)
    await second.next("status", queue_position=1)


async def test_estimated_wait_uses_the_online_agents(client: TestClient, inbox: Inbox) -> None:
    agents = [await make_agent(client, f"Agent{n} X") for n in range(2)]
    tabs = [await open_chat(client, inbox.id) for _ in range(3)]
    for n, tab in enumerate(tabs):
        await tab.say("c1", f"visitor {n}")
    third = await tabs[2].next("status", queue_position=3)
    assert (third["online"], third["estimated_wait_seconds"]) == (False, None)
    presence = client.app[ACTIONS_KEY].presence
    presence.connect(agents[0].id)
    third = await tabs[2].next("status", online=True)
    assert third["estimated_wait_seconds"] == 3 * 180  # ceil(3 / 1 agent) x 180 s
    presence.connect(agents[1].id)
    third = await tabs[2].next("status", estimated_wait_seconds=2 * 180)  # ceil(3 / 2)
    assert third["queue_position"] == 3


async def test_offline_mode_follows_agent_presence(client: TestClient, inbox: Inbox) -> None:
    agent = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    assert (await tab.next("status"))["online"] is False
    presence = client.app[ACTIONS_KEY].presence
    presence.connect(agent.id)
    await tab.next("status", online=True)
    presence.set_away(agent.id)  # away agents take no chats: offline mode again
    await tab.next("status", online=False)
    presence.set_away(agent.id, away=False)
    await tab.next("status", online=True)
    presence.disconnect(agent.id)  # grace period is 0.05 s in these tests
    await tab.next("status", online=False)


async def test_agents_of_another_team_do_not_make_the_inbox_online(client: TestClient) -> None:
    store = client.app[STORE_KEY]
    team = await store.create_team("Sales", now=utcnow())
    inbox = await store.create_inbox(
        name="Sales chat", channel="webchat", team_id=team.id, config={}, now=utcnow()
    )
    outsider = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    await tab.next("status", online=False)
    client.app[ACTIONS_KEY].presence.connect(outsider.id)
    statuses = [f for f in await tab.quiet(0.3) if f["type"] == "status"]
    assert all(s["online"] is False for s in statuses)


async def test_offline_email_becomes_an_identity_of_the_same_customer(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "nobody is here")
    await tab.send(type="email", address="Visitor@Example.COM")
    saved = await tab.next("email_saved")
    assert saved == {"type": "email_saved", "address": "visitor@example.com"}
    store = client.app[STORE_KEY]
    conversation = await store.get_conversation(ack["conversation_id"])
    assert conversation is not None
    email = await store.find_identity(IdentityKind.EMAIL, "visitor@example.com")
    assert email is not None and email.customer_id == conversation.customer_id


async def test_email_left_before_any_message_is_on_the_customer_of_later_messages(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    await tab.send(type="email", address="early@example.com")
    await tab.next("email_saved")
    ack = await tab.say("c1", "and now my question")
    store = client.app[STORE_KEY]
    conversation = await store.get_conversation(ack["conversation_id"])
    email = await store.find_identity(IdentityKind.EMAIL, "early@example.com")
    assert conversation is not None and email is not None
    assert email.customer_id == conversation.customer_id


async def test_email_of_another_customer_is_not_merged_and_not_revealed(
    client: TestClient, inbox: Inbox
) -> None:
    ctx = client.app[ACTIONS_KEY]
    owner = await do_create_customer(
        ctx, name="Existing Owner", identities=[(IdentityKind.EMAIL, "taken@example.com")]
    )
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "hi")
    await tab.send(type="email", address="taken@example.com")
    error = await tab.next("error")
    assert error["code"] == "email_not_attached"
    assert owner.customer.id not in error["message"]
    assert "Existing Owner" not in error["message"]
    store = client.app[STORE_KEY]
    identity = await store.find_identity(IdentityKind.EMAIL, "taken@example.com")
    assert identity is not None and identity.customer_id == owner.customer.id
    conversation = await store.get_conversation(ack["conversation_id"])
    assert conversation is not None and conversation.customer_id != owner.customer.id
    # same answer for a visitor with no message yet (the create-customer path)
    fresh = await open_chat(client, inbox.id)
    await fresh.send(type="email", address="taken@example.com")
    assert (await fresh.next("error"))["message"] == error["message"]
