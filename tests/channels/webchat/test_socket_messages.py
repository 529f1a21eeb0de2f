"""Visitor messages: acked after the durable write, deduped on resend, resumed without gaps."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from hub.actions import do_note
from hub.config import HubConfig
from hub.config_checks import sqlite_path
from hub.keys import ACTIONS_KEY, STORE_KEY
from hub.model import Inbox
from tests.channels.webchat.conftest import (
    Chat,
    agent_reply,
    make_agent,
    open_chat,
    stored_messages,
)


def committed(config: HubConfig, message_id: str) -> bool:
    """Whether another connection to the file sees the message (it is committed)."""
    with sqlite3.connect(sqlite_path(config.store.url)) as conn:
        row = conn.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone()
    return row is not None


async def live_ids(chat: Chat, count: int) -> list[str]:
    """The ids of the next `count` live message frames."""
    return [(await chat.next("message"))["message"]["id"] for _ in range(count)]


async def test_ack_comes_after_the_message_is_durable(
    client: TestClient, inbox: Inbox, config: HubConfig
) -> None:
    chat = await open_chat(client, inbox.id)
    for n in range(5):
        ack = await chat.say(f"c{n}", f"hello {n}")
        assert committed(config, ack["id"])  # checked the moment the ack arrives
    assert await stored_messages(client) == 5


async def test_resend_of_the_same_client_id_is_deduped(client: TestClient, inbox: Inbox) -> None:
    chat = await open_chat(client, inbox.id)
    first = await chat.say("c1", "did this arrive?")
    again = await chat.say("c1", "did this arrive?")  # the ack was lost; the widget resends
    assert again["id"] == first["id"]
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert await stored_messages(client) == 1


async def test_resend_after_reconnect_is_deduped(client: TestClient, inbox: Inbox) -> None:
    chat = await open_chat(client, inbox.id)
    first = await chat.say("c1", "one")
    await chat.close()
    again = await open_chat(client, inbox.id, token=chat.welcome["token"])
    assert (await again.say("c1", "one"))["id"] == first["id"]
    assert await stored_messages(client) == 1


async def test_two_visitors_with_the_same_client_id_are_not_deduped(
    client: TestClient, inbox: Inbox
) -> None:
    one = await open_chat(client, inbox.id)
    two = await open_chat(client, inbox.id)
    assert (await one.say("c1", "a"))["id"] != (await two.say("c1", "b"))["id"]


async def test_resume_after_reconnect_has_no_gaps_and_no_duplicates(
    client: TestClient, inbox: Inbox
) -> None:
    agent = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    await tab.send(type="resume", after=None)
    assert (await tab.next("history"))["messages"] == []
    first = await tab.say("c1", "first")
    second = await tab.say("c2", "second")
    assert await live_ids(tab, 2) == [first["id"], second["id"]]
    conversation = first["conversation_id"]
    token = tab.welcome["token"]
    await tab.close()
    # while the tab is away: two agent replies, and the visitor writes from another tab
    r1 = await agent_reply(client, conversation, agent, "reply one")
    r2 = await agent_reply(client, conversation, agent, "reply two")
    other = await open_chat(client, inbox.id, token=token)
    third = await other.say("c3", "third, from the other tab")
    await other.close()
    back = await open_chat(client, inbox.id, token=token)
    await back.send(type="resume", after=second["id"])
    history = await back.next("history")
    assert [m["id"] for m in history["messages"]] == [r1, r2, third["id"]]
    assert history["reset"] is False
    assert [m["from"] for m in history["messages"]] == ["agent", "agent", "visitor"]
    r3 = await agent_reply(client, conversation, agent, "reply three, live")
    assert await live_ids(back, 1) == [r3]
    later = [f for f in await back.quiet(0.5) if f["type"] in ("message", "history")]
    assert later == []


async def test_resume_from_an_unknown_id_resets_to_the_recent_history(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "hello")
    intruder = await open_chat(client, inbox.id)
    await intruder.send(type="resume", after=ack["id"])  # someone else's message id
    history = await intruder.next("history")
    assert history == {"type": "history", "messages": [], "reset": True}
    await tab.send(type="resume", after="msg_does_not_exist")
    history = await tab.next("history")
    assert history["reset"] is True
    assert [m["id"] for m in history["messages"]] == [ack["id"]]


async def test_agent_reply_reaches_the_widget_live(client: TestClient, inbox: Inbox) -> None:
    agent = await make_agent(client, "Bob Builder")
    tab = await open_chat(client, inbox.id)
    await tab.send(type="resume", after=None)
    await tab.next("history")
    ack = await tab.say("c1", "anyone there?")
    await tab.next("message")  # the visitor's own message
    reply_id = await agent_reply(client, ack["conversation_id"], agent, "Yes, Bob here")
    frame = (await tab.next("message"))["message"]
    assert frame["id"] == reply_id
    assert (frame["from"], frame["author"]) == ("agent", "Bob Builder")
    assert frame["text"] == "Yes, Bob here"
    store = client.app[STORE_KEY]

    async def status() -> str | None:
        message = await store.get_message(reply_id)
        return message.delivery_status if message is not None else None

    for _ in range(50):  # the outbox records the send right after pushing it
        if await status() == "sent":
            break
        await asyncio.sleep(0.02)
    assert await status() == "sent"


async def test_agent_reply_to_an_offline_visitor_arrives_on_resume(
    client: TestClient, inbox: Inbox
) -> None:
    agent = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    ack = await tab.say("c1", "I will be back")
    await tab.close()
    reply_id = await agent_reply(client, ack["conversation_id"], agent, "Answer while away")
    back = await open_chat(client, inbox.id, token=tab.welcome["token"])
    await back.send(type="resume", after=ack["id"])
    assert [m["id"] for m in (await back.next("history"))["messages"]] == [reply_id]


async def test_notes_never_reach_the_visitor(client: TestClient, inbox: Inbox) -> None:
    agent = await make_agent(client)
    tab = await open_chat(client, inbox.id)
    await tab.send(type="resume", after=None)
    await tab.next("history")
    ack = await tab.say("c1", "hello")
    await tab.next("message")
    ctx = client.app[ACTIONS_KEY]
    await do_note(ctx, ack["conversation_id"], author_id=agent.id, text="SECRET internal note")
    reply = await agent_reply(client, ack["conversation_id"], agent, "public answer")
    frames: list[dict[str, Any]] = [await tab.next("message")]
    frames += await tab.quiet(0.4)
    assert [f["message"]["id"] for f in frames if f["type"] == "message"] == [reply]
    assert "SECRET" not in str(frames)
    again = await open_chat(client, inbox.id, token=tab.welcome["token"])
    await again.send(type="resume", after=None)
    history = await again.next("history")
    assert [m["id"] for m in history["messages"]] == [ack["id"], reply]
    assert "SECRET" not in str(history)


async def test_visitor_message_reaches_the_visitors_other_tabs(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    await tab.send(type="resume", after=None)
    await tab.next("history")
    other = await open_chat(client, inbox.id, token=tab.welcome["token"])
    await other.send(type="resume", after=None)
    await other.next("history")
    ack = await tab.say("c1", "typed in tab one")
    frame = (await other.next("message"))["message"]
    assert (frame["id"], frame["client_id"], frame["from"]) == (ack["id"], "c1", "visitor")


async def test_returning_visitor_lands_in_the_same_conversation(
    client: TestClient, inbox: Inbox
) -> None:
    first = await open_chat(client, inbox.id)
    ack = await first.say("c1", "hello, it's me")
    await first.close()
    back = await open_chat(client, inbox.id, token=first.welcome["token"])
    assert back.welcome["visitor_id"] == first.welcome["visitor_id"]
    await back.send(type="resume", after=None)
    assert [m["text"] for m in (await back.next("history"))["messages"]] == ["hello, it's me"]
    again = await back.say("c2", "me again")
    assert again["conversation_id"] == ack["conversation_id"]
    stranger = await open_chat(client, inbox.id)  # no token: a new visitor
    assert (await stranger.say("c1", "hi"))["conversation_id"] != ack["conversation_id"]


async def test_shutdown_closes_visitor_sockets_so_widgets_reconnect(
    client: TestClient, inbox: Inbox
) -> None:
    tab = await open_chat(client, inbox.id)
    await client.app.shutdown()  # what the server runs before waiting for its handlers
    async with asyncio.timeout(3):
        msg = await tab.ws.receive()
        while msg.type == WSMsgType.TEXT:
            msg = await tab.ws.receive()
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert tab.ws.close_code == 1001
